"""The dashboard on the admin index: figures against known data (human vs machine), periods, health lights."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from campaigns.journeys.models import Attribution
from campaigns.models import CampaignStatus, Message, MessageStatus
from campaigns.selectors.dashboard import dashboard_overview, deliverability_health
from customers.models import LifecycleStage, Order
from customers.roles import MARKETING_GROUP
from tracking.models import EspEvent, EventKind, TrackingEvent, Verdict

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def _hit(message: Message, kind: str, verdict: str, human: bool) -> None:
    TrackingEvent.objects.create(
        event_uuid=uuid.uuid4(),
        message=message,
        customer=message.customer,
        kind=kind,
        occurred_at=timezone.now(),
        verdict=verdict,
        counts_as_human=human,
    )


def _esp(message: Message, event_type: str) -> None:
    EspEvent.objects.create(event_id=uuid.uuid4().hex, esp="postmark", event_type=event_type, message=message)


@pytest.fixture
def known_mail(make_customers, make_campaign):
    """10 messages sent 2 days ago: 2 human opens (1 also a human click), 3 Apple MPP opens,
    1 scanner click, 1 bounce, 1 complaint; one order of 80.00 attributed; one message sent
    40 days ago (outside 7 and 30 days)."""
    customers = make_customers(11)
    customers[0].lifecycle_stage = LifecycleStage.ACTIVE
    customers[0].save(update_fields=["lifecycle_stage"])
    campaign = make_campaign(name="Welcome", status=CampaignStatus.ACTIVE)
    now = timezone.now()
    step = campaign.steps.get()
    sent = [
        Message.objects.create(
            customer=customer, campaign=campaign, step=step, status=MessageStatus.SENT, sent_at=now - timedelta(days=2)
        )
        for customer in customers[:10]
    ]
    Message.objects.create(
        customer=customers[10],
        campaign=campaign,
        step=step,
        status=MessageStatus.SENT,
        sent_at=now - timedelta(days=40),
    )
    for message in sent[:9]:
        _esp(message, "delivered")
    _esp(sent[9], "bounced")
    _esp(sent[8], "complained")
    _hit(sent[0], EventKind.OPEN, Verdict.HUMAN, True)
    _hit(sent[1], EventKind.OPEN, Verdict.HUMAN, True)
    _hit(sent[1], EventKind.CLICK, Verdict.HUMAN, True)
    for message in sent[2:5]:
        _hit(message, EventKind.OPEN, Verdict.PROXY, False)
    _hit(sent[5], EventKind.CLICK, Verdict.SCANNER, False)
    order = Order.objects.create(
        external_id="o1", customer=customers[1], placed_at=now - timedelta(days=1), total=Decimal("80.00")
    )
    Attribution.objects.create(
        order=order,
        message=sent[1],
        campaign=campaign,
        step=sent[1].step,
        revenue=Decimal("80.00"),
        touched_at=now - timedelta(days=1),
        touch="click",
    )
    return campaign


def test_dashboard_counts_humans_apart_from_machines(known_mail):
    data = dashboard_overview(days=7)

    totals = data["totals"]
    assert totals["sent"] == 10 and totals["delivered"] == 9 and totals["bounced"] == 1 and totals["complained"] == 1
    assert totals["opened_human"] == 2 and totals["clicked_human"] == 1
    assert totals["opened_all"] == 6 and totals["clicked_all"] == 2  # MPP opens and the scanner click included
    assert data["rates"]["open_rate_human"] == pytest.approx(2 / 9)
    assert data["rates"]["click_rate_human"] == pytest.approx(1 / 9)
    assert data["rates"]["bounce_rate"] == pytest.approx(0.1)
    assert data["revenue"] == pytest.approx(80.0)
    assert sum(data["series"]["sent"]) == 10 and len(data["series"]["labels"]) == 7
    [row] = data["campaigns"]
    assert row["name"] == "Welcome" and row["sent"] == 10 and row["orders"] == 1
    assert {b["key"]: b["count"] for b in data["lifecycle"]}[LifecycleStage.ACTIVE] == 1


def test_longer_periods_include_older_mail(known_mail):
    assert dashboard_overview(days=30)["totals"]["sent"] == 10
    assert dashboard_overview(days=90)["totals"]["sent"] == 11


def test_health_lights_follow_the_gmail_line():
    red = deliverability_health({"complaint_rate": 0.003, "bounce_rate": 0.01, "unsubscribe_rate": None})
    assert [h.level for h in red] == ["red", "green", "none"]
    amber = deliverability_health({"complaint_rate": 0.0015, "bounce_rate": 0.03, "unsubscribe_rate": 0.02})
    assert [h.level for h in amber] == ["amber", "amber", "red"]


def test_marketing_lands_on_the_dashboard_with_chart_data(client, known_mail):
    user = User.objects.create_user("mia", "mia@shop.example", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING_GROUP))
    client.force_login(user)

    page = client.get(reverse("admin:index"), {"days": "7"})

    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="marketing-dashboard"' in html and "vendor/chartjs/chart.umd.js" in html
    assert 'id="tile-sent">10<' in html and "22.2%" in html  # human open rate 2/9
    chart = json.loads(html.split('id="dashboard-data" type="application/json">')[1].split("</script>")[0])
    assert sum(chart["series"]["sent"]) == 10
    assert 'data-level="red"' in html  # 1 complaint in 9 delivered is far over 0.3%


def test_staff_without_campaign_rights_get_the_plain_index(client):
    User.objects.create_user("sam", "sam@shop.example", "pw", is_staff=True)
    client.login(username="sam", password="pw")
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200 and 'id="marketing-dashboard"' not in page.content.decode()


def test_the_dashboard_is_cached_between_loads(known_mail, django_assert_max_num_queries):
    dashboard_overview(days=30)
    with django_assert_max_num_queries(0):
        dashboard_overview(days=30)


def test_beat_warming_fills_every_period_and_running_campaign_reports(known_mail, django_assert_max_num_queries):
    from campaigns.selectors.campaign_page import campaign_report
    from campaigns.tasks import dashboard_warm

    assert dashboard_warm() == [7, 30, 90]
    with django_assert_max_num_queries(0):
        for days in (7, 30, 90):
            dashboard_overview(days=days)
        report = campaign_report(campaign=known_mail)
    row = report["funnel"][0]
    assert row.stats.sent == 11 and row.stats.opened_human == 2 and row.conversions == 1


def test_event_side_counts_agree_with_the_per_message_stats(known_mail):
    from campaigns.selectors.engagement_counts import engagement_counts
    from customers.models import ConsentChange
    from tracking.selectors.stats import campaign_stats

    message = Message.objects.filter(campaign=known_mail).order_by("pk")[3]
    ConsentChange.objects.create(
        customer=message.customer,
        field="email_status",
        old_value="subscribed",
        new_value="unsubscribed",
        source="unsubscribe_link",
        detail=f"message:{message.pk}",
    )
    expected = campaign_stats(campaign_ids=[known_mail.pk])[known_mail.pk].as_dict()
    counts = engagement_counts(where={"campaign_id": known_mail.pk}, fields=["campaign_id"])
    assert counts[(known_mail.pk,)] == {name: expected[name] for name in counts[(known_mail.pk,)]}
    assert counts[(known_mail.pk,)]["unsubscribed"] == 1
