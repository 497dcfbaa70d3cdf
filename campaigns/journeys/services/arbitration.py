"""Arbitration before a message is queued: frequency caps, quiet hours and sunset.

Sunset and win-back: promotional steps skip customers who stopped engaging, except that a
win-back campaign, which exists for exactly those people, may mail each sunset customer once
per lapse (since their last order). A second win-back message in the same lapse is skipped
as sunset; a new order starts a new lapse.

Campaigns are advanced in priority order within a tick, so when two journeys want the same
customer the higher-priority one takes the slot and the other is deferred to the next one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from campaigns.models import Campaign, CampaignKind, Message, MessageStatus
from customers.models import Customer, Order

COUNTED_STATUSES = [MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.UNKNOWN]
DAY, WEEK = timedelta(days=1), timedelta(days=7)


@dataclass(frozen=True)
class CapVerdict:
    allowed: bool
    next_slot: datetime | None = None
    reason: str = ""


def cap_verdicts(
    *, customer_ids: list[int], now: datetime, send_at: dict[int, datetime] | None = None
) -> dict[int, CapVerdict]:
    """Per customer: may one more marketing message go out at `send_at` (default now), and if not, when.

    A message's slot is when it was sent, or when it may be sent (not_before), or when it was
    queued. The caps are sliding windows: no more than N slots within any 24 hours / 7 days, so
    mail already waiting for tomorrow morning counts against a message that would go out then.
    """
    per_day, per_week = settings.FREQUENCY_CAP_PER_DAY, settings.FREQUENCY_CAP_PER_WEEK
    send_at = send_at or {}
    horizon = max([now, *send_at.values()])
    rows = (
        Message.objects.filter(
            customer_id__in=customer_ids, campaign__isnull=False, is_test=False, status__in=COUNTED_STATUSES
        )
        .annotate(slot=Coalesce("sent_at", "not_before", "created_at"))
        .filter(slot__gt=now - WEEK, slot__lt=horizon + WEEK)
        .values_list("customer_id", "slot")
    )
    slots: dict[int, list[datetime]] = defaultdict(list)
    for customer_id, slot in rows:
        slots[customer_id].append(slot)
    verdicts: dict[int, CapVerdict] = {}
    for customer_id, times in slots.items():
        at = send_at.get(customer_id, now)
        waits: list[tuple[datetime, str]] = []
        for cap, window, label in ((per_day, DAY, "a day"), (per_week, WEEK, "a week")):
            near = sorted(t for t in times if at - window < t < at + window)
            if cap and len(near) >= cap:
                # Past slots only: wait until enough of them age out. Slots ahead: go after the last.
                until = (near[-1] if near[-1] > at else near[len(near) - cap]) + window
                waits.append((until, f"frequency cap: {cap} {label}"))
        if waits:
            until, reason = max(waits)
            verdicts[customer_id] = CapVerdict(False, max(until, now + timedelta(minutes=1)), reason)
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


def win_back_sunset_refusals(*, customer_ids: list[int]) -> dict[int, str]:
    """Of these sunset customers, why a win-back message may not go to them; absent: it may (once per lapse).

    A lapse starts at the customer's last order; it is used up by any win-back message (of any
    win-back campaign) queued since then that is waiting, being sent or sent. Customers who
    never ordered have no lapse to win back.
    """
    last_order = Order.objects.filter(customer=OuterRef("pk")).values("customer").annotate(at=Max("placed_at"))
    used = Message.objects.filter(
        customer=OuterRef("pk"),
        campaign__kind=CampaignKind.WIN_BACK,
        is_test=False,
        status__in=COUNTED_STATUSES,
        created_at__gte=OuterRef("lapse_from"),
    )
    rows = (
        Customer.objects.filter(pk__in=customer_ids)
        .annotate(lapse_from=Subquery(last_order.values("at")))
        .annotate(used=Exists(used))
        .values_list("pk", "lapse_from", "used")
    )
    refusals = {}
    for pk, lapse_from, was_used in rows:
        if lapse_from is None:
            refusals[pk] = "no order to win back"
        elif was_used:
            refusals[pk] = f"win-back already mailed once since the last order ({lapse_from:%Y-%m-%d})"
    return refusals


SUNSET_WIN_BACK_EXCEPTION = "win-back once per lapse"


def sunset_rule_words(*, campaign: Campaign) -> str:
    """The sunset rule as it applies to this campaign, in staff's words (shown on the campaign page)."""
    rule = (
        f"Sunset: customers without a human open or click (or a site visit or order) in {settings.SUNSET_DAYS} "
        f"days, or never engaged after {settings.SUNSET_MIN_SENDS} sends, are not mailed, except win-back, "
        "which may mail each lapsed customer once per lapse (since their last order)."
    )
    if campaign.kind == CampaignKind.ONE_OFF:
        return f"{rule} One-off sends are not sunset: every mailable customer of the audience is mailed."
    if campaign.is_transactional:
        return f"{rule} This campaign is transactional, so sunset does not apply to it."
    if campaign.kind == CampaignKind.WIN_BACK:
        return (
            f"{rule} This is a win-back campaign: a sunset customer gets one win-back message per lapse "
            "(the step due first), later steps are skipped as sunset until they order again."
        )
    return f"{rule} This campaign follows it."
