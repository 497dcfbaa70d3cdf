from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from campaigns.journeys.services.tick import journeys_tick
from campaigns.models import Enrollment, EnrollmentStatus, Message, MessageStatus

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, outside quiet hours in UTC


@pytest.fixture(autouse=True)
def _no_caps(settings):
    settings.FREQUENCY_CAP_PER_DAY = 0
    settings.FREQUENCY_CAP_PER_WEEK = 0


def test_audience_enrolment_delays_from_entry_and_previous(campaign, customer):
    customer(email="in@example.com", engagement_score=60)
    customer(email="out@example.com", engagement_score=5)
    journey = campaign(
        rules={"field": "engagement_score", "op": "gte", "value": 50},
        steps=[
            (timedelta(), {}),
            (timedelta(days=2), {"delay_from": "previous"}),
            (timedelta(days=5), {"delay_from": "entry"}),
        ],
    )
    with time_machine.travel(NOON, tick=False):
        assert journeys_tick()["enrolled"] == 1
        assert Message.objects.filter(step__position=1, status=MessageStatus.QUEUED).count() == 1
    with time_machine.travel(NOON + timedelta(days=1, hours=23), tick=False):
        journeys_tick()
        assert Message.objects.count() == 1  # step 2 waits two days after step 1
    with time_machine.travel(NOON + timedelta(days=2), tick=False):
        journeys_tick()
        assert Message.objects.filter(step__position=2).count() == 1
    with time_machine.travel(NOON + timedelta(days=5), tick=False):
        journeys_tick()
    enrollment = Enrollment.objects.get(campaign=journey)
    assert enrollment.status == EnrollmentStatus.COMPLETED
    assert (
        list(Message.objects.order_by("step__position").values_list("customer__email", flat=True))
        == ["in@example.com"] * 3
    )


def test_reentry_period(campaign, customer):
    customer()
    journey = campaign(rules={}, reentry_days=30)
    with time_machine.travel(NOON, tick=False):
        journeys_tick()
    with time_machine.travel(NOON + timedelta(days=10), tick=False):
        journeys_tick()
        assert Enrollment.objects.filter(campaign=journey).count() == 1
    with time_machine.travel(NOON + timedelta(days=31), tick=False):
        journeys_tick()
        assert Enrollment.objects.filter(campaign=journey).count() == 2


def test_event_trigger_waits_for_delay_and_exits_on_goal(campaign, customer, activity, order):
    buyer, browser = customer(), customer()
    journey = campaign(
        kind="abandoned_cart",
        trigger="event",
        trigger_event="cart_updated",
        trigger_delay=timedelta(hours=1),
        exit_on=["order_placed"],
        steps=[(timedelta(), {}), (timedelta(days=1), {})],
    )
    with time_machine.travel(NOON, tick=False):
        activity(buyer, "cart_updated", items=[{"sku": "a", "name": "A"}])
        activity(browser, "cart_updated", items=[{"sku": "b", "name": "B", "quantity": 2}])
        assert journeys_tick()["enrolled"] == 2
        assert Message.objects.count() == 0
    with time_machine.travel(NOON + timedelta(minutes=30), tick=False):
        order(buyer)
        journeys_tick()
    with time_machine.travel(NOON + timedelta(hours=1), tick=False):
        journeys_tick()
    exited = Enrollment.objects.get(campaign=journey, customer=buyer)
    assert (exited.status, exited.exit_reason) == (EnrollmentStatus.EXITED, "goal: order_placed")
    message = Message.objects.get()
    assert message.customer == browser
    assert message.context["cart"]["items"][0]["name"] == "B"
    # The same cart event does not enrol twice.
    with time_machine.travel(NOON + timedelta(hours=2), tick=False):
        assert journeys_tick()["enrolled"] == 0


def test_enrolment_reads_candidates_window_by_window_and_misses_no_one(campaign, customer, activity, settings):
    settings.JOURNEY_SCAN_WINDOW = 3  # customer ids per query: several windows, some of them empty
    settings.JOURNEY_PAGE_SIZE = 2
    people = [customer(engagement_score=60 if i % 3 else 5) for i in range(11)]
    audience = campaign(rules={"field": "engagement_score", "op": "gte", "value": 50})
    carts = campaign(kind="abandoned_cart", trigger="event", trigger_event="cart_updated")
    with time_machine.travel(NOON, tick=False):
        for person in people[::2]:
            activity(person, "cart_updated", items=[{"sku": "a", "name": "A"}])
        journeys_tick()
        journeys_tick()  # nobody twice
    engaged = {p.pk for p in people if p.engagement_score >= 50}
    assert set(Enrollment.objects.filter(campaign=audience).values_list("customer_id", flat=True)) == engaged
    assert Enrollment.objects.filter(campaign=audience).count() == len(engaged)
    assert sorted(Enrollment.objects.filter(campaign=carts).values_list("customer_id", flat=True)) == sorted(
        p.pk for p in people[::2]
    )


def test_tick_twice_creates_one_message_per_enrollment_step(campaign, customer, settings):
    settings.JOURNEY_PAGE_SIZE = 2  # several pages
    for _ in range(5):
        customer()
    campaign(rules={})
    with time_machine.travel(NOON, tick=False):
        journeys_tick()
        Enrollment.objects.update(status=EnrollmentStatus.ACTIVE, next_step=1, due_at=NOON)  # replay the step
        journeys_tick()
    assert Message.objects.count() == 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.needs_postgres  # concurrent writers
def test_two_ticks_at_once_create_one_message_each(campaign, customer):
    for _ in range(50):
        customer()
    campaign(rules={}, steps=[(timedelta(), {}), (timedelta(), {})])
    errors: list[BaseException] = []

    def run() -> None:
        try:
            journeys_tick(now=NOON)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Enrollment.objects.count() == 50
    assert Message.objects.count() == 100


def test_broken_settings_are_recorded_and_do_not_stop_other_journeys(campaign, customer):
    customer()
    campaign(rules={"field": "shoe_size", "op": "eq", "value": 42})
    typo = campaign(rules={}, steps=[(timedelta(), {"condition": {"has_not_clikced": True}})])
    fine = campaign(rules={})
    with time_machine.travel(NOON, tick=False):
        counts = journeys_tick()
    assert counts["invalid_segments"] == 1
    skipped = Message.objects.get(campaign=typo)
    assert skipped.status == MessageStatus.SKIPPED
    assert skipped.error.startswith("invalid step settings: condition.has_not_clikced: unknown")
    assert Message.objects.get(campaign=fine).status == MessageStatus.QUEUED


def test_management_command_runs_a_tick(campaign, customer):
    customer()
    campaign(rules={})
    out = io.StringIO()
    call_command("journeys_tick", stdout=out)
    assert "enrolled           1" in out.getvalue() and "queued             1" in out.getvalue()
