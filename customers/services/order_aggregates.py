"""Order aggregates on Customer (count, spend, average, first/last order), recomputed in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, OuterRef

from customers.models import Customer, Order

_CHUNK = 5000  # ids per statement: well under SQLite's bound-parameter limit


def customer_order_aggregates_refresh(*, customer_ids: Iterable[int]) -> int:
    """Recompute the order aggregates of these customers; return how many have orders.

    Used by the CSV import, the event API, the demo data and the admin alike.

    One grouped pass over their orders feeds one UPDATE ... FROM (PostgreSQL, SQLite 3.33+),
    instead of a correlated subquery per column and customer. Totals add up order totals as
    stored, whatever their currency (shops sell in one).
    """
    ids = sorted(set(customer_ids))
    return sum(_refresh(ids[start : start + _CHUNK]) for start in range(0, len(ids), _CHUNK))


def _refresh(ids: list[int]) -> int:
    if not ids:
        return 0
    quote = connection.ops.quote_name
    customers, orders = quote(Customer._meta.db_table), quote(Order._meta.db_table)
    placeholders = ", ".join(["%s"] * len(ids))
    sql = f"""
        UPDATE {customers} SET
            orders_count = agg.n, total_spent = agg.s, average_order_value = agg.a,
            first_order_at = agg.f, last_order_at = agg.l
        FROM (
            SELECT customer_id AS cid, COUNT(*) AS n, SUM(total) AS s, ROUND(AVG(total), 2) AS a,
                   MIN(placed_at) AS f, MAX(placed_at) AS l
            FROM {orders} WHERE customer_id IN ({placeholders}) GROUP BY customer_id
        ) AS agg
        WHERE {customers}.id = agg.cid
    """  # noqa: S608 - table names come from model meta, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        with_orders = cursor.rowcount
    # Customers left without any order (an order moved to someone else, or deleted).
    Customer.objects.filter(pk__in=ids).exclude(orders_count=0).exclude(
        Exists(Order.objects.filter(customer=OuterRef("pk")))
    ).update(
        orders_count=0, total_spent=Decimal("0"), average_order_value=None, first_order_at=None, last_order_at=None
    )
    return with_orders
