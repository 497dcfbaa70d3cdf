"""On-site behaviour (carts, checkouts, product views, trials) stored as Activity rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from customers.carts import cart_line, cart_properties
from customers.models import Activity, ActivityType, Customer, Tier
from customers.services.events.product_upsert import ProductFacts, product_upsert, products_ensure
from customers.services.events.schemas import CartUpdated, CheckoutStarted, ProductViewed, TrialConverted, TrialStarted


def activity_record_cart(
    *, customer: Customer, event: CartUpdated | CheckoutStarted, occurred_at: datetime
) -> Activity:
    """A cart change or a started checkout, with its lines, value and restore link."""
    products = products_ensure(
        facts=[
            ProductFacts(
                sku=i.sku,
                name=i.product_name,
                category=i.category,
                price=i.unit_price,
                currency=event.currency,
                url=str(i.url) if i.url else None,
                image_url=str(i.image_url) if i.image_url else None,
            )
            for i in event.items
        ]
    )
    items = []
    for line in event.items:
        product = products[line.sku]
        items.append(
            cart_line(
                sku=line.sku,
                product_id=product.pk,
                name=line.product_name or product.name,
                category=line.category or product.category,
                quantity=line.quantity,
                unit_price=line.unit_price if line.unit_price is not None else product.price,
                url=str(line.url) if line.url else product.url,
                image_url=str(line.image_url) if line.image_url else product.image_url,
            )
        )
    value = event.cart_value
    if value is None:
        value = sum((Decimal(i["unit_price"] or 0) * i["quantity"] for i in items), start=Decimal("0"))
    properties = cart_properties(
        items=items,
        value=value,
        currency=event.currency,
        url=str(event.cart_url) if event.cart_url else "",
        extra=event.properties,
    )
    return Activity.objects.create(
        customer=customer,
        type=event.type,
        product=products[event.items[0].sku] if len(event.items) == 1 else None,
        occurred_at=occurred_at,
        properties=properties,
    )


def activity_record_product_view(*, customer: Customer, event: ProductViewed, occurred_at: datetime) -> Activity:
    """A product page view; the catalogue data it carries updates the product."""
    product = product_upsert(
        facts=ProductFacts(
            sku=event.sku,
            name=event.name,
            category=event.category,
            price=event.price,
            currency=event.currency,
            url=str(event.url) if event.url else None,
            image_url=str(event.image_url) if event.image_url else None,
        )
    )
    return Activity.objects.create(
        customer=customer,
        type=ActivityType.PRODUCT_VIEWED,
        product=product,
        occurred_at=occurred_at,
        properties={**event.properties, "sku": product.sku},
    )


def activity_record_trial(
    *, customer: Customer, event: TrialStarted | TrialConverted, occurred_at: datetime
) -> Activity:
    """A trial start (with its end) or conversion; a conversion makes the customer premium."""
    properties = {**event.properties, "plan": event.plan or "", "tier": event.tier}
    if isinstance(event, TrialStarted):
        properties["ends_at"] = event.ends_at.isoformat() if event.ends_at else None
    else:
        if customer.tier != Tier.PREMIUM:
            customer.tier = Tier.PREMIUM
            customer.save(update_fields=["tier", "updated_at"])
    return Activity.objects.create(customer=customer, type=event.type, occurred_at=occurred_at, properties=properties)
