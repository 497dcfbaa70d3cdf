"""Demo on-site behaviour: product views, carts (some left behind), trials (some converted)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from customers.carts import cart_line, cart_properties
from customers.models import Activity, ActivityType, Product, Tier
from customers.services.demo_data.catalog import PLAN_CATEGORY, PREMIUM_PLAN, TRIAL_DAYS
from customers.services.demo_data.people import DemoPerson


def _line(product: Product) -> dict:
    return cart_line(
        sku=product.sku,
        product_id=product.pk,
        name=product.name,
        category=product.category,
        quantity=1,
        unit_price=product.price,
        url=product.url,
        image_url=product.image_url,
    )


def _cart(
    *, person: DemoPerson, at: datetime, rng: random.Random, products: dict[str, list[Product]], shop_url: str
) -> list[Activity]:
    """A cart_updated, and for some a checkout_started a few minutes later."""
    shop_categories = [c for c in products if c != PLAN_CATEGORY]
    pool = products[person.favourite_category] + products[rng.choice(shop_categories)]
    chosen = list({p.sku: p for p in rng.sample(pool, k=rng.choice([1, 1, 2, 3]))}.values())
    items = [_line(p) for p in chosen]
    properties = cart_properties(
        items=items,
        value=sum((p.price or Decimal("0") for p in chosen), start=Decimal("0")),
        currency="EUR",
        url=f"{shop_url}/cart/restore/{rng.getrandbits(64):016x}",
    )
    product = chosen[0] if len(chosen) == 1 else None
    rows = [
        Activity(
            customer=person.customer,
            type=ActivityType.CART_UPDATED,
            product=product,
            occurred_at=at,
            properties=properties,
        )
    ]
    if rng.random() < 0.3:
        rows.append(
            Activity(
                customer=person.customer,
                type=ActivityType.CHECKOUT_STARTED,
                product=product,
                occurred_at=at + timedelta(minutes=rng.uniform(1, 15)),
                properties=properties,
            )
        )
    return rows


def build_activities(
    *, person: DemoPerson, rng: random.Random, now: datetime, products: dict[str, list[Product]], shop_url: str
) -> list[Activity]:
    customer, rows = person.customer, []
    since = max(customer.created_at, now - timedelta(days=60))
    if rng.random() < 0.45:
        for _ in range(rng.randint(1, 6)):
            category = person.favourite_category if rng.random() < 0.7 else rng.choice(list(products))
            product = rng.choice(products[category])
            at = since + (now - since) * rng.random()
            rows.append(
                Activity(
                    customer=customer,
                    type=ActivityType.PRODUCT_VIEWED,
                    product=product,
                    occurred_at=at,
                    properties={"sku": product.sku},
                )
            )

    last_order = person.last_order_at
    # Carts left behind in the last days: after the customer's last order, with no order since.
    if rng.random() < 0.12:
        earliest = max(now - timedelta(days=6), last_order or since, since)
        if earliest < now - timedelta(hours=1):
            at = earliest + (now - timedelta(hours=1) - earliest) * rng.random()
            rows += _cart(person=person, at=at, rng=rng, products=products, shop_url=shop_url)
    # Carts that did turn into the last order.
    if last_order and rng.random() < 0.3:
        at = last_order - timedelta(minutes=rng.uniform(10, 120))
        rows += _cart(person=person, at=at, rng=rng, products=products, shop_url=shop_url)[:1]

    if rng.random() < 0.07:
        rows += _trial(person=person, rng=rng, now=now, since=since)
    return rows


def _trial(*, person: DemoPerson, rng: random.Random, now: datetime, since: datetime) -> list[Activity]:
    """A premium trial: a third end within three days, ended ones convert about half the time."""
    customer = person.customer
    if rng.random() < 0.35:
        started = now - timedelta(days=TRIAL_DAYS) + timedelta(hours=rng.uniform(2, 72))
    else:
        started = max(since, now - timedelta(days=40)) + (now - max(since, now - timedelta(days=40))) * rng.random()
    ends_at = started + timedelta(days=TRIAL_DAYS)
    plan = {"plan": PREMIUM_PLAN, "tier": Tier.PREMIUM}
    rows = [
        Activity(
            customer=customer,
            type=ActivityType.TRIAL_STARTED,
            occurred_at=started,
            properties={**plan, "ends_at": ends_at.isoformat()},
        )
    ]
    converted_at = ends_at - timedelta(days=rng.uniform(0, 3))
    if converted_at < now and rng.random() < 0.5:
        customer.tier = Tier.PREMIUM
        rows.append(
            Activity(customer=customer, type=ActivityType.TRIAL_CONVERTED, occurred_at=converted_at, properties=plan)
        )
    return rows
