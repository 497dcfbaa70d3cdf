"""seed_demo builds a believable shop: rhythms, leads, carts left behind, trials."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Sum

from customers.models import Activity, Customer, Order, Product, Tier
from customers.services.demo_data import demo_shop_seed

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_seed_demo_builds_a_believable_shop():
    out = io.StringIO()
    call_command("seed_demo", "--customers", "200", "--seed", "3", stdout=out)
    assert "Seeded 200 customers" in out.getvalue()

    customers = Customer.objects.filter(email__endswith="@demo3.example")
    assert customers.count() == 200
    leads = customers.filter(orders_count=0)
    assert 20 <= leads.count() <= 80  # about a quarter
    assert not Order.objects.filter(customer__in=leads).exists()
    assert customers.filter(orders_count__gte=8).exists()  # loyal, frequent buyers
    assert customers.filter(orders_count=1).exists()  # one-off buyers
    now = datetime.now(tz=UTC)
    lapsed = customers.filter(orders_count__gte=4, last_order_at__lt=now - timedelta(days=120))
    assert lapsed.exists()  # former regulars who stopped
    assert customers.filter(first_order_at__gte=now - timedelta(days=45)).exists()  # new
    assert customers.values("timezone").distinct().count() >= 5
    assert customers.filter(consent="granted").count() > customers.count() * 0.7

    assert Product.objects.values("category").distinct().count() >= 8
    assert Product.objects.filter(tier=Tier.PREMIUM).exists()

    # Aggregates match the orders.
    sample = customers.filter(orders_count__gt=0).annotate(n=Count("orders"), spent=Sum("orders__total"))
    for customer in sample[:20]:
        assert (customer.orders_count, customer.total_spent) == (customer.n, customer.spent)

    # Carts left behind in the last days: no order after them.
    last_orders = dict(customers.annotate(last=Max("orders__placed_at")).values_list("pk", "last"))
    carts = Activity.objects.filter(
        customer__in=customers, type="cart_updated", occurred_at__gte=now - timedelta(days=7)
    )
    left_behind = [c for c in carts if last_orders[c.customer_id] is None or c.occurred_at > last_orders[c.customer_id]]
    assert left_behind
    assert left_behind[0].properties["items"] and left_behind[0].properties["cart_url"]

    assert Activity.objects.filter(customer__in=customers, type="product_viewed").exists()
    trials = Activity.objects.filter(customer__in=customers, type="trial_started")
    assert trials.exists()
    ending_soon = [t for t in trials if now < datetime.fromisoformat(t.properties["ends_at"]) < now + timedelta(days=3)]
    assert ending_soon
    converted = Activity.objects.filter(customer__in=customers, type="trial_converted")
    assert converted.exists()
    assert all(a.customer.tier == Tier.PREMIUM for a in converted)


def test_rerun_does_not_crash_or_duplicate():
    call_command("seed_demo", "--customers", "30", "--seed", "4", stdout=io.StringIO())
    counts = (Customer.objects.count(), Order.objects.count(), Product.objects.count())
    out = io.StringIO()
    call_command("seed_demo", "--customers", "30", "--seed", "4", stdout=out)
    assert "already exists" in out.getvalue()
    assert (Customer.objects.count(), Order.objects.count(), Product.objects.count()) == counts
    # Another seed adds more customers over the same catalogue.
    call_command("seed_demo", "--customers", "30", "--seed", "5", stdout=io.StringIO())
    assert Customer.objects.count() == counts[0] + 30
    assert Product.objects.count() == counts[2]


def test_same_seed_same_shop():
    def snapshot():
        rows = Customer.objects.filter(email__endswith="@demo9.example").order_by("email")
        return list(rows.values_list("email", "timezone", "orders_count", "total_spent", "last_order_at"))

    demo_shop_seed(customers=40, seed=9, now=NOW)
    first = snapshot()
    Customer.objects.filter(email__endswith="@demo9.example").delete()
    demo_shop_seed(customers=40, seed=9, now=NOW)
    assert snapshot() == first
