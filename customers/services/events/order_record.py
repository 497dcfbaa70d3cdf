"""Store an order placed in the shop, idempotently on the shop's order id."""

from __future__ import annotations

from datetime import datetime

from customers.models import Customer, Order, OrderItem
from customers.services.events.product_upsert import ProductFacts, products_ensure
from customers.services.events.schemas import OrderPlaced
from customers.services.order_aggregates import customer_order_aggregates_refresh


def order_record(
    *, customer: Customer, event: OrderPlaced, occurred_at: datetime, refresh_aggregates: bool = True
) -> Order:
    """Create or update the order and replace its lines; products are created by sku when new.

    The order figures of the customer (and of a previous owner, if the order moved) are
    then recomputed from SQL, unless the caller does that once for many orders.
    """
    lines = event.items
    total = event.total if event.total is not None else sum((i.unit_price * i.quantity for i in lines), start=0)
    order, created = Order.objects.select_for_update().get_or_create(
        external_id=event.order_id,
        defaults={
            "customer": customer,
            "placed_at": event.placed_at or occurred_at,
            "total": total,
            "currency": event.currency,
        },
    )
    previous_owner = None
    if not created:
        previous_owner = order.customer_id if order.customer_id != customer.pk else None
        order.customer = customer
        order.placed_at = event.placed_at or order.placed_at
        order.total = total
        order.currency = event.currency
        order.save(update_fields=["customer", "placed_at", "total", "currency"])
        order.items.all().delete()
    products = products_ensure(
        facts=[
            ProductFacts(
                sku=i.sku,
                name=i.product_name,
                category=i.category,
                price=i.unit_price,
                currency=event.currency,
            )
            for i in lines
        ]
    )
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            product=products.get(i.sku),
            sku=i.sku,
            product_name=i.product_name or products[i.sku].name,
            category=i.category or products[i.sku].category,
            quantity=i.quantity,
            unit_price=i.unit_price,
        )
        for i in lines
    )
    if previous_owner or refresh_aggregates:
        ids = [customer.pk] + ([previous_owner] if previous_owner else [])
        customer_order_aggregates_refresh(customer_ids=ids)
    return order
