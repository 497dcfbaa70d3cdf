"""The marketing dashboard: mail, human engagement, revenue and deliverability over a period.

Each figure is one set-based query (grouped by day or by campaign), and the whole overview is
cached for ADMIN_DASHBOARD_CACHE_SECONDS per period, so a page load is a cache read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from campaigns.journeys.models import Attribution
from campaigns.journeys.selectors.results import campaign_incrementality
from campaigns.models import Campaign, CampaignStatus
from campaigns.selectors.engagement_counts import engagement_counts
from customers.metrics.dashboard import metrics_overview
from tracking.selectors.feedback import temporary_block_count
from tracking.selectors.stats import Stats

PERIODS = (7, 30, 90)
COUNTED = ("sent", "delivered", "bounced", "opened_human", "clicked_human", "opened_all", "clicked_all")
COUNTED += ("unsubscribed", "complained")


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Health:
    name: str
    rate: float | None
    amber: float
    red: float
    note: str

    @property
    def level(self) -> str:
        if self.rate is None:
            return "none"
        return "red" if self.rate >= self.red else "amber" if self.rate >= self.amber else "green"


def _totals(rows: list[Stats]) -> dict[str, int]:
    return {name: sum(getattr(row, name) for row in rows) for name in COUNTED}


def _rates(totals: dict[str, int]) -> dict[str, float | None]:
    base = totals["delivered"] or totals["sent"]
    return {
        "open_rate_human": _rate(totals["opened_human"], base),
        "click_rate_human": _rate(totals["clicked_human"], base),
        "open_rate_all": _rate(totals["opened_all"], base),
        "click_rate_all": _rate(totals["clicked_all"], base),
        "bounce_rate": _rate(totals["bounced"], totals["sent"]),
        "complaint_rate": _rate(totals["complained"], base),
        "unsubscribe_rate": _rate(totals["unsubscribed"], base),
    }


def deliverability_health(rates: dict[str, float | None]) -> list[Health]:
    return [
        Health(
            "Spam complaints",
            rates["complaint_rate"],
            settings.ADMIN_COMPLAINT_AMBER,
            settings.ADMIN_COMPLAINT_RED,
            "Gmail and Yahoo reject bulk senders at 0.3%; stay under 0.1%.",
        ),
        Health(
            "Bounces",
            rates["bounce_rate"],
            settings.ADMIN_BOUNCE_AMBER,
            settings.ADMIN_BOUNCE_RED,
            "A high bounce rate means stale addresses; ESPs suspend senders above a few percent.",
        ),
        Health(
            "Unsubscribes",
            rates["unsubscribe_rate"],
            settings.ADMIN_UNSUBSCRIBE_AMBER,
            settings.ADMIN_UNSUBSCRIBE_RED,
            "Rising unsubscribes mean too much mail or the wrong mail.",
        ),
    ]


def _days(since: date, today: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((today - since).days + 1)]


def _incremental(campaign_ids: list[int]) -> dict[int, dict]:
    """Incremental revenue per campaign: revenue per customer lift times treated customers (with its CI)."""
    found = {}
    for campaign in Campaign.objects.filter(pk__in=campaign_ids, holdout_percent__gt=0):
        lift = cache.get(f"campaign-incrementality:{campaign.pk}")
        if lift is None:
            lift = campaign_incrementality(campaign)
            cache.set(f"campaign-incrementality:{campaign.pk}", lift, settings.ADMIN_DASHBOARD_CACHE_SECONDS)
        n = lift.treatment.customers
        low, high = lift.revenue_lift.low, lift.revenue_lift.high
        found[campaign.pk] = {
            "value": lift.revenue_lift.value * n,
            "low": low * n if low is not None else None,
            "high": high * n if high is not None else None,
        }
    return found


def _daily_counts() -> dict[tuple, dict[str, int]]:
    """Counts per (campaign, day sent) over the longest period, shared by every period (one pass)."""
    key = "admin-dashboard:v1:daily-counts"
    found = cache.get(key)
    if found is None:
        now = timezone.now()
        start = timezone.localdate(now) - timedelta(days=max(PERIODS) - 1)
        since = timezone.make_aware(datetime.combine(start, time.min))
        where = {"is_test": False, "campaign__isnull": False, "sent_at__gte": since}
        found = engagement_counts(where=where, fields=["campaign_id"], by_day=True, since=since)
        cache.set(key, found, settings.ADMIN_DASHBOARD_CACHE_SECONDS)
    return found


def _fold(counts: dict[tuple, dict[str, int]]) -> tuple[dict[date, Stats], dict[int, Stats]]:
    """(campaign, day) counts -> per day and per campaign (each message has one campaign and one day)."""
    days: dict = {}
    campaigns: dict = {}
    for (campaign_id, day), row in counts.items():
        for target, key in ((days, day), (campaigns, campaign_id)):
            bucket = target.setdefault(key, dict.fromkeys(COUNTED, 0))
            for name in COUNTED:
                bucket[name] += row[name]
    return (
        {key: Stats(key, **row) for key, row in days.items()},
        {key: Stats(key, **row) for key, row in campaigns.items()},
    )


def _compute(days: int) -> dict:
    now = timezone.now()
    today = timezone.localdate(now)
    since_day = today - timedelta(days=days - 1)
    since = now - timedelta(days=days)
    counts = {key: row for key, row in _daily_counts().items() if key[1] is not None and key[1] >= since_day}
    by_day, by_campaign = _fold(counts)
    attributed = Attribution.objects.filter(order__placed_at__gte=since)
    revenue_by_day = dict(
        attributed.annotate(day=TruncDate("order__placed_at")).values_list("day").annotate(r=Sum("revenue")).order_by()
    )
    revenue_by_campaign = {
        row["campaign_id"]: row
        for row in attributed.values("campaign_id").annotate(revenue=Sum("revenue"), orders=Count("pk")).order_by()
    }
    campaign_ids = sorted(set(by_campaign) | set(revenue_by_campaign))
    incremental = _incremental(campaign_ids)
    names = dict(Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", "name"))
    statuses = dict(Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", "status"))
    totals = _totals(list(by_day.values()))
    rates = _rates(totals)
    labels = _days(since_day, today)
    zero = Stats(None, *([0] * len(COUNTED)))
    per_campaign = []
    for pk in campaign_ids:
        row = by_campaign.get(pk, zero)
        row_rates = _rates(_totals([row]))
        per_campaign.append(
            {
                "id": pk,
                "name": names.get(pk, f"#{pk}"),
                "status": statuses.get(pk, ""),
                "status_label": CampaignStatus(statuses[pk]).label if pk in statuses else "",
                "sent": row.sent,
                "open_rate_human": row_rates["open_rate_human"],
                "click_rate_human": row_rates["click_rate_human"],
                "bounce_rate": row_rates["bounce_rate"],
                "complaint_rate": row_rates["complaint_rate"],
                "orders": revenue_by_campaign.get(pk, {}).get("orders", 0),
                "revenue": float(revenue_by_campaign.get(pk, {}).get("revenue") or 0),
                "incremental": incremental.get(pk),
            }
        )
    per_campaign.sort(key=lambda row: (-row["sent"], row["name"]))
    overview = metrics_overview()
    return {
        "days": days,
        "computed_at": now.isoformat(),
        "totals": totals,
        "rates": rates,
        "temporary_blocks": temporary_block_count(since=since),
        "revenue": float(sum(revenue_by_day.values(), Decimal("0"))),
        "incremental": sum(item["value"] for item in incremental.values()),
        "series": {
            "labels": [day.isoformat() for day in labels],
            "sent": [by_day[d].sent if d in by_day else 0 for d in labels],
            "opened_human": [by_day[d].opened_human if d in by_day else 0 for d in labels],
            "clicked_human": [by_day[d].clicked_human if d in by_day else 0 for d in labels],
            "opened_all": [by_day[d].opened_all if d in by_day else 0 for d in labels],
            "revenue": [float(revenue_by_day.get(d) or 0) for d in labels],
            "complaint_rate": [_rate(by_day[d].complained, by_day[d].sent) if d in by_day else None for d in labels],
            "bounce_rate": [_rate(by_day[d].bounced, by_day[d].sent) if d in by_day else None for d in labels],
        },
        "campaigns": per_campaign,
        "lifecycle": [{"key": b.key, "label": b.label, "count": b.count} for b in overview.by_stage],
        "customers": overview.customers,
    }


def dashboard_overview(*, days: int, fresh: bool = False) -> dict:
    """The dashboard's figures for the last `days` days (7, 30 or 90), from the cache when warm."""
    if days not in PERIODS:
        raise ValueError(f"days must be one of {PERIODS}")
    key = f"admin-dashboard:v2:{days}"
    found = None if fresh else cache.get(key)
    if found is None:
        found = _compute(days)
        cache.set(key, found, settings.ADMIN_DASHBOARD_CACHE_SECONDS)
    return found


def dashboard_warm() -> list[int]:
    """Recompute every period, and running campaigns' reports, into the cache (run by beat)."""
    from campaigns.selectors.campaign_page import campaign_reports_warm

    cache.delete_many(["admin-dashboard:v1:daily-counts"])
    cache.delete_many([f"campaign-incrementality:{pk}" for pk in Campaign.objects.values_list("pk", flat=True)])
    for days in PERIODS:
        dashboard_overview(days=days, fresh=True)
    campaign_reports_warm()
    return list(PERIODS)
