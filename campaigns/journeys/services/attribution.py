"""Attribution: an order placed within the window after a human click (or open) goes to that message."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef, Subquery, Value
from django.utils import timezone

from campaigns.journeys.models import Attribution
from campaigns.journeys.selectors.engagement import human_events
from customers.models import Order
from tracking.models import EventKind, TrackingEvent


def orders_attribute(*, now: datetime | None = None, since: datetime | None = None) -> int:
    """Attribute recent unattributed orders to the last message touched before each; returns the count.

    Set-based: one SELECT with a correlated subquery per page of orders, one INSERT per page.
    """
    now = now or timezone.now()
    window = timedelta(days=settings.ATTRIBUTION_WINDOW_DAYS)
    since = since or now - window - timedelta(days=2)
    kinds = [EventKind.CLICK, EventKind.OPEN] if settings.ATTRIBUTION_ON_OPEN else [EventKind.CLICK]
    window_start = ExpressionWrapper(OuterRef("placed_at") - Value(window), output_field=DateTimeField())
    touches = (
        human_events(kinds)
        .filter(
            message__customer_id=OuterRef("customer_id"),
            message__campaign__isnull=False,
            message__is_test=False,
            occurred_at__lte=OuterRef("placed_at"),
            occurred_at__gte=window_start,
        )
        .order_by("-occurred_at", "-pk")
    )
    orders = (
        Order.objects.filter(placed_at__gte=since, placed_at__lte=now)
        .exclude(Exists(Attribution.objects.filter(order=OuterRef("pk"))))
        .annotate(touch_id=Subquery(touches.values("pk")[:1]))
        .filter(touch_id__isnull=False)
    )
    created, last_pk = 0, 0
    while True:
        page = list(orders.filter(pk__gt=last_pk).order_by("pk").values("pk", "total", "touch_id")[:2000])
        if not page:
            return created
        events = {
            e["pk"]: e
            for e in TrackingEvent.objects.filter(pk__in=[row["touch_id"] for row in page]).values(
                "pk", "message_id", "message__campaign_id", "message__step_id", "occurred_at", "kind"
            )
        }
        rows = []
        for row in page:
            event = events[row["touch_id"]]
            rows.append(
                Attribution(
                    order_id=row["pk"],
                    message_id=event["message_id"],
                    campaign_id=event["message__campaign_id"],
                    step_id=event["message__step_id"],
                    revenue=row["total"],
                    touched_at=event["occurred_at"],
                    touch=event["kind"],
                    created_at=now,
                )
            )
        Attribution.objects.bulk_create(rows, ignore_conflicts=True)
        created += len(rows)
        last_pk = page[-1]["pk"]
