"""Campaign, step and message statistics: human counts beside counts with machine hits included."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import ConsentChange, EmailStatus
from tests.tracking.engagement_support import _fresh_url_caches, make_campaign, make_message  # noqa: F401
from tracking.engagement_tasks import process_hits
from tracking.models import EspEvent, TrackedUrl, TrackingEvent
from tracking.selectors.stats import campaign_stats, message_stats, step_stats
from tracking.services.tracking_events import hit_build, tracking_hits_store

pytestmark = pytest.mark.django_db

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
SECRET = "hooks:stats-secret"


def _hit(message, kind, after: timedelta, *, agent=CHROME, url_id=None, network=""):
    hit = hit_build(
        kind=kind, message_id=message.pk, method="GET", user_agent=agent, ip="", network=network, url_id=url_id
    )
    hit["t"] = (message.delivered_at + after).timestamp()
    return hit


@pytest.fixture
def campaign_data():
    campaign = make_campaign(steps=2)
    step1, step2 = campaign.steps.order_by("position")
    url = TrackedUrl.objects.create(url_hash="sale", url="https://shop.example/sale")
    sent = timezone.now() - timedelta(days=1)

    def message(step, *, delivered=True, is_sent=True):
        return make_message(
            campaign=campaign, step=step, sent_at=sent if is_sent else None, delivered_at=sent if delivered else None
        )

    m1, m2, m3 = message(step1), message(step1), message(step1)
    m4, m5 = message(step2, delivered=False), message(step2)
    m6 = message(step2, delivered=False)
    m6.sent_at = None
    m6.save(update_fields=["sent_at"])
    tracking_hits_store(
        [
            _hit(m1, "open", timedelta(minutes=30)),
            _hit(m1, "click", timedelta(minutes=31), url_id=url.pk),
            _hit(m2, "open", timedelta(seconds=3), agent="Mozilla/5.0", network="apple"),
            _hit(m3, "open", timedelta(hours=2), agent=GMAIL_PROXY),
            _hit(m3, "click", timedelta(hours=2), url_id=url.pk),  # the person
            _hit(m3, "click", timedelta(seconds=2), url_id=url.pk),  # the link scanner: too soon
        ]
    )
    EspEvent.objects.create(event_id="b1", esp="postmark", event_type="bounced", message=m4)
    EspEvent.objects.create(event_id="c1", esp="postmark", event_type="complained", message=m5)
    ConsentChange.objects.create(
        customer=m5.customer,
        field="email_status",
        old_value="subscribed",
        new_value=EmailStatus.UNSUBSCRIBED,
        source="one_click",
        detail=f"message:{m5.pk}",
    )
    ConsentChange.objects.create(  # another message's unsubscribe is not m1's
        customer=m1.customer,
        field="email_status",
        old_value="subscribed",
        new_value=EmailStatus.UNSUBSCRIBED,
        source="one_click",
        detail="message:999999",
    )
    process_hits()
    return campaign, (step1, step2), (m1, m2, m3, m4, m5, m6)


def test_campaign_stats_separate_people_from_machines(campaign_data):
    campaign, _steps, _messages = campaign_data
    with CaptureQueriesContext(connection) as queries:
        stats = campaign_stats(campaign_ids=[campaign.pk])[campaign.pk]
    assert len(queries) == 1
    assert (stats.sent, stats.delivered, stats.bounced, stats.complained, stats.unsubscribed) == (5, 4, 1, 1, 1)
    # people: m1 (browser) and m3 (Gmail proxy) opened; only m1 and m3's late click are human clicks
    assert (stats.opened_human, stats.clicked_human) == (2, 2)
    # with machines: m2's Apple MPP open joins the opens
    assert (stats.opened_all, stats.clicked_all) == (3, 2)
    assert stats.click_to_open_rate == pytest.approx(1.0)


def test_step_and_message_stats(campaign_data):
    _campaign, (step1, step2), (m1, m2, m3, m4, m5, m6) = campaign_data
    steps = step_stats(campaign_id=step1.campaign_id)
    assert (steps[step1.pk].sent, steps[step1.pk].opened_human, steps[step1.pk].opened_all) == (3, 2, 3)
    assert (steps[step2.pk].sent, steps[step2.pk].bounced, steps[step2.pk].opened_all) == (2, 1, 0)
    per_message = message_stats(message_ids=[m1.pk, m2.pk, m3.pk, m6.pk])
    assert (per_message[m2.pk].opened_all, per_message[m2.pk].opened_human) == (1, 0)
    assert per_message[m1.pk].unsubscribed == 0
    assert per_message[m6.pk].sent == 0
    scanner = TrackingEvent.objects.get(message=m3, reason="click_too_soon")
    assert scanner.verdict == "scanner"


@pytest.fixture
def post_webhook(client, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}
    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()

    def post(esp: str, payload) -> int:
        url = reverse(f"anymail:{esp}_tracking_webhook")
        body = json.dumps(payload)
        return client.post(url, data=body, content_type="application/json", HTTP_AUTHORIZATION=auth).status_code

    return post


@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")
def test_replayed_esp_open_webhooks_are_counted_once(post_webhook):
    message = make_message(delivered_at=timezone.now() - timedelta(hours=3))
    sendgrid = [
        {
            "email": "reader@example.test",
            "timestamp": int(timezone.now().timestamp()) - 60,
            "event": "open",
            "sg_event_id": "sg-open-1",
            "sg_message_id": "sg-abc.filter-1",
            "useragent": "Mozilla/5.0",
            "sg_machine_open": True,
            "message_id": str(message.pk),
        }
    ]
    postmark = {
        "RecordType": "Open",
        "MessageStream": "outbound",
        "FirstOpen": True,
        "Recipient": "reader@example.test",
        "MessageID": "pm-1",
        "ReceivedAt": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "UserAgent": CHROME,
        "Metadata": {"message_id": str(message.pk)},
    }
    for _ in range(3):
        assert post_webhook("sendgrid", sendgrid) == 200
        assert post_webhook("postmark", postmark) == 200
    process_hits()
    events = TrackingEvent.objects.filter(message=message, source="esp").order_by("occurred_at")
    assert [(e.verdict, e.proxy_kind, e.counts_as_human) for e in events] == [
        ("human", "", True),
        ("proxy", "apple_mpp", False),
    ]
    stats = message_stats(message_ids=[message.pk])[message.pk]
    assert (stats.opened_human, stats.opened_all) == (1, 1)


def test_staff_see_stats_and_read_only_events_in_admin(admin_client, campaign_data):
    campaign, (step1, _step2), _messages = campaign_data
    page = admin_client.get(reverse("admin:tracking_engagement_stats"), {"campaign": campaign.pk})
    assert page.status_code == 200
    body = page.content.decode()
    assert campaign.name in body and "Opened (people)" in body and 'id="step-stats"' in body
    events = admin_client.get(reverse("admin:tracking_trackingevent_changelist"), {"verdict": "scanner"})
    assert events.status_code == 200 and "click_too_soon" in events.content.decode()
    event = TrackingEvent.objects.first()
    assert admin_client.post(reverse("admin:tracking_trackingevent_delete", args=[event.pk])).status_code == 403
