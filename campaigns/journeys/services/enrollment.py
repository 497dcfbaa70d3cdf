"""Enrolling customers into journeys: audience entry and event triggers, paged by key."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, Max, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.db.models.sql.constants import CURSOR

from campaigns.journeys.selectors.segments import segment_customers
from campaigns.models import Campaign, CampaignKind, Enrollment, EnrollmentStatus, Step, Trigger
from customers.models import Activity, ActivityType, Customer, Order
from customers.selectors import customers_mailable

ORDER_PLACED = "order_placed"
TRIGGER_EVENTS = [ORDER_PLACED, *ActivityType.values]


def is_holdout(*, campaign_id: int, customer_id: int, percent: int) -> bool:
    """Stable control-group draw: the same customer is always in or out of a campaign's holdout."""
    digest = hashlib.sha256(f"{campaign_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < percent


def trigger_event_types(campaign: Campaign) -> list[str]:
    return [part.strip() for part in campaign.trigger_event.split(",") if part.strip()]


def _events(event_types: list[str], since: datetime, until: datetime) -> list[QuerySet]:
    sources: list[QuerySet] = []
    activity_types = [t for t in event_types if t != ORDER_PLACED]
    if activity_types:
        sources.append(Activity.objects.filter(type__in=activity_types, occurred_at__gte=since, occurred_at__lte=until))
    if ORDER_PLACED in event_types:
        sources.append(Order.objects.filter(placed_at__gte=since, placed_at__lte=until))
    return sources


def _not_recently_enrolled(qs: QuerySet[Customer], campaign: Campaign, now: datetime) -> QuerySet[Customer]:
    recent_or_active = Q(entered_at__gt=now - timedelta(days=campaign.reentry_days)) | Q(status=EnrollmentStatus.ACTIVE)
    return qs.exclude(Exists(Enrollment.objects.filter(recent_or_active, campaign=campaign, customer=OuterRef("pk"))))


def _with_next_entry(qs: QuerySet[Customer], campaign: Campaign) -> QuerySet[Customer]:
    """Each candidate's entry number: one more than their last entry into this campaign."""
    last = Enrollment.objects.filter(campaign=campaign, customer=OuterRef("pk")).order_by("-entry").values("entry")[:1]
    return qs.annotate(next_entry=Coalesce(Subquery(last), Value(0)) + 1)


def _first_due(campaign: Campaign, entered_at: datetime) -> datetime:
    first = Step.objects.filter(campaign=campaign).order_by("position").first()
    return entered_at + campaign.trigger_delay + (first.delay if first else timedelta())


def enrollments_create_for_audience(*, campaign: Campaign, now: datetime) -> int:
    """Enrol everyone mailable in the segment who has not entered within the re-entry period."""
    candidates = _not_recently_enrolled(customers_mailable(segment_customers(campaign.segment, now=now)), campaign, now)
    due_at = _first_due(campaign, now)
    rows = _with_next_entry(candidates, campaign).values_list("pk", "next_entry")
    return _insert_pages(campaign, rows, lambda _stamp: (now, due_at))


def enrollments_create_for_events(*, campaign: Campaign, now: datetime) -> int:
    """Enrol customers whose trigger event happened recently and after their last entry."""
    event_types = trigger_event_types(campaign)
    since = now - timedelta(hours=settings.JOURNEY_EVENT_LOOKBACK_HOURS)
    sources = _events(event_types, since, now)
    if not sources:
        return 0
    candidates = customers_mailable(segment_customers(campaign.segment, now=now))
    latest_parts = []
    for source in sources:
        stamp = "placed_at" if source.model is Order else "occurred_at"
        mine = source.filter(customer=OuterRef("pk"))
        latest_parts.append(Subquery(mine.order_by(f"-{stamp}").values(stamp)[:1]))
    has_event = Exists(sources[0].filter(customer=OuterRef("pk")))
    for source in sources[1:]:
        has_event |= Exists(source.filter(customer=OuterRef("pk")))
    candidates = candidates.filter(has_event)
    if len(latest_parts) == 1:
        candidates = candidates.annotate(event_at=latest_parts[0])
    else:  # Greatest is NULL on SQLite when any part is NULL, hence the Coalesce
        candidates = candidates.annotate(event_at=Greatest(*(Coalesce(part, Value(since)) for part in latest_parts)))
    already = Enrollment.objects.filter(
        campaign=campaign, customer=OuterRef("pk"), entered_at__gte=OuterRef("event_at")
    )
    candidates = _not_recently_enrolled(candidates.exclude(Exists(already)), campaign, now)
    rows = _with_next_entry(candidates, campaign).values_list("pk", "next_entry", "event_at")
    first = Step.objects.filter(campaign=campaign).order_by("position").first()
    offset = campaign.trigger_delay + (first.delay if first else timedelta())
    return _insert_pages(campaign, rows, lambda event_at: (event_at, event_at + offset))


def _plain_rows(rows: QuerySet, size: int) -> Iterator[list]:
    """The query's rows, in customer id order, read window by window of ids.

    Each window (JOURNEY_SCAN_WINDOW customer ids) is one ordinary SELECT, fetched `size` rows at
    a time: Python holds one chunk and the driver at most one window's ids, whatever the
    audience. Each window repeats the query's joins, so windows are large (one query up to a
    million customers). Not QuerySet.iterator(): on PostgreSQL that declares a server-side cursor, which
    the planner optimises for the first rows and never runs in parallel; on the candidate
    queries (anti-joins over customers, orders and enrollments) that made the idle tick three
    times slower than the same SELECT.
    """
    bounds = Customer.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return
    window = settings.JOURNEY_SCAN_WINDOW
    for start in range(bounds["low"], bounds["high"] + 1, window):
        part = rows.filter(pk__gte=start, pk__lt=start + window)
        compiler = part.query.get_compiler(using=part.db)
        cursor = compiler.execute_sql(CURSOR)
        if cursor is None:  # the query cannot match anything (e.g. an empty IN list)
            return
        try:
            yield from compiler.results_iter(results=iter(lambda cursor=cursor: cursor.fetchmany(size), []))
        finally:
            cursor.close()


def _insert_pages(campaign: Campaign, rows: QuerySet, timing) -> int:
    """Insert enrollments in batches of JOURNEY_PAGE_SIZE, each one INSERT.

    rows: (customer id, entry number[, event time]) in customer id order.
    """
    size = settings.JOURNEY_PAGE_SIZE
    created, batch = 0, []
    for row in _plain_rows(rows.order_by("pk"), size):
        customer_id, entry, stamp = row if len(row) == 3 else (*row, None)
        entered_at, due_at = timing(stamp)
        batch.append(
            Enrollment(
                campaign=campaign,
                customer_id=customer_id,
                entry=entry,
                entered_at=entered_at,
                due_at=due_at,
                next_step=1,
                is_holdout=is_holdout(
                    campaign_id=campaign.pk, customer_id=customer_id, percent=campaign.holdout_percent
                ),
            )
        )
        if len(batch) == size:
            Enrollment.objects.bulk_create(batch)
            created, batch = created + len(batch), []
    if batch:
        Enrollment.objects.bulk_create(batch)
    return created + len(batch)


def enrollments_create(*, campaign: Campaign, now: datetime) -> int:
    if campaign.kind == CampaignKind.ONE_OFF:  # sent by staff ("send now"), never enrolled by the tick
        return 0
    if campaign.trigger == Trigger.AUDIENCE:
        return enrollments_create_for_audience(campaign=campaign, now=now)
    if campaign.trigger == Trigger.EVENT:
        return enrollments_create_for_events(campaign=campaign, now=now)
    return 0
