from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Tracking and ESP feedback"

    def ready(self) -> None:
        from tracking import checks, receivers, timeline  # noqa: F401

        timeline.register()
