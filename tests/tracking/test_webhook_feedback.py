"""ESP feedback as SendGrid, Postmark and Mailgun really send it, POSTed to the real webhook URLs.

- A temporary block (SendGrid `bounce` with `type: "blocked"`, Postmark `Blocked`) is recorded
  and suppresses no one; a permanent bounce still does.
- Mailgun re-delivers an event with a fresh signature: it is stored once (the ESP's event id).
- Mailgun's `event-data.client-info.bot` marks machine opens.
- A malformed body answers 400; a batch with one bad event keeps the good ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

import pytest
from django.urls import reverse

from campaigns.models import Campaign, CampaignKind, Message, MessageStatus
from config.celery import app as celery_app
from customers.models import Consent, Customer, EmailStatus
from customers.selectors import customer_mailable_ids
from customers.services.suppression import address_is_suppressed
from tracking.models import EspEvent, TrackingEvent, Verdict
from tracking.services.classification import tracking_events_classify

pytestmark = pytest.mark.django_db

SECRET = "hooks:s3cret-for-tests"
MAILGUN_KEY = "mailgun-signing-key-for-tests"
AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    def send(esp: str, body: object, *, raw: bytes | None = None):
        url = reverse(f"anymail:{esp}_tracking_webhook")
        data = raw if raw is not None else json.dumps(body)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data=data, content_type="application/json", **AUTH)

    return send


def sent_message(email: str, esp_message_id: str) -> Message:
    customer = Customer.objects.create(email=email, first_name=email.split("@")[0].title(), consent=Consent.GRANTED)
    campaign, _ = Campaign.objects.get_or_create(name="Cross-sell", kind=CampaignKind.CROSS_SELL)
    return Message.objects.create(
        customer=customer, campaign=campaign, status=MessageStatus.SENT, esp_message_id=esp_message_id
    )


def sendgrid_bounce(message: Message, *, kind: str, event_id: str) -> dict:
    """SendGrid's Event Webhook `bounce`: `type` is "bounce" (permanent) or "blocked" (temporary)."""
    return {
        "email": message.customer.email,
        "timestamp": 1764582000,
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "event": "bounce",
        "category": ["cross-sell"],
        "sg_event_id": event_id,
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "reason": "550 5.7.1 Service unavailable; client host blocked using Spamhaus"
        if kind == "blocked"
        else "550 5.1.1 The email account that you tried to reach does not exist",
        "status": "5.7.1" if kind == "blocked" else "5.1.1",
        "type": kind,
        "bounce_classification": "Reputation" if kind == "blocked" else "Invalid Address",
        "message_id": str(message.pk),
        "campaign_id": str(message.campaign_id),
    }


def postmark_bounce(message: Message, *, bounce_type: str, type_code: int, bounce_id: int) -> dict:
    """Postmark's Bounce webhook."""
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": bounce_id,
        "Type": bounce_type,
        "TypeCode": type_code,
        "Name": "ISP block" if bounce_type == "Blocked" else "Hard bounce",
        "Tag": "cross-sell",
        "MessageID": message.esp_message_id,
        "Metadata": {"message_id": str(message.pk)},
        "ServerID": 23,
        "Description": "The ISP has blocked this message."
        if bounce_type == "Blocked"
        else "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;554 5.7.1 Message blocked due to sender reputation",
        "Email": message.customer.email,
        "From": "hello@shop.example",
        "BouncedAt": "2026-11-30T16:33:54.9070259Z",
        "DumpAvailable": False,
        "Inactive": bounce_type == "HardBounce",
        "CanActivate": True,
        "Subject": "You might also like",
    }


def mailgun_signed(event_data: dict) -> dict:
    """A Mailgun webhook body, signed as Mailgun signs each delivery (a fresh token every time)."""
    timestamp, token = "1764582000", secrets.token_hex(25)
    signature = hmac.new(MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": event_data}


def mailgun_event(message: Message, event: str, **extra) -> dict:
    return {
        "event": event,
        "id": "G9Bn5sl1TC6nu79C8C0bwg",
        "timestamp": 1764582000.375624,
        "log-level": "info" if event != "failed" else "error",
        "recipient": message.customer.email,
        "recipient-domain": "example.com",
        "message": {"headers": {"message-id": message.esp_message_id, "to": message.customer.email}},
        "user-variables": {"message_id": str(message.pk)},
        "tags": ["cross-sell"],
        "flags": {"is-authenticated": True, "is-test-mode": False},
        **extra,
    }


def is_suppressed(message: Message) -> bool:
    """Not mailable any more (status, consent or the suppression list), as the sender decides at claim time."""
    customer = Customer.objects.get(pk=message.customer_id)
    suppressed = customer.email_status != EmailStatus.SUBSCRIBED or address_is_suppressed(email=customer.email)
    assert suppressed == (customer_mailable_ids(customer_ids=[customer.pk]) == set())
    return suppressed


def test_sendgrid_temporary_block_is_recorded_and_suppresses_no_one_while_a_hard_bounce_does(post):
    blocked = sent_message("blocked@example.com", "sg-1")
    gone = sent_message("gone@example.com", "sg-2")
    batch = [
        sendgrid_bounce(blocked, kind="blocked", event_id="sg-evt-blocked"),
        sendgrid_bounce(gone, kind="bounce", event_id="sg-evt-bounce"),
    ]

    assert post("sendgrid", batch).status_code == 200

    assert not is_suppressed(blocked)
    assert is_suppressed(gone)
    record = EspEvent.objects.get(event_id="sendgrid:sg-evt-blocked")
    assert record.event_type == "temporary_block" and record.processed_at is not None
    assert record.message_id == blocked.pk
    assert EspEvent.objects.get(event_id="sendgrid:sg-evt-bounce").event_type == "bounced"


def test_postmark_blocked_is_a_temporary_block_and_hard_bounce_still_suppresses(post):
    blocked = sent_message("isp-blocked@example.com", "pm-1")
    gone = sent_message("unknown-user@example.com", "pm-2")

    assert (
        post("postmark", postmark_bounce(blocked, bounce_type="Blocked", type_code=100006, bounce_id=1)).status_code
        == 200
    )
    assert (
        post("postmark", postmark_bounce(gone, bounce_type="HardBounce", type_code=1, bounce_id=2)).status_code == 200
    )

    assert not is_suppressed(blocked)
    assert EspEvent.objects.get(event_id="postmark:1").event_type == "temporary_block"
    assert is_suppressed(gone)


def test_mailgun_event_redelivered_with_a_fresh_signature_is_stored_and_applied_once(post):
    message = sent_message("mg-bounce@example.com", "20261130.1@mg.shop.example")
    failed = mailgun_event(
        message,
        "failed",
        severity="permanent",
        reason="bounce",
        **{"delivery-status": {"code": 550, "message": "5.1.1 No such user", "description": ""}},
    )

    first, again = mailgun_signed(failed), mailgun_signed(failed)
    assert first["signature"]["token"] != again["signature"]["token"]
    assert post("mailgun", first).status_code == 200
    assert post("mailgun", again).status_code == 200

    assert EspEvent.objects.filter(esp="mailgun").count() == 1
    assert is_suppressed(message)


def test_mailgun_open_flagged_as_a_bot_is_stored_once_and_never_counts_as_human(post):
    message = sent_message("mg-open@example.com", "20261130.2@mg.shop.example")
    opened = mailgun_event(
        message,
        "opened",
        ip="17.58.63.1",
        **{
            "client-info": {
                "client-name": "unknown",
                "client-os": "unknown",
                "client-type": "unknown",
                "device-type": "unknown",
                "user-agent": "Mozilla/5.0",
                "bot": "apple",
            }
        },
    )

    assert post("mailgun", mailgun_signed(opened)).status_code == 200
    assert post("mailgun", mailgun_signed(opened)).status_code == 200
    tracking_events_classify()

    [event] = TrackingEvent.objects.filter(message=message)
    assert event.esp_flags.get("machine_open") is True
    assert event.verdict == Verdict.PROXY and not event.counts_as_human


def test_postmark_body_that_is_not_json_is_a_400_and_stores_nothing(post):
    response = post("postmark", None, raw=b"RecordType=Bounce&Email=x@example.com")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not EspEvent.objects.exists()


def test_sendgrid_batch_with_one_event_missing_event_keeps_the_valid_ones_and_answers_400(post):
    delivered_to = sent_message("delivered@example.com", "sg-3")
    gone = sent_message("gone2@example.com", "sg-4")
    broken = {"email": "who@example.com", "timestamp": 1764582000, "sg_event_id": "sg-evt-broken"}
    delivered = {
        "email": delivered_to.customer.email,
        "timestamp": 1764582000,
        "event": "delivered",
        "sg_event_id": "sg-evt-delivered",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.1",
        "response": "250 OK",
        "message_id": str(delivered_to.pk),
    }
    batch = [delivered, broken, sendgrid_bounce(gone, kind="bounce", event_id="sg-evt-bounce-2")]

    response = post("sendgrid", batch)

    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == [{"index": 1, "message": "missing field 'event'"}]
    assert body["accepted"] == 2
    assert set(EspEvent.objects.values_list("event_id", flat=True)) == {
        "sendgrid:sg-evt-delivered",
        "sendgrid:sg-evt-bounce-2",
    }
    assert Message.objects.get(pk=delivered_to.pk).delivered_at is not None
    assert is_suppressed(gone)

    # The ESP retries the whole batch: the good events are not stored twice.
    assert post("sendgrid", batch).status_code == 400
    assert EspEvent.objects.count() == 2


@pytest.mark.parametrize("raw", [b"[{", b"{}", b"\xff\xfe", b"[1, 2]"])
def test_sendgrid_unreadable_bodies_are_a_400_never_a_500(post, raw):
    response = post("sendgrid", None, raw=raw)
    assert response.status_code == 400
    assert not EspEvent.objects.exists()


def test_wrong_basic_auth_is_still_refused(client):
    url = reverse("anymail:sendgrid_tracking_webhook")
    response = client.post(url, data="[]", content_type="application/json", HTTP_AUTHORIZATION="Basic eDp5")
    assert response.status_code == 400
    assert not EspEvent.objects.exists()
