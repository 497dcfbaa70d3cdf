"""Order figures stored on Customer, recomputed in SQL from the orders themselves."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Avg, Count, DecimalField, IntegerField, Max, Min, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from customers.models import Customer, Order

_CHUNK = 500


def _per_customer(aggregate, output_field=None) -> Subquery:
    rows = Order.objects.filter(customer=OuterRef("pk")).order_by().values("customer").annotate(v=aggregate)
    return Subquery(rows.values("v")[:1], output_field=output_field)


def customer_refresh_order_aggregates(*, customer_ids: Iterable[int] | None = None) -> int:
    """Recompute orders_count, total_spent, average_order_value, first_order_at and last_order_at.

    With no ids, every customer is refreshed. Returns the number of customers updated.
    """
    money = DecimalField(max_digits=14, decimal_places=2)
    values = {
        "orders_count": Coalesce(_per_customer(Count("pk")), Value(0), output_field=IntegerField()),
        "total_spent": Coalesce(_per_customer(Sum("total")), Value(Decimal("0")), output_field=money),
        "average_order_value": _per_customer(Avg("total", output_field=money), output_field=money),
        "first_order_at": _per_customer(Min("placed_at")),
        "last_order_at": _per_customer(Max("placed_at")),
    }
    if customer_ids is None:
        return Customer.objects.update(**values)
    ids = sorted(set(customer_ids))
    updated = 0
    for start in range(0, len(ids), _CHUNK):
        updated += Customer.objects.filter(pk__in=ids[start : start + _CHUNK]).update(**values)
    return updated
