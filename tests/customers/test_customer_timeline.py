"""The customer page's timeline: every entry exactly once across its pages, in bounded queries."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from html import unescape
from urllib.parse import unquote

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from campaigns.models import Campaign, CampaignKind, Enrollment, EnrollmentStatus, Message, MessageStatus
from customers.models import Activity, ActivityType, ConsentChange, Customer, Order
from customers.timeline import TimelineCursor
from tracking.models import TrackedUrl, TrackingEvent

pytestmark = pytest.mark.django_db

START = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def _history(customer: Customer, *, scale: int) -> int:
    """A mixed history of `scale` rows of each kind; returns how many entries it makes."""
    campaign = Campaign.objects.create(name="Win-back", kind=CampaignKind.WIN_BACK)
    url = TrackedUrl.objects.create(url_hash=uuid.uuid4().hex, url="https://shop.example/sale")
    minute = dt.timedelta(minutes=1)
    Order.objects.bulk_create(
        Order(
            external_id=f"o{customer.pk}-{i}",
            customer=customer,
            placed_at=START + i * minute,
            total=Decimal("12.50"),
            currency="GBP",
        )
        for i in range(scale)
    )
    # Many rows at one moment: the page boundary falls inside them.
    Activity.objects.bulk_create(
        Activity(customer=customer, type=ActivityType.PRODUCT_VIEWED, occurred_at=START + 3 * minute)
        for _ in range(scale)
    )
    ConsentChange.objects.bulk_create(
        ConsentChange(
            customer=customer,
            field="consent",
            old_value="unknown",
            new_value="granted",
            source="api",
            created_at=START + i * 2 * minute,
        )
        for i in range(scale)
    )
    enrollments = Enrollment.objects.bulk_create(
        Enrollment(
            campaign=campaign,
            customer=customer,
            entered_at=START + i * minute,
            entry=i + 1,
            status=EnrollmentStatus.EXITED,
            exit_reason="goal: order_placed",
            ended_at=START + i * minute + dt.timedelta(days=1),
        )
        for i in range(scale)
    )
    messages = Message.objects.bulk_create(
        Message(
            customer=customer,
            campaign=campaign,
            status=MessageStatus.SENT,
            subject=f"Come back {i}",
            sent_at=START + i * 3 * minute,
            created_at=START,
            enrollment=enrollment,
        )
        for i, enrollment in enumerate(enrollments)
    )
    TrackingEvent.objects.bulk_create(
        TrackingEvent(
            event_uuid=uuid.uuid4(),
            message=m,
            customer=customer,
            kind="click",
            url=url,
            verdict="human",
            counts_as_human=True,
            occurred_at=m.sent_at + dt.timedelta(hours=1),
        )
        for m in messages
    )
    return scale * 7  # orders, activities, consent changes, messages, clicks, two per enrollment


def _page(client, customer: Customer, token: str | None = None):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    return client.get(url, {"timeline_before": token} if token else {})


def test_every_entry_appears_once_across_the_pages_newest_first(client):
    customer = Customer.objects.create(email="kim@example.com")
    total = _history(customer, scale=30)
    client.force_login(User.objects.create_superuser("boss", "boss@shop.example", "pw"))

    seen, token, pages = [], None, 0
    while True:
        response = _page(client, customer, token)
        assert response.status_code == 200
        page = response.context["timeline"]
        assert len(page.entries) <= 50
        seen += [(entry.kind, entry.key, entry.when) for entry in page.entries]
        pages += 1
        html = response.content.decode()
        if page.older is None:
            assert 'id="timeline-older"' not in html
            break
        link = re.search(r'href="\?timeline_before=([^"#]+)#timeline" id="timeline-older"', html)
        assert link, "an Older entries link"
        token = unquote(unescape(link.group(1)))
        assert TimelineCursor.parse(token) == page.older

    assert pages == 5
    assert len(seen) == total and len(set(seen)) == total
    times = [when for _, _, when in seen]
    assert times == sorted(times, reverse=True)


def test_a_long_history_costs_the_same_queries_as_a_short_one(client, django_assert_max_num_queries):
    small, large = Customer.objects.create(email="a@example.com"), Customer.objects.create(email="b@example.com")
    _history(small, scale=3)
    _history(large, scale=400)
    client.force_login(User.objects.create_superuser("boss", "boss@shop.example", "pw"))

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert _page(client, small).status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = _page(client, large)
    assert len(response.context["timeline"].entries) == 50
    html = response.content.decode()
    assert "£12.50" in html  # the order's own currency
    assert "reached the goal: placed an order" in html


def test_a_forged_cursor_shows_the_newest_page(client):
    customer = Customer.objects.create(email="kim@example.com")
    Order.objects.create(external_id="o1", customer=customer, placed_at=START, total=Decimal("5"), currency="EUR")
    client.force_login(User.objects.create_superuser("boss", "boss@shop.example", "pw"))
    for token in ("not-a-date~1", "2025-03-01T09:00:00~x", "2025-03-01T09:00:00~1", "'; drop table"):
        response = _page(client, customer, token)
        assert response.status_code == 200
        assert [e.title for e in response.context["timeline"].entries] == ["Placed order o1"]


def test_rows_of_one_moment_split_across_pages_are_neither_lost_nor_repeated():
    from customers.timeline import customer_timeline

    customer = Customer.objects.create(email="kim@example.com")
    Activity.objects.bulk_create(
        Activity(customer=customer, type=ActivityType.CART_UPDATED, occurred_at=START) for _ in range(120)
    )
    keys, cursor, sizes = [], None, []
    while True:
        page = customer_timeline(customer_id=customer.pk, cursor=cursor)
        keys += [entry.key for entry in page.entries]
        sizes.append(len(page.entries))
        if page.older is None:
            break
        cursor = TimelineCursor.parse(page.older.token())
    assert sizes == [50, 50, 20]
    assert sorted(keys) == sorted(Activity.objects.values_list("pk", flat=True))


def test_machine_hits_and_delivery_problems_read_in_words(client):
    from tracking.models import EspEvent

    customer = Customer.objects.create(email="kim@example.com")
    campaign = Campaign.objects.create(name="Win-back", kind=CampaignKind.WIN_BACK)
    message = Message.objects.create(
        customer=customer, campaign=campaign, status=MessageStatus.SENT, subject="We miss you", sent_at=START
    )
    hits = [
        ("open", "proxy", "apple_network", "apple_mpp", False, False),
        ("open", "pending", "", "", False, False),
        ("click", "scanner", "honeypot", "", True, False),
    ]
    for minutes, (kind, verdict, reason, proxy, honeypot, human) in enumerate(hits, start=1):
        TrackingEvent.objects.create(
            event_uuid=uuid.uuid4(),
            message=message,
            kind=kind,
            verdict=verdict,
            reason=reason,
            proxy_kind=proxy,
            is_honeypot=honeypot,
            counts_as_human=human,
            occurred_at=START + dt.timedelta(minutes=minutes),
        )
    EspEvent.objects.create(
        event_id="b1",
        esp="postmark",
        event_type="bounced",
        reject_reason="bounced",
        message=message,
        description="The server was unable to deliver your message",
        received_at=START + dt.timedelta(hours=1),
    )
    client.force_login(User.objects.create_superuser("boss", "boss@shop.example", "pw"))

    html = _page(client, customer).content.decode()
    rows = re.findall(r'<tr class="tl-entry tl-(\w+)">(.*?)</tr>', html, flags=re.S)
    texts = [(kind, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", unescape(body)))) for kind, body in rows]
    assert [kind for kind, _ in texts] == ["esp", "click", "open", "open", "message"]
    assert "Bounced: “We miss you” (Win-back)" in texts[0][1] and "unable to deliver" in texts[0][1]
    assert (
        "Followed the hidden trap link" in texts[1][1]
        and "Security scanner: followed the hidden trap link" in texts[1][1]
    )
    assert "Not classified yet" in texts[2][1]
    assert "Privacy proxy (Apple Mail)" in texts[3][1]
    assert "Sent “We miss you”" in texts[4][1]
