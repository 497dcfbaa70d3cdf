"""Admin for tracking. Each module registers its own models."""

from tracking.admin import engagement, feedback  # noqa: F401
