"""Context for the dashboard on the admin index: thin, every figure comes from the dashboard selector."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from campaigns.selectors.dashboard import PERIODS, dashboard_overview, deliverability_health

DEFAULT_DAYS = 30


def dashboard_days(request: HttpRequest) -> int:
    raw = request.GET.get("days", "")
    return int(raw) if raw.isdigit() and int(raw) in PERIODS else DEFAULT_DAYS


def dashboard_context(request: HttpRequest) -> dict:
    """Staff who may view campaigns see the dashboard above the app list; others see the app list."""
    if not request.user.is_active or not request.user.has_perm("campaigns.view_campaign"):
        return {"dashboard": None}
    overview = dashboard_overview(days=dashboard_days(request))
    return {
        "dashboard": overview,
        "health": deliverability_health(overview["rates"]),
        "periods": PERIODS,
        "currency": settings.SHOP_CURRENCY,
        "chart_data": {
            "series": overview["series"],
            "lifecycle": overview["lifecycle"],
            "complaint_red": deliverability_health(overview["rates"])[0].red,
        },
    }
