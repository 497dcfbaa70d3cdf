"""Staff actions on the send path, and the per-ESP rate limit."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from django.urls import reverse

from campaigns.models import CampaignStatus, Message, MessageStatus
from campaigns.services.sending import message_plan_one_off, messages_send_due, ratelimit
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


def test_rate_limit_spaces_out_sends(fake_esp, settings, make_customers, make_campaign, monkeypatch):
    # The limiter's clock stands still and its sleeps are recorded, not slept: the schedule it hands
    # the senders is checked exactly, whatever the load on the machine running the test.
    stood_at, slept = time.monotonic(), []
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(monotonic=lambda: stood_at, sleep=slept.append))
    ratelimit._bucket.cache_clear()  # a bucket of this test's own, started on its clock
    settings.REDIS_URL = ""  # the per-process bucket (Redis clocks its own: the next test)
    settings.SEND_RATE_PER_SECOND = 10
    make_customers(15)
    message_plan_one_off(campaign=make_campaign())
    messages_send_due(budget_seconds=10)
    # A burst of 10 at once, then each of the 5 more waits its own tenth of a second longer.
    assert sorted(slept) == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    assert fake_esp.stats()["accepted"] == 15
    ratelimit._bucket.cache_clear()


@pytest.mark.needs_redis  # without Redis the rate limit is per process
def test_redis_bucket_is_shared_between_processes(settings):
    # One slot per 100 s after a burst of 5: the seconds this test takes shift each wait by
    # hundredths of a slot, so the schedule is checked without depending on the machine's speed.
    url, key = settings.REDIS_URL, f"test-bucket-{time.monotonic_ns()}"
    one, two = RedisBucket(url, key, rate=0.01, burst=5), RedisBucket(url, key, rate=0.01, burst=5)
    try:
        waits = [bucket.reserve() for _ in range(4) for bucket in (one, two)]
    finally:
        one.client.delete(key)
    assert waits[:5] == [0.0] * 5, "the burst is shared"
    later = [waits[5], waits[6] - waits[5], waits[7] - waits[6]]
    assert all(95 < gap <= 100 for gap in later), f"later slots queue up across both clients, 100 s apart: {waits}"
