from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.journeys.selectors import message_context
from campaigns.models import Campaign, CampaignStatus, Segment, Step, Template, TemplateVersion
from customers.models import Activity, Customer, Order, OrderItem

_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_best_sellers():
    message_context.recommendation_caches_clear()


@pytest.fixture
def template(db):
    def make(name: str = "") -> Template:
        name = name or f"Template {next(_seq)}"
        tpl = Template.objects.create(name=name, subject="Hello", mjml="<mjml></mjml>", is_valid=True)
        version = TemplateVersion.objects.create(
            template=tpl, number=1, subject="Hello", mjml="<mjml></mjml>", compiled_html="<p>Hello</p>"
        )
        tpl.current_version = version
        tpl.save(update_fields=["current_version"])
        return tpl

    return make


@pytest.fixture
def customer(db):
    def make(**fields) -> Customer:
        fields.setdefault("email", f"c{next(_seq)}@example.com")
        fields.setdefault("consent", "granted")  # mailable under the default opt-in policy
        return Customer.objects.create(**fields)

    return make


@pytest.fixture
def order(db):
    def make(customer: Customer, *, at=None, total="50.00", items=()) -> Order:
        placed = at or timezone.now()
        obj = Order.objects.create(
            external_id=f"o{next(_seq)}", customer=customer, placed_at=placed, total=Decimal(total)
        )
        for sku, category in items:
            OrderItem.objects.create(order=obj, sku=sku, product_name=sku.title(), category=category, unit_price=10)
        return obj

    return make


@pytest.fixture
def activity(db):
    def make(customer: Customer, type: str, *, at=None, **properties) -> Activity:
        return Activity.objects.create(
            customer=customer, type=type, occurred_at=at or timezone.now(), properties=properties
        )

    return make


@pytest.fixture
def campaign(db, template):
    def make(*, steps=((timedelta(), {}),), rules=None, **fields) -> Campaign:
        fields.setdefault("name", f"Campaign {next(_seq)}")
        fields.setdefault("kind", "win_back")
        fields.setdefault("status", CampaignStatus.ACTIVE)
        fields.setdefault("holdout_percent", 0)
        if rules is not None:
            fields["segment"] = Segment.objects.create(name=f"Segment {next(_seq)}", rules=rules)
        obj = Campaign.objects.create(**fields)
        for position, (delay, extra) in enumerate(steps, start=1):
            Step.objects.create(campaign=obj, position=position, template=template(), delay=delay, **extra)
        return obj

    return make
