"""Sunset and win-back: a lapsed buyer gets one win-back message per lapse, then sunset holds.

Driven by the tick command and sent through the real anymail backend to the fake ESP.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from campaigns.models import Message, MessageStatus
from campaigns.services.sending import messages_send_due
from customers.models import Consent, Order
from tests.campaigns.conftest import fake_esp  # noqa: F401  (the live fake ESP fixture)

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def tick(at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        call_command("journeys_tick", stdout=io.StringIO())


@pytest.fixture
def shop(settings, customer, order, campaign):
    settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0
    settings.SUNSET_DAYS, settings.SUNSET_MIN_SENDS = 180, 5
    lapsed = customer(email="lapsed@example.com", consent=Consent.GRANTED, timezone="UTC")
    last_order = order(lapsed, at=NOON - timedelta(days=210))
    lapsed.last_engaged_at = last_order.placed_at  # the order was the last thing they did
    lapsed.save(update_fields=["last_engaged_at"])
    lead = customer(email="lead@example.com", consent=Consent.GRANTED, timezone="UTC")
    Message.objects.bulk_create(
        Message(customer=lead, status=MessageStatus.SENT, sent_at=NOON - timedelta(days=40 + i)) for i in range(5)
    )
    win_back = campaign(
        name="Win-back",
        kind="win_back",
        rules={},
        exit_on=["order_placed"],
        steps=((timedelta(), {}), (WEEK, {}), (6 * timedelta(days=1), {})),
    )
    loyalty = campaign(name="Loyalty", kind="loyalty", rules={})
    return {"lapsed": lapsed, "lead": lead, "win_back": win_back, "loyalty": loyalty}


def statuses(campaign) -> dict[tuple[str, int], tuple[str, str]]:
    rows = Message.objects.filter(campaign=campaign).values_list("customer__email", "step__position", "status", "error")
    return {(email, position): (status, error) for email, position, status, error in rows}


def test_lapsed_buyer_gets_one_win_back_message_per_lapse(shop, fake_esp):  # noqa: F811
    lapsed, win_back = shop["lapsed"], shop["win_back"]
    tick(NOON)
    messages_send_due(budget_seconds=20)
    assert fake_esp.times_mailed("lapsed@example.com") == 1  # the sunset no longer blocks win-back
    first = Message.objects.get(campaign=win_back, customer=lapsed, step__position=1)
    assert first.status == MessageStatus.SENT
    assert first.context["sunset_exception"] == "win-back once per lapse"

    tick(NOON + WEEK)
    tick(NOON + WEEK + timedelta(days=6))
    messages_send_due(budget_seconds=20)
    assert fake_esp.times_mailed("lapsed@example.com") == 1  # then sunset holds for the rest of the lapse
    found = statuses(win_back)
    reason = "sunset: not engaged for 180 days; win-back already mailed once since the last order (2025-08-04)"
    assert found[("lapsed@example.com", 2)] == ("skipped", reason)
    assert found[("lapsed@example.com", 3)] == ("skipped", reason)

    # They come back and buy, then drift away again: a new lapse, one more win-back message.
    again = NOON + timedelta(days=20)
    Order.objects.create(external_id="back-again", customer=lapsed, placed_at=again, total=Decimal("30.00"))
    lapsed.last_engaged_at = again
    lapsed.save(update_fields=["last_engaged_at"])
    tick(again + timedelta(hours=1))  # the order ends the finished journey; re-entry waits 30 days
    tick(again + timedelta(days=200))
    messages_send_due(budget_seconds=20)
    assert fake_esp.times_mailed("lapsed@example.com") == 2
    assert Message.objects.filter(campaign=win_back, customer=lapsed, status=MessageStatus.SENT).count() == 2


def test_sunset_still_applies_to_other_campaigns_and_to_people_with_nothing_to_win_back(shop, fake_esp):  # noqa: F811
    tick(NOON)
    messages_send_due(budget_seconds=20)
    assert fake_esp.times_mailed("lead@example.com") == 0
    loyalty = statuses(shop["loyalty"])
    assert loyalty[("lapsed@example.com", 1)] == ("skipped", "sunset: not engaged for 180 days")
    assert loyalty[("lead@example.com", 1)] == ("skipped", "sunset: not engaged for 180 days")
    win_back = statuses(shop["win_back"])
    assert win_back[("lead@example.com", 1)] == ("skipped", "sunset: not engaged for 180 days; no order to win back")
