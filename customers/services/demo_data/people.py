"""Demo customers with purchase rhythms, and the orders that follow from them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from customers.models import Consent, Customer, EmailStatus, Order, OrderItem, Product
from customers.services.demo_data.catalog import PLAN_CATEGORY, REGIONS, ascii_slug

HISTORY_DAYS = 730

# persona -> share of customers. Leads never ordered; the others differ in rhythm and recency.
PERSONAS: dict[str, float] = {
    "lead": 0.25,
    "loyal": 0.14,  # orders every few weeks, still active
    "regular": 0.12,  # every two to four months
    "one_off": 0.22,  # a single order, any time in the last two years
    "lapsing": 0.15,  # used to buy often, stopped months ago
    "new": 0.12,  # first order in the last weeks
}


@dataclass
class DemoPerson:
    customer: Customer
    persona: str
    favourite_category: str
    orders: list[tuple[Order, list[OrderItem]]] = field(default_factory=list)

    @property
    def last_order_at(self) -> datetime | None:
        return max((order.placed_at for order, _ in self.orders), default=None)


def _days(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(days=rng.uniform(low, high))


def _rhythm(rng: random.Random, start: datetime, end: datetime, mean_days: float) -> list[datetime]:
    """Order times from start to end with gamma-distributed gaps around mean_days (never more than 60)."""
    times, moment = [], start
    while moment <= end and len(times) < 60:
        times.append(moment)
        moment += timedelta(days=max(2.0, rng.gammavariate(4.0, mean_days / 4.0)))
    return times


def order_times(persona: str, rng: random.Random, now: datetime) -> list[datetime]:
    if persona == "lead":
        return []
    if persona == "one_off":
        return [now - _days(rng, 3, HISTORY_DAYS)]
    if persona == "new":
        first = now - _days(rng, 2, 45)
        return [first] + ([first + _days(rng, 1, (now - first).days or 1)] if rng.random() < 0.3 else [])
    if persona == "loyal":
        return _rhythm(rng, now - _days(rng, 200, HISTORY_DAYS), now, rng.uniform(18, 40))
    if persona == "regular":
        return _rhythm(rng, now - _days(rng, 250, HISTORY_DAYS), now, rng.uniform(60, 110))
    # lapsing: a regular who stopped 4 to 13 months ago
    stop = now - _days(rng, 120, 400)
    return _rhythm(rng, now - _days(rng, 480, HISTORY_DAYS), stop, rng.uniform(25, 60))


def build_person(*, index: int, seed: int, rng: random.Random, now: datetime, categories: list[str]) -> DemoPerson:
    zone, locale, _, first_names, last_names = rng.choices(REGIONS, weights=[r[2] for r in REGIONS])[0]
    first, last = rng.choice(first_names), rng.choice(last_names)
    persona = rng.choices(list(PERSONAS), weights=list(PERSONAS.values()))[0]
    times = sorted(order_times(persona, rng, now))
    created_at = (times[0] if times else now) - _days(rng, 0, 60 if times else HISTORY_DAYS)
    consent = rng.choices([Consent.GRANTED, Consent.UNKNOWN, Consent.DENIED], weights=[86, 9, 5])[0]
    status = rng.choices(
        [EmailStatus.SUBSCRIBED, EmailStatus.UNSUBSCRIBED, EmailStatus.BOUNCED, EmailStatus.COMPLAINED],
        weights=[95, 3, 1.5, 0.5],
    )[0]
    customer = Customer(
        email=f"{ascii_slug(first)}.{ascii_slug(last)}.{index}@demo{seed}.example",
        external_id=f"demo{seed}-{index}",
        first_name=first,
        last_name=last,
        timezone=zone,
        locale=locale,
        consent=consent,
        consent_source="demo" if consent != Consent.UNKNOWN else "",
        consent_at=created_at if consent != Consent.UNKNOWN else None,
        email_status=status,
        created_at=created_at,
    )
    person = DemoPerson(customer, persona, rng.choice(categories))
    person.orders = [(Order(placed_at=moment), []) for moment in times]
    return person


def fill_orders(
    *, person: DemoPerson, rng: random.Random, seed: int, index: int, products: dict[str, list[Product]]
) -> None:
    """Lines for each order: mostly from the customer's favourite category, totals summed from them."""
    categories = [c for c in products if c != PLAN_CATEGORY]
    for number, (order, lines) in enumerate(person.orders, start=1):
        order.external_id = f"DEMO{seed}-{index:06d}-{number:02d}"
        order.customer = person.customer
        order.currency = "EUR"
        chosen: dict[str, Product] = {}
        for _ in range(rng.choices([1, 2, 3, 4], weights=[50, 30, 14, 6])[0]):
            category = person.favourite_category if rng.random() < 0.6 else rng.choice(categories)
            product = rng.choice(products[category])
            chosen[product.sku] = product
        for product in chosen.values():
            lines.append(
                OrderItem(
                    order=order,
                    product=product,
                    sku=product.sku,
                    product_name=product.name,
                    category=product.category,
                    quantity=rng.choices([1, 2, 3], weights=[80, 15, 5])[0],
                    unit_price=product.price or Decimal("0"),
                )
            )
        order.total = sum((line.unit_price * line.quantity for line in lines), start=Decimal("0"))
