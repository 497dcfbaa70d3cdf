"""The send path against a live fake ESP over HTTP, through anymail's real Postmark backend."""

from __future__ import annotations

import time

import pytest
from django.db import IntegrityError, transaction

from campaigns.models import CampaignStatus, Enrollment, Message, MessageStatus
from campaigns.services.sending import campaign_send_now, message_plan_one_off, message_send_batch, messages_send_due
from customers.models import ConsentChange, EmailStatus
from customers.services.suppression import address_is_suppressed, address_suppress, customer_set_email_status
from tests.fake_esp import INVALID

pytestmark = pytest.mark.django_db


def send_until_done(*, seconds: float = 5.0) -> None:
    """Run the send loop (what the beat task does) until nothing is queued or time is up."""
    stop = time.monotonic() + seconds
    while Message.objects.filter(status=MessageStatus.QUEUED).exists() and time.monotonic() < stop:
        messages_send_due(budget_seconds=5)
        time.sleep(0.05)


def test_each_customer_is_mailed_exactly_once_and_a_rerun_sends_nothing(
    fake_esp, make_customers, make_campaign, django_capture_on_commit_callbacks
):
    customers = make_customers(25)
    campaign = make_campaign()

    with django_capture_on_commit_callbacks(execute=False) as kicks:
        planned = campaign_send_now(campaign=campaign, everyone=True)  # no segment: staff confirmed everyone
    assert planned == 25
    assert kicks, "sending is started when the plan commits"

    messages_send_due(budget_seconds=10)
    messages_send_due(budget_seconds=10)

    assert fake_esp.stats()["recipients"] == {c.email: 1 for c in customers}
    sent = Message.objects.filter(campaign=campaign)
    assert sent.count() == 25
    assert set(sent.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert set(sent.values_list("esp_message_id", flat=True)) == {m["MessageID"] for m in fake_esp.messages()}
    assert message_plan_one_off(campaign=campaign) == 0, "planning again queues nobody twice"
    messages_send_due(budget_seconds=2)
    assert fake_esp.stats()["accepted"] == 25


def test_mail_carries_unsubscribe_headers_metadata_and_personal_content(fake_esp, make_customers, make_campaign):
    customer = make_customers(1)[0]
    campaign = make_campaign()
    message_plan_one_off(campaign=campaign)
    messages_send_due(budget_seconds=5)

    message = Message.objects.get(campaign=campaign)
    [received] = fake_esp.messages()
    headers = received["Headers"]
    https, mailto = headers["List-Unsubscribe"].split(", ")
    assert https.startswith("<http") and "/u/" in https
    assert mailto.startswith("<mailto:")
    assert customer.email not in headers["List-Unsubscribe"]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Id"] == f"<campaign-{campaign.pk}.shop.example>"
    assert received["Metadata"] == {"message_id": str(message.pk), "campaign_id": str(campaign.pk)}
    assert received["Tag"] == "one_off"
    assert received["Subject"] == "Hi Name0"
    assert "Hello Name0" in received["HtmlBody"] and "Hello Name0" in received["TextBody"]
    assert message.esp_message_id == received["MessageID"]
    assert message.template_version_id == campaign.steps.get().template.current_version_id
    assert message.subject == "Hi Name0"


def test_unsubscribed_or_suppressed_after_planning_is_not_sent(fake_esp, make_customers, make_campaign):
    first, second, third = make_customers(3)
    campaign = make_campaign()
    message_plan_one_off(campaign=campaign)

    customer_set_email_status(customer=first, status=EmailStatus.UNSUBSCRIBED, source="unsubscribe_link")
    address_suppress(email=second.email, reason="manual")
    messages_send_due(budget_seconds=5)

    statuses = dict(Message.objects.filter(campaign=campaign).values_list("customer__email", "status"))
    assert statuses == {
        first.email: MessageStatus.SUPPRESSED,
        second.email: MessageStatus.SUPPRESSED,
        third.email: MessageStatus.SENT,
    }
    assert fake_esp.stats()["recipients"] == {third.email: 1}


def test_429_and_500_are_retried_later_with_backoff_and_still_mailed_once(fake_esp, make_customers, make_campaign):
    customers = make_customers(12)
    campaign = make_campaign()
    message_plan_one_off(campaign=campaign)
    fake_esp.fail_next(3, status=429)
    fake_esp.fail_next(2, status=500)

    message_send_batch()
    waiting = Message.objects.filter(status=MessageStatus.QUEUED)
    assert waiting.count() == 5
    assert all(m.not_before > m.claimed_at and m.attempts == 1 for m in waiting)

    send_until_done()
    assert fake_esp.stats()["recipients"] == {c.email: 1 for c in customers}
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 12
    assert Message.objects.filter(attempts=2).count() == 5


def test_transient_errors_give_up_after_the_attempt_limit(fake_esp, settings, make_customers, make_campaign):
    settings.SEND_MAX_ATTEMPTS = 2
    make_customers(2)
    campaign = make_campaign()
    message_plan_one_off(campaign=campaign)
    fake_esp.fail_next(100, status=503)

    send_until_done()
    failed = Message.objects.filter(campaign=campaign)
    assert set(failed.values_list("status", flat=True)) == {MessageStatus.FAILED}
    assert all(m.attempts == 2 and "Gave up" in m.error for m in failed)
    assert fake_esp.stats()["accepted"] == 0


@pytest.mark.parametrize("code", [406, INVALID])
def test_refused_recipient_fails_and_the_address_is_suppressed(fake_esp, code, make_customers, make_campaign):
    good, bad = make_customers(2)
    fake_esp.reject(bad.email, code=code)
    campaign = make_campaign()
    message_plan_one_off(campaign=campaign)
    messages_send_due(budget_seconds=5)

    assert Message.objects.get(customer=bad).status == MessageStatus.FAILED
    assert Message.objects.get(customer=good).status == MessageStatus.SENT
    bad.refresh_from_db()
    assert bad.email_status == EmailStatus.BOUNCED
    assert address_is_suppressed(email=bad.email)
    assert ConsentChange.objects.filter(customer=bad, source="esp_reject", new_value=EmailStatus.BOUNCED).exists()
    assert message_plan_one_off(campaign=make_campaign(name="Next")) == 1, "the bounced address is not planned again"


def test_paused_campaign_is_not_sent_until_resumed(fake_esp, make_customers, make_campaign):
    make_customers(3)
    campaign = make_campaign(status=CampaignStatus.ACTIVE)
    message_plan_one_off(campaign=campaign)
    campaign.status = CampaignStatus.PAUSED
    campaign.save()

    messages_send_due(budget_seconds=2)
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.QUEUED}
    assert fake_esp.stats()["requests"] == 0

    campaign.status = CampaignStatus.ACTIVE
    campaign.save()
    messages_send_due(budget_seconds=5)
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


def test_the_database_refuses_duplicate_messages(make_customers, make_campaign):
    """One rule for every path: (campaign, customer, step, entry), whether "send now" or the tick wrote it."""
    customer = make_customers(1)[0]
    campaign = make_campaign()
    step = campaign.steps.get()
    Message.objects.create(customer=customer, campaign=campaign, step=step, entry=1)  # "send now"
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(customer=customer, campaign=campaign, step=step, entry=1)

    # The journeys tick's first entry of the same customer is the same message: refused too.
    enrollment = Enrollment.objects.create(campaign=campaign, customer=customer, entry=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(customer=customer, campaign=campaign, enrollment=enrollment, step=step, entry=1)

    # A re-entry after reentry_days is a new entry, with a message of its own, once.
    Enrollment.objects.filter(pk=enrollment.pk).update(status="completed")
    again = Enrollment.objects.create(campaign=campaign, customer=customer, entry=2)
    Message.objects.create(customer=customer, campaign=campaign, enrollment=again, step=step, entry=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(customer=customer, campaign=campaign, enrollment=again, step=step, entry=2)
    # Test sends ("Send me a test") are outside the rule.
    Message.objects.create(customer=customer, campaign=campaign, step=step, entry=1, is_test=True)
    Message.objects.create(customer=customer, campaign=campaign, step=step, entry=1, is_test=True)

    # At most one active enrollment per campaign and customer.
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(campaign=campaign, customer=customer, entry=3)


def test_lifecycle_rows_use_the_steps_current_version(fake_esp, make_customers, make_campaign):
    customer = make_customers(1)[0]
    campaign = make_campaign(status=CampaignStatus.ACTIVE)
    step = campaign.steps.get()
    enrollment = Enrollment.objects.create(campaign=campaign, customer=customer)
    message = Message.objects.create(customer=customer, campaign=campaign, enrollment=enrollment, step=step)

    messages_send_due(budget_seconds=5)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.template_version_id == step.template.current_version_id
    assert fake_esp.times_mailed(customer.email) == 1


def test_connection_refused_is_retried_not_lost(fake_esp, settings, make_customers, make_campaign):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_API_URL": f"http://127.0.0.1:{closed_port}/"}
    make_customers(1)
    message_plan_one_off(campaign=make_campaign())
    messages_send_due(budget_seconds=2)

    message = Message.objects.get()
    assert message.status == MessageStatus.QUEUED
    assert message.not_before is not None and message.attempts == 1
