"""A batch stopped mid-way records what it knows, transient faults are retried, slots are not wasted."""

from __future__ import annotations

import signal
import time
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Message,
    MessageStatus,
    Step,
    Template,
    TemplateVersion,
)
from campaigns.selectors.sending import messages_unknown_unchecked
from campaigns.services.sending import (
    message_plan_one_off,
    message_send_batch,
    messages_reconcile,
    messages_send_due,
    ratelimit,
)
from campaigns.services.sending.esp_lookup import CANNOT_TELL
from customers.models import Customer

HTML = (
    "<html><body><p>Hi {{ customer.first_name }}</p>"
    "{% for p in recommended_products %}{{ p.name }}{% endfor %}"
    "{% if last_order %}{{ last_order.total }}{% endif %}"
    "<a href='{{ unsubscribe_url }}'>u</a><a href='https://shop.example/x'>x</a></body></html>"
)


def _campaign() -> Campaign:
    template = Template.objects.create(name="t", subject="s", mjml="<mjml></mjml>", is_valid=True)
    template.current_version = TemplateVersion.objects.create(
        template=template, number=1, subject="Hi", preheader="p", mjml="<mjml></mjml>", compiled_html=HTML
    )
    template.save(update_fields=["current_version"])
    campaign = Campaign.objects.create(name="c", kind=CampaignKind.ONE_OFF, status=CampaignStatus.ACTIVE)
    Step.objects.create(campaign=campaign, position=1, template=template)
    return campaign


@pytest.fixture
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SEND_RATE_PER_SECOND = 0
    mail.outbox = []
    ratelimit._bucket.cache_clear()
    yield
    ratelimit._bucket.cache_clear()


@pytest.mark.django_db(transaction=True)
def test_a_batch_stopped_by_the_time_limit_records_every_mail_it_handed_over(settings, locmem):
    settings.SEND_RATE_PER_SECOND = 10
    settings.SEND_CONCURRENCY = 2
    Customer.objects.bulk_create(
        [Customer(consent="granted", email=f"s{i}@example.test", first_name="A") for i in range(30)]
    )
    message_plan_one_off(campaign=_campaign())

    def soft_limit(signum, frame):
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, soft_limit)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(SoftTimeLimitExceeded):
            message_send_batch(batch_size=30)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    handed_over = {m.to[0] for m in mail.outbox}
    sent = set(Message.objects.filter(status=MessageStatus.SENT).values_list("customer__email", flat=True))
    assert sent == handed_over and 0 < len(sent) < 30
    assert not Message.objects.filter(status=MessageStatus.SENDING).exists()
    assert Message.objects.filter(status=MessageStatus.QUEUED).count() == 30 - len(sent)


@pytest.mark.django_db(transaction=True)
def test_a_time_limit_while_rendering_puts_the_rows_not_handed_over_back_in_the_queue(locmem, monkeypatch):
    import campaigns.services.sending.delivery as delivery

    Customer.objects.bulk_create(
        [Customer(consent="granted", email=f"r{i}@example.test", first_name="A") for i in range(10)]
    )
    message_plan_one_off(campaign=_campaign())
    build, calls = delivery.message_email_build, []

    def limited(**kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise SoftTimeLimitExceeded()
        return build(**kwargs)

    monkeypatch.setattr(delivery, "message_email_build", limited)
    with pytest.raises(SoftTimeLimitExceeded):
        messages_send_due(batch_size=10)

    handed_over = {m.to[0] for m in mail.outbox}
    sent = set(Message.objects.filter(status=MessageStatus.SENT).values_list("customer__email", flat=True))
    assert sent == handed_over and len(sent) <= 4  # four were rendered; the pool starts no call once stopped
    assert not Message.objects.filter(status=MessageStatus.SENDING).exists()  # nothing waits for reconcile
    released = Message.objects.filter(status=MessageStatus.QUEUED)
    assert released.count() == 10 - len(sent) and set(released.values_list("attempts", flat=True)) == {0}


@pytest.mark.django_db(transaction=True)
def test_a_stop_between_claim_and_rendering_gives_the_whole_claim_back(locmem, monkeypatch):
    import campaigns.services.sending.delivery as delivery

    Customer.objects.bulk_create(
        [Customer(consent="granted", email=f"g{i}@example.test", first_name="A") for i in range(6)]
    )
    message_plan_one_off(campaign=_campaign())

    def interrupted(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(delivery, "messages_for_delivery", interrupted)
    with pytest.raises(SoftTimeLimitExceeded):
        messages_send_due(batch_size=6)

    assert mail.outbox == []
    queued = Message.objects.filter(status=MessageStatus.QUEUED)
    assert queued.count() == 6 and set(queued.values_list("attempts", flat=True)) == {0}


@pytest.mark.django_db(transaction=True)
def test_outcomes_whose_write_failed_are_written_before_giving_up(locmem, monkeypatch):
    import campaigns.services.sending.delivery as delivery

    Customer.objects.bulk_create(
        [Customer(consent="granted", email=f"w{i}@example.test", first_name="A") for i in range(10)]
    )
    message_plan_one_off(campaign=_campaign())
    record, failures = delivery.outcomes_record_sent, []

    def fails_once(**kwargs):
        if not failures:
            failures.append(1)
            raise OperationalError("server closed the connection unexpectedly")
        return record(**kwargs)

    monkeypatch.setattr(delivery, "outcomes_record_sent", fails_once)
    with pytest.raises(OperationalError):
        message_send_batch(batch_size=10)

    assert len(mail.outbox) == 10
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 10


@pytest.mark.django_db(transaction=True)
def test_a_database_fault_while_rendering_is_retried_not_failed(locmem, monkeypatch):
    import tracking.link_rewriting as link_rewriting

    Customer.objects.create(consent="granted", email="blip@example.test")
    message_plan_one_off(campaign=_campaign())

    def closed(urls):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(link_rewriting, "tracked_url_ids", closed)
    message_send_batch()
    message = Message.objects.get()
    assert message.status == MessageStatus.QUEUED and not mail.outbox

    monkeypatch.undo()
    Message.objects.update(not_before=None)  # the backoff has passed
    message_send_batch()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_order_and_product_context_costs_the_same_queries_for_5_or_40_recipients(locmem):
    def queries_for(n: int, prefix: str) -> int:
        Customer.objects.bulk_create(
            [
                Customer(
                    email=f"{prefix}{i}@example.test",
                    first_name="A",
                    last_order_at=timezone.now(),
                    orders_count=1,
                    consent="granted",
                )
                for i in range(n)
            ]
        )
        campaign = _campaign() if not Campaign.objects.exists() else Campaign.objects.get()
        message_plan_one_off(campaign=campaign)
        with CaptureQueriesContext(connection) as captured:
            counts = message_send_batch(batch_size=1000)
        assert counts.get("sent") == n
        return len(captured.captured_queries)

    few, many = queries_for(5, "a"), queries_for(40, "b")
    assert many - few <= 4, (few, many)


def test_a_slot_given_up_at_the_deadline_is_handed_back(settings):
    settings.SEND_RATE_PER_SECOND = 1
    settings.REDIS_URL = ""
    ratelimit._bucket.cache_clear()
    gave_up = sum(1 for _ in range(20) if not ratelimit.send_slot_wait(deadline=time.monotonic() + 0.5))
    bucket = ratelimit._bucket(1.0, settings.EMAIL_BACKEND, "")
    assert gave_up >= 18
    assert bucket.reserve() <= 1.0  # not 20 s of debt left by the slots nobody used
    ratelimit._bucket.cache_clear()


@pytest.mark.django_db
def test_a_message_the_esp_could_not_answer_about_is_asked_again(settings, monkeypatch):
    from campaigns.services.sending import reconcile

    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.SEND_RECONCILE_LOOKUP = True
    monkeypatch.setattr(reconcile, "esp_message_lookup", lambda **kwargs: CANNOT_TELL)
    customer = Customer.objects.create(consent="granted", email="r@example.test")
    message = Message.objects.create(
        customer=customer,
        status=MessageStatus.UNKNOWN,
        claimed_at=timezone.now() - timedelta(hours=1),
        claim_token="x",
        is_test=True,
    )
    messages_reconcile()
    message.refresh_from_db()
    assert message.status == MessageStatus.UNKNOWN and message.esp_checked_at is None
    assert messages_unknown_unchecked(claimed_before=timezone.now()).filter(pk=message.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_each_claimed_row_takes_one_outcome_and_the_workers_answer_beats_unknown():
    from campaigns.services.sending.outcomes import RELEASED, SENT, Outcome, outcome_record, outcomes_record_sent

    Customer.objects.bulk_create([Customer(consent="granted", email=f"o{i}@example.test") for i in range(3)])
    message_plan_one_off(campaign=_campaign())
    first, second, third = Message.objects.order_by("pk")
    Message.objects.update(status=MessageStatus.SENDING, claim_token="t1", attempts=1)
    # Reconcile could not tell and marked one unknown (the claim token stays); the worker then answers.
    Message.objects.filter(pk=first.pk).update(status=MessageStatus.UNKNOWN)
    outcomes_record_sent(sent=[(first, "Hi", Outcome(SENT, esp_message_id="esp-1"))], claim_token="t1")
    # A row that already took an outcome (queued again after a retry) ignores a second one.
    Message.objects.filter(pk=second.pk).update(status=MessageStatus.QUEUED)
    outcome_record(message=second, claim_token="t1", outcome=Outcome(RELEASED))
    outcomes_record_sent(sent=[(second, "Hi", Outcome(SENT, esp_message_id="esp-2"))], claim_token="t1")
    # Another claim's answer never touches a row.
    outcome_record(message=third, claim_token="other", outcome=Outcome(SENT, esp_message_id="esp-3"))

    first.refresh_from_db(), second.refresh_from_db(), third.refresh_from_db()
    assert (first.status, first.esp_message_id) == (MessageStatus.SENT, "esp-1")
    assert (second.status, second.attempts, second.esp_message_id) == (MessageStatus.QUEUED, 1, "")
    assert third.status == MessageStatus.SENDING
