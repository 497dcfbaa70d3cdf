"""Arbitration before a message is queued: frequency caps, quiet hours and sunset.

Campaigns are advanced in priority order within a tick, so when two journeys want the same
customer the higher-priority one takes the slot and the other is deferred to the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from campaigns.models import Message, MessageStatus
from customers.models import Customer

COUNTED_STATUSES = [MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.UNKNOWN]
DAY, WEEK = timedelta(days=1), timedelta(days=7)


@dataclass(frozen=True)
class CapVerdict:
    allowed: bool
    next_slot: datetime | None = None
    reason: str = ""


def cap_verdicts(*, customer_ids: list[int], now: datetime) -> dict[int, CapVerdict]:
    """Per customer: may one more marketing message be queued now, and if not, from when."""
    per_day, per_week = settings.FREQUENCY_CAP_PER_DAY, settings.FREQUENCY_CAP_PER_WEEK
    rows = (
        Message.objects.filter(
            customer_id__in=customer_ids, campaign__isnull=False, is_test=False, status__in=COUNTED_STATUSES
        )
        .annotate(slot=Coalesce("sent_at", "not_before", "created_at"))
        .filter(slot__gt=now - WEEK)
        .values("customer_id")
        .annotate(
            week=Count("id"),
            day=Count("id", filter=Q(slot__gt=now - DAY)),
            oldest_week=Min("slot"),
            oldest_day=Min("slot", filter=Q(slot__gt=now - DAY)),
        )
    )
    verdicts: dict[int, CapVerdict] = {}
    for row in rows:
        waits: list[tuple[datetime, str]] = []
        if per_day and row["day"] >= per_day:
            waits.append((row["oldest_day"] + DAY, f"frequency cap: {per_day} a day"))
        if per_week and row["week"] >= per_week:
            waits.append((row["oldest_week"] + WEEK, f"frequency cap: {per_week} a week"))
        if waits:
            until, reason = max(waits)
            verdicts[row["customer_id"]] = CapVerdict(False, max(until, now + timedelta(minutes=1)), reason)
    return verdicts


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def quiet_hours_end(*, tz_name: str, now: datetime) -> datetime | None:
    """When the customer's quiet hours end, or None if it is not quiet where they live."""
    start, end = settings.QUIET_HOURS_START, settings.QUIET_HOURS_END
    if start == end:
        return None
    local = now.astimezone(_zone(tz_name))
    hour = local.hour
    quiet = (hour >= start or hour < end) if start > end else (start <= hour < end)
    if not quiet:
        return None
    morning = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if morning <= local:
        morning += timedelta(days=1)
    return morning.astimezone(ZoneInfo("UTC"))


def sunset_customer_ids(*, customer_ids: list[int], now: datetime) -> set[int]:
    """Customers unengaged for SUNSET_DAYS, or never engaged after SUNSET_MIN_SENDS messages."""
    sent = (
        Message.objects.filter(customer=OuterRef("pk"), status=MessageStatus.SENT, is_test=False)
        .values("customer")
        .annotate(n=Count("id"))
        .values("n")
    )
    cutoff = now - timedelta(days=settings.SUNSET_DAYS)
    qs = (
        Customer.objects.filter(pk__in=customer_ids)
        .annotate(sent=Coalesce(Subquery(sent), 0))
        .filter(Q(last_engaged_at__lt=cutoff) | Q(last_engaged_at__isnull=True, sent__gte=settings.SUNSET_MIN_SENDS))
    )
    return set(qs.values_list("pk", flat=True))
