"""Engagement score: a decaying sum of human opens, human clicks, site activity and purchases.

score(T) = Σ weight_i · 0.5 ** ((T - t_i) / half_life)

Customer.engagement_score holds score(as_of), with `as_of` in EngagementState. Each new
contribution decays the stored score from `as_of` to the newest time seen and adds its own
decayed weight (`engagement_apply`); the nightly `engagement_recompute_all` rebuilds every
score from the raw rows in one set-based SQL statement with as_of = now. Both compute the
same sum, so they agree whenever they are evaluated at the same moment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from customers.models import Activity, Customer, Order
from tracking.models import EngagementState, TrackingEvent

Contribution = tuple[int, datetime, float]  # customer id, when, weight


def _half_life_seconds() -> float:
    return settings.ENGAGEMENT_HALF_LIFE_DAYS * 86400.0


def decay_factor(seconds: float) -> float:
    return 0.5 ** (max(seconds, 0.0) / _half_life_seconds())


def weight_for(kind: str) -> float:
    return {
        "open": settings.ENGAGEMENT_WEIGHT_OPEN,
        "click": settings.ENGAGEMENT_WEIGHT_CLICK,
        "activity": settings.ENGAGEMENT_WEIGHT_ACTIVITY,
        "order": settings.ENGAGEMENT_WEIGHT_ORDER,
    }[kind]


@transaction.atomic
def engagement_apply(*, contributions: Iterable[Contribution]) -> int:
    """Fold contributions into the stored scores (negative weights withdraw one). Returns customers updated."""
    by_customer: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    for customer_id, occurred_at, weight in contributions:
        if customer_id is not None and weight:
            by_customer[customer_id].append((occurred_at, weight))
    if not by_customer:
        return 0
    ids = sorted(by_customer)
    customers = list(
        Customer.objects.select_for_update()
        .filter(pk__in=ids)
        .only("id", "engagement_score", "last_engaged_at")
        .order_by("pk")
    )
    states = dict(EngagementState.objects.filter(customer_id__in=ids).values_list("customer_id", "as_of"))
    new_states = []
    for customer in customers:
        items = by_customer[customer.pk]
        as_of = states.get(customer.pk)
        reference = max([t for t, _w in items] + ([as_of] if as_of else []))
        score = customer.engagement_score * decay_factor((reference - as_of).total_seconds() if as_of else 0.0)
        score += sum(w * decay_factor((reference - t).total_seconds()) for t, w in items)
        customer.engagement_score = max(score, 0.0) if abs(score) > 1e-12 else 0.0
        engaged = [t for t, w in items if w > 0]
        if engaged and (customer.last_engaged_at is None or max(engaged) > customer.last_engaged_at):
            customer.last_engaged_at = max(engaged)
        new_states.append(EngagementState(customer_id=customer.pk, as_of=reference))
    Customer.objects.bulk_update(customers, ["engagement_score", "last_engaged_at"], batch_size=500)
    EngagementState.objects.bulk_create(
        new_states, update_conflicts=True, unique_fields=["customer"], update_fields=["as_of"]
    )
    return len(customers)


def customer_engagement_add(*, customer_id: int, kind: str, occurred_at: datetime) -> None:
    """Count one site activity ("activity") or purchase ("order") as it happens."""
    engagement_apply(contributions=[(customer_id, occurred_at, weight_for(kind))])


def _age_seconds_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM (%(now)s - {column}))"
    return f"((julianday(%(now)s) - julianday({column})) * 86400.0)"


def _contributions_sql() -> str:
    event, activity, order = TrackingEvent._meta.db_table, Activity._meta.db_table, Order._meta.db_table
    true = "TRUE" if connection.vendor == "postgresql" else "1"
    # Table names come from model metadata; every value is a query parameter.
    return f"""
        SELECT customer_id, occurred_at AS t,
               CASE kind WHEN 'open' THEN %(w_open)s ELSE %(w_click)s END AS w
          FROM {event} WHERE counts_as_human = {true} AND customer_id IS NOT NULL
        UNION ALL SELECT customer_id, occurred_at, %(w_activity)s FROM {activity}
        UNION ALL SELECT customer_id, placed_at, %(w_order)s FROM {order}
    """  # noqa: S608


@transaction.atomic
def engagement_recompute_all(*, now: datetime | None = None) -> int:
    """Rebuild every customer's score and last_engaged_at from raw rows, evaluated at `now`."""
    now = now or timezone.now()
    customer_table, state_table = Customer._meta.db_table, EngagementState._meta.db_table
    params = {
        "now": connection.ops.adapt_datetimefield_value(now),
        "half": _half_life_seconds(),
        "w_open": settings.ENGAGEMENT_WEIGHT_OPEN,
        "w_click": settings.ENGAGEMENT_WEIGHT_CLICK,
        "w_activity": settings.ENGAGEMENT_WEIGHT_ACTIVITY,
        "w_order": settings.ENGAGEMENT_WEIGHT_ORDER,
    }
    age = _age_seconds_sql("c.t")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {customer_table} SET engagement_score = 0 WHERE engagement_score <> 0")  # noqa: S608
        cursor.execute(
            f"""
            UPDATE {customer_table} SET engagement_score = agg.score, last_engaged_at = agg.last_t
              FROM (
                SELECT c.customer_id AS customer_id,
                       SUM(c.w * POWER(0.5, (CASE WHEN {age} > 0 THEN {age} ELSE 0 END) / %(half)s)) AS score,
                       MAX(c.t) AS last_t
                  FROM ({_contributions_sql()}) AS c
                 GROUP BY c.customer_id
              ) AS agg
             WHERE {customer_table}.id = agg.customer_id
            """,  # noqa: S608
            params,
        )
        updated = cursor.rowcount
        cursor.execute(f"UPDATE {state_table} SET as_of = %(now)s", params)  # noqa: S608
        cursor.execute(
            f"""
            INSERT INTO {state_table} (customer_id, as_of)
            SELECT id, %(now)s FROM {customer_table} cu
             WHERE cu.engagement_score <> 0
               AND NOT EXISTS (SELECT 1 FROM {state_table} s WHERE s.customer_id = cu.id)
            """,  # noqa: S608
            params,
        )
    return updated
