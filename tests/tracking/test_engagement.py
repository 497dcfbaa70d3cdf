"""Engagement scores: decay, incremental updates agreeing with the nightly full recompute, sunset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from customers.models import Activity, ActivityType, Customer, Order
from tests.tracking.engagement_support import _fresh_url_caches, make_message  # noqa: F401
from tracking.engagement_tasks import engagement_recompute, process_hits
from tracking.models import EngagementState, TrackedUrl
from tracking.selectors.engagement import customers_unengaged
from tracking.services.engagement import (
    customer_engagement_add,
    decay_factor,
    engagement_apply,
    engagement_recompute_all,
)
from tracking.services.tracking_events import hit_build, tracking_hits_store

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
APPLE = "Mozilla/5.0"


@pytest.fixture(autouse=True)
def _weights(settings):
    settings.ENGAGEMENT_HALF_LIFE_DAYS = 30
    settings.ENGAGEMENT_WEIGHT_OPEN = 1
    settings.ENGAGEMENT_WEIGHT_CLICK = 3
    settings.ENGAGEMENT_WEIGHT_ACTIVITY = 2
    settings.ENGAGEMENT_WEIGHT_ORDER = 5


def _hit(message, kind: str, at: datetime, *, agent: str = CHROME, url_id: int | None = None) -> dict:
    hit = hit_build(kind=kind, message_id=message.pk, method="GET", user_agent=agent, ip="", network="", url_id=url_id)
    hit["t"] = at.timestamp()
    return hit


def test_a_contribution_halves_every_half_life():
    customer = Customer.objects.create(email="decay@example.test")
    engagement_apply(contributions=[(customer.pk, T0, 1.0)])
    engagement_apply(contributions=[(customer.pk, T0 + timedelta(days=30), 3.0)])
    customer.refresh_from_db()
    assert customer.engagement_score == pytest.approx(0.5 + 3.0)
    assert customer.last_engaged_at == T0 + timedelta(days=30)
    assert decay_factor(60 * 86400) == pytest.approx(0.25)
    # a late-arriving older event decays into the current value instead of rewinding it
    engagement_apply(contributions=[(customer.pk, T0 - timedelta(days=30), 4.0)])
    customer.refresh_from_db()
    assert customer.engagement_score == pytest.approx(0.5 + 3.0 + 1.0)
    assert customer.last_engaged_at == T0 + timedelta(days=30)


def test_incremental_scores_equal_the_full_recompute():
    url = TrackedUrl.objects.create(url_hash="x", url="https://shop.example/x")
    people = []
    for n in range(4):
        message = make_message(sent_at=T0, delivered_at=T0)
        hits = [
            _hit(message, "open", T0 + timedelta(days=n, hours=1)),
            _hit(message, "click", T0 + timedelta(days=n, hours=1, minutes=2), url_id=url.pk),
            _hit(message, "open", T0 + timedelta(days=2 * n, hours=3), agent=APPLE),  # Apple MPP: not counted
            _hit(message, "click", T0 + timedelta(seconds=2), url_id=url.pk),  # scanner: not counted
        ]
        tracking_hits_store(hits)
        people.append(message.customer)
    process_hits()
    for n, customer in enumerate(people):
        when = T0 + timedelta(days=5 * n + 1)
        Activity.objects.create(customer=customer, type=ActivityType.PRODUCT_VIEWED, occurred_at=when)
        customer_engagement_add(customer_id=customer.pk, kind="activity", occurred_at=when)
        if n % 2:
            placed = T0 + timedelta(days=7 * n)
            Order.objects.create(external_id=f"o{n}", customer=customer, placed_at=placed, total=Decimal("10"))
            customer_engagement_add(customer_id=customer.pk, kind="order", occurred_at=placed)

    incremental = {}
    for customer in people:
        customer.refresh_from_db()
        incremental[customer.pk] = (
            customer.engagement_score,
            customer.engagement_state.as_of,
            customer.last_engaged_at,
        )
    assert all(score > 0 for score, _as_of, _last in incremental.values())

    now = T0 + timedelta(days=60)
    Customer.objects.create(email="stale@example.test", engagement_score=9.0)  # nothing behind it
    engagement_recompute_all(now=now)
    for customer in people:
        customer.refresh_from_db()
        score, as_of, last = incremental[customer.pk]
        assert customer.engagement_score == pytest.approx(score * decay_factor((now - as_of).total_seconds()), rel=1e-9)
        assert customer.last_engaged_at == last
        assert EngagementState.objects.get(customer=customer).as_of == now
    assert Customer.objects.get(email="stale@example.test").engagement_score == 0


def test_the_nightly_task_runs_the_full_recompute():
    customer = Customer.objects.create(email="nightly@example.test", engagement_score=4.0)
    Order.objects.create(external_id="n1", customer=customer, placed_at=T0, total=Decimal("5"))
    assert engagement_recompute() >= 1
    customer.refresh_from_db()
    assert 0 < customer.engagement_score < 5 and customer.last_engaged_at == T0


def test_customers_unengaged_after_n_sends():
    engaged_at = T0 + timedelta(days=10)
    quiet = Customer.objects.create(email="quiet@example.test", last_engaged_at=engaged_at)
    lively = Customer.objects.create(email="lively@example.test", last_engaged_at=engaged_at)
    never = Customer.objects.create(email="never@example.test")
    for day in (1, 11, 12, 13):
        make_message(customer=quiet, sent_at=T0 + timedelta(days=day))
    for day in (1, 2, 3, 11):
        make_message(customer=lively, sent_at=T0 + timedelta(days=day))
    for day in (1, 2, 3):
        make_message(customer=never, sent_at=T0 + timedelta(days=day))
    selected = set(customers_unengaged(sends_without_engagement=3).values_list("email", flat=True))
    assert selected == {"quiet@example.test", "never@example.test"}
