"""Admin for campaigns. Each module registers its own models."""

from campaigns.admin import sending, templates  # noqa: F401
