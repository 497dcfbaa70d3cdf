from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from campaigns.journeys.models import ABTest, ABVariant
from campaigns.journeys.services.ab_tests import ab_test_create
from campaigns.journeys.services.advance import enrollments_advance
from campaigns.journeys.services.tick import journeys_tick
from campaigns.models import Enrollment, Message, MessageStatus
from campaigns.selectors.campaign_page import campaign_ab_results
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


def test_mail_queued_before_the_test_is_in_no_arm_and_leaves_the_sample_whole(campaign, customer, template):
    journey = campaign(rules={})
    step = journey.steps.get()
    for _ in range(4):  # enrolled and mailed before anyone set up the test
        early = customer()
        enrollment = Enrollment.objects.create(campaign=journey, customer=early, entered_at=NOON, next_step=2)
        Message.objects.create(
            customer=early,
            campaign=journey,
            step=step,
            enrollment=enrollment,
            template_version=step.template.current_version,
            status=MessageStatus.SENT,
            sent_at=NOON - timedelta(hours=2),
            created_at=NOON - timedelta(hours=2),
        )
    challenger = template("Bolder subject")
    test = ab_test_create(step=step, variants=[challenger], sample_size=4, decide_after=timedelta(hours=24), user=None)
    for _ in range(6):
        late = customer()
        Enrollment.objects.create(campaign=journey, customer=late, entered_at=NOON, due_at=NOON)

    with time_machine.travel(NOON, tick=False):
        enrollments_advance(campaign=journey, now=NOON)
    test.refresh_from_db()
    mailed = Message.objects.filter(step=step, created_at__gte=test.started_at).select_related("template_version")
    arms = [m.template_version.template_id for m in mailed]
    assert arms.count(challenger.pk) == 2 and arms.count(step.template_id) == 2  # the whole sample of 4
    Message.objects.filter(status=MessageStatus.QUEUED).update(status=MessageStatus.SENT, sent_at=NOON)
    shown = {arm["label"]: arm["sent"] for arm in campaign_ab_results(campaign=journey)[0]["arms"]}
    assert shown == {"Arm A": 2, "Arm B": 2}


def test_an_ab_test_needs_a_variant_other_than_the_step_template(campaign):
    step = campaign(rules={}).steps.get()
    with pytest.raises(ValidationError, match="at least one variant"):
        ab_test_create(step=step, variants=[step.template], sample_size=10, decide_after=timedelta(hours=4), user=None)
