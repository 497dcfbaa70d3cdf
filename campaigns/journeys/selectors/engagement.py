"""Human opens and clicks (verdicts from tracking) as subqueries for conditions and attribution."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from customers.models import Activity, Order
from tracking.models import EventKind, TrackingEvent

CONDITIONS = {
    "has_not_clicked": "No human click on this journey's messages since entry",
    "has_clicked": "A human click on this journey's messages since entry",
    "has_not_opened": "No human open (or click) on this journey's messages since entry",
    "has_opened": "A human open (or click) on this journey's messages since entry",
    "has_not_bought": "No order since entry",
    "is_lead": "true: has never ordered; false: has ordered",
}
# Timing, not a filter: the step is due this many hours before the trial's properties.ends_at.
TIMING_KEYS = {"before_trial_end_hours": "Due N hours before the trial ends (trial_started properties.ends_at)"}


def human_events(kinds: list[str]) -> QuerySet[TrackingEvent]:
    return TrackingEvent.objects.filter(kind__in=kinds, counts_as_human=True)


def _journey_engaged(kinds: list[str]) -> Exists:
    return Exists(human_events(kinds).filter(message__enrollment=OuterRef("pk")))


def condition_errors(condition: object) -> list[str]:
    if condition in (None, {}):
        return []
    if not isinstance(condition, dict):
        return ["condition: expected an object such as {'has_not_clicked': true}"]
    known = sorted([*CONDITIONS, *TIMING_KEYS])
    errors = [f"condition.{key}: unknown (use one of {known})" for key in condition if key not in known]
    for key, value in condition.items():
        if key in CONDITIONS and not isinstance(value, bool):
            errors.append(f"condition.{key}: expected true or false")
        if key in TIMING_KEYS and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            errors.append(f"condition.{key}: expected a whole number of hours")
    return errors


def condition_q(condition: dict) -> Q:
    """A Q over Enrollment that holds when every key of the step condition holds."""
    q = Q()
    for key, wanted in (condition or {}).items():
        if key in TIMING_KEYS:
            continue
        if key == "is_lead":
            q &= Q(customer__orders_count=0) if wanted else Q(customer__orders_count__gt=0)
            continue
        positive = key.replace("has_not_", "has_")
        if positive == "has_clicked":
            test = Q(_journey_engaged([EventKind.CLICK]))
        elif positive == "has_opened":
            test = Q(_journey_engaged([EventKind.OPEN, EventKind.CLICK]))
        elif positive == "has_bought":
            test = Q(
                Exists(Order.objects.filter(customer=OuterRef("customer_id"), placed_at__gte=OuterRef("entered_at")))
            )
        else:
            raise ValueError(f"unknown step condition {key!r}")
        negate = key.startswith("has_not_") ^ (not wanted)
        q &= ~test if negate else test
    return q


def event_since_entry(event_type: str) -> Exists:
    """Exists: the goal event happened to the enrollment's customer after it entered."""
    if event_type == "order_placed":
        qs = Order.objects.filter(customer=OuterRef("customer_id"), placed_at__gt=OuterRef("entered_at"))
    else:
        qs = Activity.objects.filter(
            customer=OuterRef("customer_id"), type=event_type, occurred_at__gt=OuterRef("entered_at")
        )
    return Exists(qs)
