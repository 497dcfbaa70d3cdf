"""Hand-written SQL baselines for bench/scheduler_tick.py: what the tick and the segment count rest on.

The segment count baseline is the win-back rule written by hand. The tick baseline is the set
of reads one tick cannot avoid, written by hand for the bench's four journeys, fetching the ids
it would act on: enrollments whose goal (an order) happened since entry, each audience
journey's members not enrolled within the re-entry period, each event journey's customers
with a recent trigger event and no entry since, and the active enrollments that are due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from campaigns.models import Campaign

WIN_BACK_WHERE = """c.orders_count >= 2 AND c.last_order_at IS NOT NULL AND c.mean_days_between_orders > 0
    AND EXTRACT(EPOCH FROM (%(now)s - c.last_order_at)) / 86400.0 > c.mean_days_between_orders * 2"""
LOYALTY_WHERE = """c.total_spent >= 1500 AND EXISTS (
    SELECT 1 FROM customers_orderitem i JOIN customers_order o ON o.id = i.order_id
    WHERE o.customer_id = c.id AND i.category = 'cat-3')"""
NOT_ENROLLED = """NOT EXISTS (
    SELECT 1 FROM campaigns_enrollment e WHERE e.campaign_id = %(campaign)s AND e.customer_id = c.id
    AND (e.status = 'active' OR e.entered_at > %(reentry)s))"""
NO_ENTRY_SINCE = """NOT EXISTS (
    SELECT 1 FROM campaigns_enrollment e WHERE e.campaign_id = %(campaign)s AND e.customer_id = c.id
    AND e.entered_at >= %(since)s)"""
RECENT_ORDER = "EXISTS (SELECT 1 FROM customers_order o WHERE o.customer_id = c.id AND o.placed_at >= %(since)s)"
RECENT_CART = """EXISTS (SELECT 1 FROM customers_activity a WHERE a.customer_id = c.id
    AND a.type = 'cart_updated' AND a.occurred_at >= %(since)s)"""


def win_back_count(now: datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM customers_customer c WHERE {WIN_BACK_WHERE}", {"now": now})
        return cursor.fetchone()[0]


def tick_queries(now: datetime) -> list[tuple[str, dict]]:
    """(sql, params) for each read of one tick over the bench journeys, by campaign name."""
    since = now - timedelta(hours=settings.JOURNEY_EVENT_LOOKBACK_HOURS)
    queries = [
        (
            """SELECT e.id FROM campaigns_enrollment e WHERE e.status = 'active' AND EXISTS (
                   SELECT 1 FROM customers_order o
                   WHERE o.customer_id = e.customer_id AND o.placed_at > e.entered_at)""",
            {},
        )
    ]
    entry = {
        "Win-back": f"{WIN_BACK_WHERE} AND {NOT_ENROLLED}",
        "Loyalty": f"{LOYALTY_WHERE} AND {NOT_ENROLLED}",
        "Cross-sell": f"{RECENT_ORDER} AND {NO_ENTRY_SINCE}",
        "Cart": f"{RECENT_CART} AND {NO_ENTRY_SINCE}",
    }
    for campaign in Campaign.objects.filter(name__in=entry):
        params = {"now": now, "since": since, "campaign": campaign.pk}
        params["reentry"] = now - timedelta(days=campaign.reentry_days)
        queries.append((f"SELECT c.id FROM customers_customer c WHERE {entry[campaign.name]}", params))
    queries.append(
        (
            """SELECT e.id, e.campaign_id, e.customer_id, e.next_step FROM campaigns_enrollment e
               WHERE e.status = 'active' AND e.due_at <= %(now)s""",
            {"now": now},
        )
    )
    return queries


def tick_reads(now: datetime) -> int:
    """Run the tick's hand-written reads; returns how many rows they fetched."""
    rows = 0
    with connection.cursor() as cursor:
        for sql, params in tick_queries(now):
            cursor.execute(sql, params)
            rows += len(cursor.fetchall())
    return rows
