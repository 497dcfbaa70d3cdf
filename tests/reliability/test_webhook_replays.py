"""Every kind of ESP webhook replayed three times, in shuffled order: the counts do not move.

Extends tests/tracking/test_webhooks.py (delivered/bounce/complaint replayed in order) with the
ESP's open and click events and out-of-order redelivery, which is how ESPs retry in practice.
"""

from __future__ import annotations

import random

import pytest

from campaigns.models import Message
from customers.models import ConsentChange, SuppressedAddress
from tests.tracking.test_webhooks import (  # noqa: F401 - fixtures
    ESP_MESSAGE_ID,
    _webhook_settings,
    bounce,
    delivery,
    eager_celery,
    message,
    post_event,
    spam_complaint,
)
from tracking.models import EspEvent, TrackingEvent

pytestmark = pytest.mark.django_db

UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"


def opened(sent: Message) -> dict:
    return {
        "RecordType": "Open",
        "MessageStream": "outbound",
        "FirstOpen": True,
        "Client": {"Name": "Safari", "Company": "Apple Inc.", "Family": "Safari"},
        "OS": {"Name": "OS X", "Company": "Apple Computer, Inc.", "Family": "OS X"},
        "Platform": "Desktop",
        "UserAgent": UA,
        "ReadSeconds": 5,
        "Geo": {},
        "MessageID": ESP_MESSAGE_ID,
        "Metadata": {"message_id": str(sent.pk)},
        "ReceivedAt": "2026-11-05T17:00:00Z",
        "Tag": "cross-sell",
        "Recipient": "john@example.com",
    }


def clicked(sent: Message) -> dict:
    return {
        "RecordType": "Click",
        "MessageStream": "outbound",
        "ClickLocation": "HTML",
        "Client": {"Name": "Safari", "Company": "Apple Inc.", "Family": "Safari"},
        "OS": {"Name": "OS X", "Company": "Apple Computer, Inc.", "Family": "OS X"},
        "Platform": "Desktop",
        "UserAgent": UA,
        "OriginalLink": "https://shop.example/p/1",
        "Geo": {},
        "MessageID": ESP_MESSAGE_ID,
        "Metadata": {"message_id": str(sent.pk)},
        "ReceivedAt": "2026-11-05T17:01:00Z",
        "Tag": "cross-sell",
        "Recipient": "john@example.com",
    }


def _counts(sent: Message) -> dict:
    sent.refresh_from_db()
    return {
        "esp_events": sorted(EspEvent.objects.values_list("event_type", flat=True)),
        "tracking": sorted(TrackingEvent.objects.values_list("kind", flat=True)),
        "consent_changes": ConsentChange.objects.count(),
        "suppressed": SuppressedAddress.objects.count(),
        "delivered_at": sent.delivered_at,
    }


def test_each_webhook_replayed_three_times_in_any_order_counts_once(post_event, message):  # noqa: F811
    payloads = [delivery(message), opened(message), clicked(message), bounce(), spam_complaint()]
    for payload in payloads:
        assert post_event(payload).status_code == 200
    first = _counts(message)
    assert first["esp_events"] == ["bounced", "complained", "delivered"]
    assert first["tracking"] == ["click", "open"]
    assert first["suppressed"] == 1 and first["delivered_at"] is not None

    rng = random.Random(9)
    for _ in range(2):
        replay = payloads[:]
        rng.shuffle(replay)
        for payload in replay:
            assert post_event(payload).status_code == 200
    assert _counts(message) == first
