from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from campaigns.journeys.models import ABTest, ABVariant
from campaigns.journeys.services.tick import journeys_tick
from campaigns.models import Message, MessageStatus
from tracking.models import TrackingEvent

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_caps(settings):
    settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0


def human_click(message: Message) -> None:
    TrackingEvent.objects.create(
        event_uuid=uuid.uuid4(),
        message=message,
        customer=message.customer,
        kind="click",
        occurred_at=message.sent_at + timedelta(hours=1),
        verdict="human",
        counts_as_human=True,
    )


def test_sample_is_split_then_everyone_else_gets_the_winner(campaign, customer, template):
    for _ in range(30):
        customer()
    journey = campaign(rules={})
    step = journey.steps.get()
    challenger = template("Same email, bolder subject")
    test = ABTest.objects.create(step=step, sample_size=10, decide_after=timedelta(hours=24))
    ABVariant.objects.create(test=test, template=challenger)

    with time_machine.travel(NOON, tick=False):
        journeys_tick()
    sample = list(Message.objects.select_related("template_version__template"))
    arms = [m.template_version.template for m in sample]
    assert len(sample) == 10 and arms.count(challenger) == 5 and arms.count(step.template) == 5
    Message.objects.update(status=MessageStatus.SENT, sent_at=NOON)
    for message in Message.objects.filter(template_version__template=challenger)[:3]:
        human_click(message)
    control_click = Message.objects.filter(template_version__template=step.template).first()
    TrackingEvent.objects.create(  # a scanner click does not count
        event_uuid=uuid.uuid4(), message=control_click, kind="click", occurred_at=NOON, verdict="scanner"
    )

    with time_machine.travel(NOON + timedelta(hours=23), tick=False):
        journeys_tick()
    assert Message.objects.count() == 10  # the rest wait for the decision

    with time_machine.travel(NOON + timedelta(hours=24), tick=False):
        journeys_tick()
    test.refresh_from_db()
    assert test.winner == challenger
    assert test.results[challenger.name] == {"sent": 5, "human_clicks": 3, "click_rate": 0.6}
    rest = Message.objects.filter(created_at=NOON + timedelta(hours=24))
    assert rest.count() == 20
    assert set(rest.values_list("template_version__template", flat=True)) == {challenger.pk}
