"""A campaign's results over time: mail sent, delivered, human opens and clicks, orders and revenue per day."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from campaigns.journeys.models import Attribution
from campaigns.models import Campaign
from campaigns.selectors.engagement_counts import engagement_counts

MAX_DAYS = 90
SERIES = ("sent", "delivered", "opened_human", "clicked_human")


def campaign_results_by_day(*, campaign: Campaign) -> dict:
    """Per day from the first send (at most the last MAX_DAYS days) to today.

    Opens and clicks are counted on the day their message was sent (a cohort per send day),
    orders and revenue on the day the attributed order was placed.
    """
    counts = engagement_counts(where={"campaign_id": campaign.pk, "is_test": False}, fields=[], by_day=True)
    by_day = {key[0]: row for key, row in counts.items() if key[0] is not None}
    orders = {
        row["day"]: row
        for row in Attribution.objects.filter(campaign=campaign)
        .annotate(day=TruncDate("order__placed_at"))
        .values("day")
        .annotate(orders=Count("pk"), revenue=Sum("revenue"))
        .order_by()
    }
    today = timezone.localdate()
    known = sorted(set(by_day) | set(orders))
    if not known:
        return {"labels": [], "rows": [], **{name: [] for name in (*SERIES, "orders", "revenue")}}
    start = max(known[0], today - timedelta(days=MAX_DAYS - 1))
    days = [start + timedelta(days=n) for n in range((max(today, known[-1]) - start).days + 1)]
    series: dict[str, list] = {name: [by_day.get(d, {}).get(name, 0) for d in days] for name in SERIES}
    series["orders"] = [orders.get(d, {}).get("orders", 0) for d in days]
    series["revenue"] = [float(orders.get(d, {}).get("revenue") or 0) for d in days]
    rows = [
        {"day": d, **{name: series[name][i] for name in (*SERIES, "orders", "revenue")}}
        for i, d in enumerate(days)
        if _active(d, by_day, orders)
    ]
    return {"labels": [d.isoformat() for d in days], "rows": rows, **series}


def _active(day: date, by_day: dict, orders: dict) -> bool:
    return day in orders or any(by_day.get(day, {}).get(name) for name in SERIES)
