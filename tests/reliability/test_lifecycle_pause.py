"""Pausing a lifecycle campaign mid-send holds both its queued mail and its scheduler; resuming
continues where it stopped: no step skipped, none repeated, everyone mailed once per step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.journeys.services.tick import journeys_tick
from campaigns.models import CampaignStatus, Message, MessageStatus
from campaigns.services.sending import message_send_batch, messages_send_due
from tests.campaigns.conftest import fake_esp  # noqa: F401 - fixture
from tests.journeys.conftest import campaign, customer, template  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

N = 30


@pytest.fixture(autouse=True)
def _any_time_no_caps(settings):
    settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0
    settings.QUIET_HOURS_START = settings.QUIET_HOURS_END = 0


def test_pause_and_resume_a_lifecycle_campaign(fake_esp, campaign, customer):  # noqa: F811
    emails = {customer(email=f"life{i}@example.test").email for i in range(N)}
    journey = campaign(rules={}, steps=[(timedelta(), {}), (timedelta(), {})])
    journeys_tick()
    assert message_send_batch(batch_size=10)["sent"] == 10

    journey.status = CampaignStatus.PAUSED
    journey.save(update_fields=["status"])
    rows = Message.objects.filter(campaign=journey)
    held = (rows.count(), fake_esp.stats()["accepted"])
    for _ in range(3):
        journeys_tick()
        assert messages_send_due(budget_seconds=2) == {}
    assert (rows.count(), fake_esp.stats()["accepted"]) == held, "a paused journey planned or sent mail"

    journey.status = CampaignStatus.ACTIVE
    journey.save(update_fields=["status"])
    for _ in range(4):  # ticks and send passes, as beat would run them
        journeys_tick()
        messages_send_due(budget_seconds=5)
    assert rows.count() == 2 * N
    assert not rows.exclude(status=MessageStatus.SENT).exists()
    assert fake_esp.stats()["recipients"] == dict.fromkeys(emails, 2)
    accepted = sorted(int(m["Metadata"]["message_id"]) for m in fake_esp.messages())
    assert accepted == sorted(rows.values_list("pk", flat=True)), "each message went out exactly once"
