from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from campaigns.journeys.models import Deferral
from campaigns.journeys.services.tick import journeys_tick
from campaigns.models import Enrollment, Message, MessageStatus

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def mark_sent(at: datetime) -> None:
    Message.objects.filter(status=MessageStatus.QUEUED).update(status=MessageStatus.SENT, sent_at=at)


def test_daily_cap_higher_priority_wins_loser_is_deferred_then_sent(campaign, customer, settings):
    settings.FREQUENCY_CAP_PER_DAY, settings.FREQUENCY_CAP_PER_WEEK = 1, 3
    person = customer()
    cart = campaign(name="cart", rules={}, priority=90)
    winback = campaign(name="winback", rules={}, priority=30)
    with time_machine.travel(NOON, tick=False):
        journeys_tick()
    assert Message.objects.get().campaign == cart
    deferral = Deferral.objects.get()
    assert deferral.enrollment.campaign == winback
    assert deferral.reason == "frequency cap: 1 a day"
    assert deferral.deferred_until == NOON + timedelta(days=1)
    mark_sent(NOON)
    with time_machine.travel(NOON + timedelta(hours=23), tick=False):
        journeys_tick()
        assert Message.objects.count() == 1
    with time_machine.travel(NOON + timedelta(days=1, minutes=1), tick=False):
        journeys_tick()
    late = Message.objects.get(campaign=winback)
    assert (late.status, late.customer) == (MessageStatus.QUEUED, person)
    deferral.refresh_from_db()
    assert deferral.outcome == "sent"


def test_weekly_cap_and_expiry_skips_with_reason(campaign, customer, settings):
    settings.FREQUENCY_CAP_PER_DAY, settings.FREQUENCY_CAP_PER_WEEK = 5, 1
    settings.DEFERRAL_EXPIRY_HOURS = 48
    customer()
    campaign(name="first", rules={}, priority=90)
    second = campaign(name="second", rules={}, priority=10)
    with time_machine.travel(NOON, tick=False):
        journeys_tick()
        mark_sent(NOON)
    skipped = Message.objects.get(campaign=second)
    assert skipped.status == MessageStatus.SKIPPED
    assert skipped.error.startswith("frequency cap: 1 a week: deferred since 2026-03-02 12:00 UTC, expired")
    assert Deferral.objects.get().outcome == "expired"
    assert Enrollment.objects.get(campaign=second).status == "completed"


def test_quiet_hours_in_customer_timezone(campaign, customer, settings):
    settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0
    tokyo = customer(timezone="Asia/Tokyo")  # 12:00 UTC is 21:00 in Tokyo: quiet
    berlin = customer(timezone="Europe/Berlin")  # 13:00 in Berlin
    nowhere = customer(timezone="Not/AZone")  # unknown: UTC
    campaign(rules={})
    with time_machine.travel(NOON, tick=False):
        journeys_tick()
    by_customer = {m.customer_id: m.not_before for m in Message.objects.all()}
    assert by_customer[tokyo.pk] == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 08:00 Tokyo next morning
    assert by_customer[berlin.pk] is None
    assert by_customer[nowhere.pk] is None
    with time_machine.travel(datetime(2026, 3, 2, 22, 30, tzinfo=UTC), tick=False):
        late = customer(timezone="")
        journeys_tick()
    assert Message.objects.get(customer=late).not_before == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_sunset_skips_promotions_but_not_transactional(campaign, customer, settings):
    settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0
    settings.SUNSET_DAYS, settings.SUNSET_MIN_SENDS = 180, 2
    cold = customer(email="cold@example.com", last_engaged_at=NOON - timedelta(days=200))
    warm = customer(email="warm@example.com", last_engaged_at=NOON - timedelta(days=3))
    never = customer(email="never@example.com")
    fresh = customer(email="fresh@example.com")
    for _ in range(2):
        Message.objects.create(customer=never, status=MessageStatus.SENT, sent_at=NOON - timedelta(days=30))
    promo = campaign(rules={}, kind="loyalty")  # win-back has its own exception, tested apart
    cart = campaign(rules={}, is_transactional=True)
    with time_machine.travel(NOON, tick=False):
        journeys_tick()
    promo_status = dict(Message.objects.filter(campaign=promo).values_list("customer__email", "status"))
    assert promo_status == {
        "cold@example.com": "skipped",
        "never@example.com": "skipped",
        "warm@example.com": "queued",
        "fresh@example.com": "queued",
    }
    assert Message.objects.get(campaign=promo, customer=cold).error == "sunset: not engaged for 180 days"
    assert set(Message.objects.filter(campaign=cart).values_list("status", flat=True)) == {"queued"}
    assert warm and fresh


def test_holdout_is_recorded_not_mailed(campaign, customer, settings):
    settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0
    for _ in range(40):
        customer()
    journey = campaign(rules={}, holdout_percent=50)
    with time_machine.travel(NOON, tick=False):
        journeys_tick()
    held = Enrollment.objects.filter(campaign=journey, is_holdout=True)
    assert 0 < held.count() < 40
    assert set(Message.objects.filter(enrollment__in=held).values_list("status", "error")) == {("skipped", "holdout")}
    assert not Message.objects.filter(enrollment__is_holdout=False, status="skipped").exists()


def test_higher_priority_moves_a_waiting_lower_priority_message(campaign, customer, settings):
    settings.FREQUENCY_CAP_PER_DAY, settings.FREQUENCY_CAP_PER_WEEK = 1, 3
    person = customer(timezone="UTC")
    winback = campaign(name="winback", rules={}, priority=30)
    late_evening = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
    with time_machine.travel(late_evening, tick=False):
        journeys_tick()
    waiting = Message.objects.get(campaign=winback)
    assert waiting.not_before == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # quiet hours
    cart = campaign(name="cart", rules={}, priority=90)
    with time_machine.travel(late_evening + timedelta(hours=1), tick=False):
        journeys_tick()
    assert Message.objects.get(campaign=cart).not_before == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    waiting.refresh_from_db()
    assert waiting.status == MessageStatus.QUEUED
    assert waiting.not_before == datetime(2026, 3, 4, 8, 0, tzinfo=UTC)  # the next free daily slot
    record = Deferral.objects.get(enrollment=waiting.enrollment)
    assert (record.reason, record.outcome) == ("preempted by cart (priority 90)", "preempted")
    assert person.messages.count() == 2
