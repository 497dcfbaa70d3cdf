from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "campaigns.journeys"
    label = "journeys"
    verbose_name = "Lifecycle journeys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.journeys import receivers, timeline  # noqa: F401

        timeline.register()
