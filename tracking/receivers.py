"""Signal receivers of the tracking app, connected in TrackingConfig.ready()."""

from tracking import receivers_engagement, signals_feedback  # noqa: F401
