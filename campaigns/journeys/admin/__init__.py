"""Admin for journeys: segments with a live count, recipes, results, deferrals and coupons."""

from campaigns.journeys.admin import bookkeeping, results, segments  # noqa: F401
