from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from campaigns.journeys.models import Attribution
from campaigns.journeys.selectors.results import campaign_attributed_revenue, campaign_incrementality
from campaigns.journeys.services.attribution import orders_attribute
from campaigns.journeys.services.enrollment import is_holdout
from campaigns.models import Enrollment, Message, MessageStatus
from tracking.models import TrackingEvent

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def sent_message(campaign, customer, position: int = 1) -> Message:
    enrollment, _ = Enrollment.objects.get_or_create(campaign=campaign, customer=customer)
    return Message.objects.create(
        customer=customer,
        campaign=campaign,
        enrollment=enrollment,
        step=campaign.steps.get(position=position),
        status=MessageStatus.SENT,
        sent_at=NOON - timedelta(days=1),
    )


def hit(message: Message, kind: str, at: datetime, *, human: bool = True) -> None:
    TrackingEvent.objects.create(
        event_uuid=uuid.uuid4(),
        message=message,
        customer=message.customer,
        kind=kind,
        occurred_at=at,
        verdict="human" if human else "scanner",
        counts_as_human=human,
    )


def test_holdout_draw_is_stable_and_close_to_the_percentage():
    draws = [is_holdout(campaign_id=7, customer_id=i, percent=10) for i in range(1, 20001)]
    assert 0.09 < sum(draws) / len(draws) < 0.11
    assert draws == [is_holdout(campaign_id=7, customer_id=i, percent=10) for i in range(1, 20001)]
    other = [is_holdout(campaign_id=8, customer_id=i, percent=10) for i in range(1, 20001)]
    assert other != draws  # each campaign draws its own control group


def test_order_goes_to_last_human_click_within_window(campaign, customer, order, settings):
    settings.ATTRIBUTION_WINDOW_DAYS, settings.ATTRIBUTION_ON_OPEN = 5, False
    journey = campaign(steps=[(timedelta(), {}), (timedelta(days=1), {})])
    person, late, bot_only = customer(), customer(), customer()
    first, second = sent_message(journey, person, 1), sent_message(journey, person, 2)
    hit(first, "click", NOON - timedelta(days=3))
    hit(second, "click", NOON - timedelta(days=2))
    hit(second, "open", NOON - timedelta(hours=1))
    hit(sent_message(journey, late), "click", NOON - timedelta(days=6))
    hit(sent_message(journey, bot_only), "click", NOON - timedelta(hours=1), human=False)
    won = order(person, at=NOON, total="80.00")
    order(late, at=NOON, total="30.00")
    order(bot_only, at=NOON, total="30.00")
    assert orders_attribute(now=NOON + timedelta(minutes=5)) == 1
    attribution = Attribution.objects.get()
    assert (attribution.order, attribution.message, attribution.touch) == (won, second, "click")
    assert orders_attribute(now=NOON + timedelta(minutes=10)) == 0  # idempotent
    revenue = campaign_attributed_revenue(journey)
    assert revenue["revenue"] == Decimal("80.00")
    assert [(row["step__position"], row["revenue"]) for row in revenue["steps"]] == [(2, Decimal("80.00"))]


def test_open_counts_when_configured(campaign, customer, order, settings):
    settings.ATTRIBUTION_ON_OPEN = True
    journey = campaign()
    person = customer()
    hit(sent_message(journey, person), "open", NOON - timedelta(hours=2))
    order(person, at=NOON)
    assert orders_attribute(now=NOON) == 1
    assert Attribution.objects.get().touch == "open"


def test_incrementality_difference_with_confidence_interval(campaign, customer, order, settings):
    settings.INCREMENTALITY_WINDOW_DAYS = 14
    journey = campaign(holdout_percent=20)
    entered = NOON - timedelta(days=20)
    for i in range(200):
        person = customer()
        holdout = i < 40
        Enrollment.objects.create(campaign=journey, customer=person, entered_at=entered, is_holdout=holdout)
        buys = (i % 10 < 3) if not holdout else (i % 10 < 1)  # 30% vs 10% convert
        if buys:
            order(person, at=entered + timedelta(days=2), total="100.00")
        if i % 10 == 5:
            order(person, at=entered + timedelta(days=15), total="500.00")  # outside the window
    result = campaign_incrementality(journey)
    assert (result.treatment.customers, result.holdout.customers) == (160, 40)
    assert result.treatment.conversion_rate == pytest.approx(0.30)
    assert result.holdout.conversion_rate == pytest.approx(0.10)
    assert result.conversion_lift.value == pytest.approx(0.20)
    se = (0.3 * 0.7 / 160 + 0.1 * 0.9 / 40) ** 0.5
    assert result.conversion_lift.low == pytest.approx(0.20 - 1.959964 * se)
    assert result.conversion_lift.high == pytest.approx(0.20 + 1.959964 * se)
    assert result.revenue_lift.value == pytest.approx(20.0)
    var_t, var_h = 0.3 * 0.7 * 100**2 * 160 / 159, 0.1 * 0.9 * 100**2 * 40 / 39
    se_rev = (var_t / 160 + var_h / 40) ** 0.5
    assert result.revenue_lift.low == pytest.approx(20.0 - 1.959964 * se_rev)
    assert result.revenue_lift.low > 0  # this lift is significant


def test_incrementality_without_holdout_has_no_interval(campaign):
    result = campaign_incrementality(campaign())
    assert result.conversion_lift.low is None and result.treatment.customers == 0
