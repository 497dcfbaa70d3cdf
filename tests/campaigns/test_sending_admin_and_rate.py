"""Staff actions on the send path, and the per-ESP rate limit."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from campaigns.models import CampaignStatus, Message, MessageStatus
from campaigns.services.sending import message_plan_one_off, messages_send_due
from campaigns.services.sending.ratelimit import RedisBucket

pytestmark = pytest.mark.django_db


def test_send_now_action_shows_the_audience_then_plans_a_one_off_campaign_and_starts_sending(
    admin_client, make_customers, make_campaign, django_capture_on_commit_callbacks
):
    make_customers(3)
    campaign = make_campaign()
    with django_capture_on_commit_callbacks(execute=False) as kicks:
        page = admin_client.post(
            reverse("admin:campaigns_campaign_changelist"),
            {"action": "send_now", "_selected_action": [campaign.pk]},
            follow=True,
        )
    assert not Message.objects.exists() and not kicks, "the action only shows who would receive it"
    text = page.content.decode()
    assert "This campaign has no segment." in text and "every</strong> mailable customer" in text

    url = reverse("admin:campaigns_campaign_send_now", args=[campaign.pk])
    refused = admin_client.post(url, {}, follow=True)
    assert "has no segment" in refused.content.decode()
    assert not Message.objects.exists()

    with django_capture_on_commit_callbacks(execute=False) as kicks:
        response = admin_client.post(url, {"everyone": "yes"}, follow=True)
    assert response.status_code == 200
    assert "3 message(s) queued" in response.content.decode()
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED).count() == 3
    assert kicks
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


def test_message_admin_lists_unknown_messages_and_requeues_them(admin_client, make_customers, make_campaign):
    customer = make_customers(1)[0]
    campaign = make_campaign()
    message = Message.objects.create(customer=customer, campaign=campaign, status=MessageStatus.UNKNOWN)
    url = reverse("admin:campaigns_message_changelist")

    listing = admin_client.get(url, {"status__exact": "unknown", "q": customer.email})
    assert listing.status_code == 200 and f"/{message.pk}/change/" in listing.content.decode()
    assert admin_client.get(reverse("admin:campaigns_message_change", args=[message.pk])).status_code == 200

    admin_client.post(url, {"action": "requeue_unknown", "_selected_action": [message.pk]})
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and "Requeued by admin" in message.error


def test_rate_limit_spaces_out_sends(fake_esp, settings, make_customers, make_campaign):
    settings.SEND_RATE_PER_SECOND = 10
    make_customers(15)
    message_plan_one_off(campaign=make_campaign())
    started = time.monotonic()
    messages_send_due(budget_seconds=10)
    # A burst of 10, then 5 more at 10 per second.
    assert time.monotonic() - started >= 0.4
    assert fake_esp.stats()["accepted"] == 15


def test_redis_bucket_is_shared_between_processes(settings):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: the rate limit is per process")
    url = settings.REDIS_URL
    key = f"test-bucket-{time.monotonic_ns()}"
    one, two = RedisBucket(url, key, rate=5, burst=5), RedisBucket(url, key, rate=5, burst=5)
    waits = [bucket.reserve() for _ in range(4) for bucket in (one, two)]
    assert waits[:5] == [0.0] * 5, "the burst is shared"
    assert 0.1 < waits[5] < waits[6] < waits[7] <= 0.7, "later slots queue up across both clients"
