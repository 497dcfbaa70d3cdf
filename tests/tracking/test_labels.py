"""Every code the verdict rules and the unsubscribe paths write has words for staff."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from customers.labels import consent_source_label
from tracking import verdicts
from tracking.labels import VERDICT_REASONS, esp_event_type_label, verdict_label

VERDICTS_SOURCE = Path(verdicts.__file__).read_text()


def test_every_reason_the_rules_can_give_has_words():
    reasons = set(re.findall(r'Judgement\((?:SCANNER|PROXY), "([a-z_]+)"', VERDICTS_SOURCE))
    reasons |= set(
        re.findall(
            r'reason = SCANNER, "([a-z_]+)"',
            Path(verdicts.__file__).with_name("services").joinpath("classification.py").read_text(),
        )
    )
    assert {"scanner_user_agent", "click_too_soon", "apple_network", "head_request"} <= reasons
    assert reasons <= set(VERDICT_REASONS), reasons - set(VERDICT_REASONS)


def test_verdicts_in_words():
    assert verdict_label(verdict="human") == "Human"
    assert (
        verdict_label(verdict="proxy", reason="apple_network", proxy_kind="apple_mpp") == "Privacy proxy (Apple Mail)"
    )
    assert verdict_label(verdict="proxy", reason="gmail_image_proxy", proxy_kind="gmail_proxy") == (
        "Privacy proxy (Gmail), counts as human"
    )
    assert verdict_label(verdict="proxy", proxy_kind="mimecast_bot") == "Privacy proxy (Mimecast bot)"
    assert verdict_label(verdict="scanner", reason="scanner_user_agent") == "Security scanner: known scanner user agent"
    assert verdict_label(verdict="pending") == "Not classified yet"


def test_unsubscribe_methods_and_provider_events_in_words():
    assert consent_source_label("one_click") == "One-click unsubscribe (the mail app's button)"
    assert consent_source_label("unsubscribe_link") == "Unsubscribe link in an email"
    assert consent_source_label("webhook:postmark") == "Email provider webhook (Postmark)"
    assert consent_source_label("esp_reject") == "Rejected by the email provider when sending"
    assert esp_event_type_label("deferred") == "Delivery delayed (soft bounce)"


def _staff_client(client):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("boss", "boss@shop.example", "pw"))
    return client


@pytest.mark.django_db
def test_esp_events_and_statistics_read_in_words_and_one_number_format(client):
    import uuid

    from django.urls import reverse
    from django.utils import timezone

    from tests.tracking.engagement_support import make_campaign, make_message
    from tracking.models import EspEvent, TrackedUrl, TrackingEvent

    campaign = make_campaign("Spring sale")
    now = timezone.now()
    first, second, third = (make_message(campaign=campaign) for _ in range(3))
    Message = type(first)
    Message.objects.filter(pk=first.pk).update(subject="Spring is here")
    EspEvent.objects.create(event_id="e1", esp="postmark", event_type="deferred", message=first)
    EspEvent.objects.create(
        event_id="e2", esp="postmark", event_type="rejected", reject_reason="invalid", message=second
    )
    url = TrackedUrl.objects.create(url_hash="h" * 64, url="https://shop.example/spring")
    for message in (first, second, third):
        TrackingEvent.objects.create(
            event_uuid=uuid.uuid4(),
            message=message,
            kind="open",
            occurred_at=now,
            verdict="human",
            counts_as_human=True,
        )
    TrackingEvent.objects.create(
        event_uuid=uuid.uuid4(),
        message=first,
        kind="click",
        url=url,
        occurred_at=now,
        verdict="human",
        counts_as_human=True,
    )
    staff = _staff_client(client)

    events = staff.get(reverse("admin:tracking_espevent_changelist")).content.decode()
    assert "Delivery delayed (soft bounce)" in events and "Invalid address" in events
    assert "“Spring is here” · Spring sale" in events
    assert ">deferred<" not in events and ">invalid<" not in events

    stats = staff.get(reverse("admin:tracking_engagement_stats")).content.decode()
    assert "33.3%" in stats  # one human click of three human opens
    assert "33&nbsp;%" not in stats
