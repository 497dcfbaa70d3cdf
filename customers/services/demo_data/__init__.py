"""A believable demo shop: catalogue, customers with purchase rhythms, orders, carts, views and trials.

Everything is derived from one random seed, so the same seed gives the same shop (relative
to the moment it is built). Customers of a seed have their own email domain
(`…@demo<seed>.example`): seeding the same seed twice is skipped, another seed adds more people.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from customers.models import (
    Activity,
    ActivityType,
    Consent,
    ConsentChange,
    Customer,
    EmailStatus,
    Order,
    OrderItem,
    Product,
    SuppressedAddress,
)
from customers.services.demo_data.activity import build_activities
from customers.services.demo_data.catalog import PLAN_CATEGORY, catalog_rows
from customers.services.demo_data.people import DemoPerson, build_person, fill_orders
from customers.services.order_aggregates import customer_order_aggregates_refresh
from customers.services.suppression import email_hash

_BATCH = 2000


@dataclass
class DemoSummary:
    seed: int
    skipped: bool = False
    products: int = 0
    customers: int = 0
    leads: int = 0
    orders: int = 0
    order_items: int = 0
    activities: int = 0
    abandoned_carts: int = 0
    trials: int = 0


def _after_last_order(person: DemoPerson, activity: Activity) -> bool:
    return person.last_order_at is None or activity.occurred_at > person.last_order_at


def demo_catalog_ensure() -> dict[str, list[Product]]:
    """The demo products by category, created when missing (shared by every seed)."""
    shop_url = getattr(settings, "SHOP_URL", "https://shop.example")
    rows = catalog_rows(shop_url)
    Product.objects.bulk_create([Product(**row) for row in rows], ignore_conflicts=True)
    by_category: dict[str, list[Product]] = defaultdict(list)
    for product in Product.objects.filter(sku__in=[row["sku"] for row in rows]).order_by("sku"):
        by_category[product.category].append(product)
    return dict(by_category)


def demo_seed_exists(*, seed: int) -> bool:
    return Customer.objects.filter(email__endswith=f"@demo{seed}.example").exists()


def _proof_rows(customers: list[Customer]) -> tuple[list[ConsentChange], list[SuppressedAddress]]:
    changes, suppressed = [], []
    for customer in customers:
        if customer.consent != Consent.UNKNOWN:
            changes.append(
                ConsentChange(
                    customer=customer,
                    field="consent",
                    old_value=Consent.UNKNOWN,
                    new_value=customer.consent,
                    source="demo",
                    actor="seed_demo",
                    created_at=customer.created_at,
                )
            )
        if customer.email_status != EmailStatus.SUBSCRIBED:
            changes.append(
                ConsentChange(
                    customer=customer,
                    field="email_status",
                    old_value=EmailStatus.SUBSCRIBED,
                    new_value=customer.email_status,
                    source="demo",
                    actor="seed_demo",
                    created_at=customer.created_at,
                )
            )
            suppressed.append(SuppressedAddress(email_hash=email_hash(customer.email), reason=customer.email_status))
    return changes, suppressed


@transaction.atomic
def demo_shop_seed(*, customers: int, seed: int, now: datetime | None = None) -> DemoSummary:
    """Build `customers` demo customers (about a quarter of them leads) with their history."""
    summary = DemoSummary(seed=seed)
    products = demo_catalog_ensure()
    summary.products = sum(len(p) for p in products.values())
    if demo_seed_exists(seed=seed):
        summary.skipped = True
        return summary

    now = now or timezone.now()
    rng = random.Random(seed)
    shop_url = getattr(settings, "SHOP_URL", "https://shop.example")
    categories = [c for c in products if c != PLAN_CATEGORY]
    people = []
    for index in range(1, customers + 1):
        person = build_person(index=index, seed=seed, rng=rng, now=now, categories=categories)
        fill_orders(person=person, rng=rng, seed=seed, index=index, products=products)
        people.append(person)
    activities = [
        build_activities(person=person, rng=rng, now=now, products=products, shop_url=shop_url) for person in people
    ]

    rows = [person.customer for person in people]
    Customer.objects.bulk_create(rows, batch_size=_BATCH)
    orders = [order for person in people for order, _ in person.orders]
    Order.objects.bulk_create(orders, batch_size=_BATCH)
    items = [line for person in people for _, lines in person.orders for line in lines]
    OrderItem.objects.bulk_create(items, batch_size=_BATCH)
    flat = [activity for rows_ in activities for activity in rows_]
    Activity.objects.bulk_create(flat, batch_size=_BATCH)
    changes, suppressed = _proof_rows(rows)
    ConsentChange.objects.bulk_create(changes, batch_size=_BATCH)
    SuppressedAddress.objects.bulk_create(suppressed, batch_size=_BATCH, ignore_conflicts=True)
    customer_order_aggregates_refresh(customer_ids=[c.pk for c in rows])

    summary.customers = len(rows)
    summary.leads = sum(1 for person in people if not person.orders)
    summary.orders = len(orders)
    summary.order_items = len(items)
    summary.activities = len(flat)
    summary.abandoned_carts = sum(
        1
        for person, acts in zip(people, activities, strict=True)
        for a in acts
        if a.type == ActivityType.CART_UPDATED and _after_last_order(person, a)
    )
    summary.trials = sum(1 for a in flat if a.type == ActivityType.TRIAL_STARTED)
    return summary
