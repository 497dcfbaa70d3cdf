"""ESP webhooks through anymail's real Postmark tracking view: auth, dedupe, suppression."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignKind, Message, MessageStatus
from config.celery import app as celery_app
from customers.models import ConsentChange, Customer, EmailStatus, SuppressedAddress
from customers.selectors import customer_mailable_ids
from customers.services.suppression import address_is_suppressed, email_hash
from tracking.feedback_tasks import process_pending_esp_events
from tracking.models import EspEvent
from tracking.services.esp_events import esp_event_process

pytestmark = pytest.mark.django_db

SECRET = "hooks:s3cret-for-tests"
ESP_MESSAGE_ID = "883953f4-6105-42a2-a16a-77a8eac79483"


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}


@pytest.fixture
def eager_celery():
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def message() -> Message:
    customer = Customer.objects.create(email="john@example.com", first_name="John")
    campaign = Campaign.objects.create(name="Cross-sell", kind=CampaignKind.CROSS_SELL)
    return Message.objects.create(
        customer=customer, campaign=campaign, status=MessageStatus.SENT, esp_message_id=ESP_MESSAGE_ID
    )


@pytest.fixture
def post_event(client, eager_celery, django_capture_on_commit_callbacks):
    url = reverse("anymail:postmark_tracking_webhook")
    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()

    def post(payload: dict, *, authorization: str | None = auth):
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data=json.dumps(payload), content_type="application/json", **headers)

    return post


def delivery(message: Message) -> dict:
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": ESP_MESSAGE_ID,
        "Recipient": "john@example.com",
        "Tag": "cross-sell",
        "DeliveredAt": "2026-11-05T16:33:54.9070259Z",
        "Details": "Test delivery webhook details",
        "Metadata": {"message_id": str(message.pk), "campaign_id": str(message.campaign_id)},
    }


def bounce(bounce_type: str = "HardBounce", *, bounce_id: int = 4323372036854775807) -> dict:
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": bounce_id,
        "Type": bounce_type,
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "cross-sell",
        "MessageID": ESP_MESSAGE_ID,
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": "john@example.com",
        "From": "hello@shop.example",
        "BouncedAt": "2026-11-05T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "You might also like",
    }


def spam_complaint() -> dict:
    return {
        **bounce("SpamComplaint", bounce_id=42),
        "RecordType": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Description": "",
        "Details": "Test spam complaint details",
        "CanActivate": False,
    }


def test_webhook_url_keeps_anymail_namespace():
    assert reverse("anymail:postmark_tracking_webhook") == "/webhooks/anymail/postmark/tracking/"


def test_delivered_sets_delivered_at_and_keeps_only_a_hash_of_the_recipient(post_event, message):
    assert post_event(delivery(message)).status_code == 200
    message.refresh_from_db()
    assert message.delivered_at is not None and message.delivered_at.year == 2026
    event = EspEvent.objects.get()
    assert (event.esp, event.event_type, event.message_id) == ("postmark", "delivered", message.pk)
    assert event.recipient_hash == email_hash("john@example.com")
    assert event.processed_at is not None
    assert event.event_id.startswith("postmark:derived:")
    assert _customer(message).email_status == EmailStatus.SUBSCRIBED


def test_hard_bounce_marks_customer_bounced_and_suppressed(post_event, message):
    assert post_event(bounce()).status_code == 200
    customer = _customer(message)
    assert customer.email_status == EmailStatus.BOUNCED
    assert address_is_suppressed(email="john@example.com")
    assert customer_mailable_ids(customer_ids=[customer.pk]) == set()
    change = ConsentChange.objects.get()
    assert (change.source, change.new_value, change.detail) == ("webhook:postmark", "bounced", f"message:{message.pk}")
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    event = EspEvent.objects.get()
    assert (event.event_type, event.reject_reason, event.message_id) == ("bounced", "bounced", message.pk)


def test_spam_complaint_suppresses(post_event, message):
    assert post_event(spam_complaint()).status_code == 200
    assert _customer(message).email_status == EmailStatus.COMPLAINED
    assert address_is_suppressed(email="john@example.com")
    assert EspEvent.objects.get().event_type == "complained"


def test_soft_bounce_does_not_suppress(post_event, message):
    assert post_event(bounce("SoftBounce", bounce_id=7)).status_code == 200
    assert post_event(bounce("Transient", bounce_id=8)).status_code == 200
    assert _customer(message).email_status == EmailStatus.SUBSCRIBED
    assert not SuppressedAddress.objects.exists()
    assert set(EspEvent.objects.values_list("event_type", flat=True)) == {"deferred"}


def test_rejected_address_is_suppressed(post_event, message):
    assert post_event(bounce("BadEmailAddress", bounce_id=9)).status_code == 200
    assert _customer(message).email_status == EmailStatus.BOUNCED
    assert SuppressedAddress.objects.get().reason == "rejected"


def test_replayed_events_are_stored_and_applied_once(post_event, message):
    for _ in range(3):
        assert post_event(delivery(message)).status_code == 200
        assert post_event(bounce()).status_code == 200
        assert post_event(spam_complaint()).status_code == 200
    assert EspEvent.objects.count() == 3
    assert sorted(EspEvent.objects.values_list("event_type", flat=True)) == ["bounced", "complained", "delivered"]
    assert ConsentChange.objects.count() == 2  # subscribed → bounced → complained
    assert _customer(message).email_status == EmailStatus.COMPLAINED
    assert SuppressedAddress.objects.count() == 1


def test_unauthenticated_or_wrong_secret_is_refused_and_stores_nothing(post_event, message):
    assert post_event(bounce(), authorization=None).status_code == 400
    wrong = "Basic " + base64.b64encode(b"hooks:wrong").decode()
    assert post_event(bounce(), authorization=wrong).status_code == 400
    assert not EspEvent.objects.exists()
    assert _customer(message).email_status == EmailStatus.SUBSCRIBED


def test_bounce_for_an_unknown_address_still_suppresses_it(post_event):
    payload = {**bounce(bounce_id=11), "MessageID": "not-ours", "Email": "Stranger@Example.org"}
    assert post_event(payload).status_code == 200
    later = Customer.objects.create(email="stranger@example.org")
    assert customer_mailable_ids(customer_ids=[later.pk]) == set()


def test_processing_is_idempotent_and_the_sweep_applies_lost_tasks(client, message):
    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()
    url = reverse("anymail:postmark_tracking_webhook")
    # No on-commit callbacks run here: as if the broker lost the task.
    client.post(url, data=json.dumps(bounce()), content_type="application/json", HTTP_AUTHORIZATION=auth)
    event = EspEvent.objects.get()
    assert event.processed_at is None
    assert process_pending_esp_events() == 0  # too recent to be considered lost
    EspEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    assert process_pending_esp_events() == 1
    assert esp_event_process(esp_event_id=event.pk) is False
    assert _customer(message).email_status == EmailStatus.BOUNCED
    assert ConsentChange.objects.count() == 1


def test_production_without_webhook_secret_fails_the_system_check(settings):
    settings.APP_ENV = "production"
    settings.ANYMAIL = {key: value for key, value in settings.ANYMAIL.items() if key != "WEBHOOK_SECRET"}
    assert "tracking.E001" in {message.id for message in run_checks()}
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}
    assert "tracking.E001" not in {message.id for message in run_checks()}


def _customer(message: Message) -> Customer:
    return Customer.objects.get(pk=message.customer_id)
