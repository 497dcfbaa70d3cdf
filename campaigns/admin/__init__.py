"""Admin for campaigns. Each module registers its own models."""

from campaigns.admin import campaigns, messages, templates  # noqa: F401
