"""Campaign page and staff actions: activation checks, pause/resume, duplicate, audit trail, permissions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from campaigns.journeys.services.tick import journeys_tick
from campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Enrollment,
    Message,
    MessageStatus,
    Segment,
    Step,
    Template,
    Trigger,
)
from campaigns.services.campaign_admin import (
    CampaignActionError,
    campaign_activate,
    campaign_duplicate,
    campaign_pause,
    campaign_resume,
)
from campaigns.services.sending import message_plan_one_off, messages_send_due
from customers.roles import MARKETING_GROUP

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


@pytest.fixture
def marketer(db) -> User:
    user = User.objects.create_user("mia", "mia@shop.example", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING_GROUP))
    return user


@pytest.fixture
def marketer_client(client, marketer):
    client.force_login(marketer)
    return client


def test_activation_lists_every_problem_in_plain_words(make_campaign, marketer):
    campaign = make_campaign(kind=CampaignKind.WIN_BACK)
    Campaign.objects.filter(pk=campaign.pk).update(trigger=Trigger.AUDIENCE)
    broken = Template.objects.create(name="Broken", subject="x", mjml="<mjml>", validation_errors="mjml: bad tag")
    Step.objects.create(campaign=campaign, position=2, template=broken, condition={"has_clikced": True})
    Step.objects.create(campaign=campaign, position=3, template=broken, offer={"type": "bogus"})
    campaign.refresh_from_db()

    with pytest.raises(CampaignActionError) as raised:
        campaign_activate(campaign=campaign, user=marketer)

    text = " | ".join(raised.value.messages)
    assert "Choose a segment" in text
    assert "Step 2: Template “Broken” has errors" in text and "mjml: bad tag" in text
    assert "Step 2: condition.has_clikced: unknown" in text
    assert "Step 3: offer.type" in text
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert not LogEntry.objects.filter(object_id=str(campaign.pk)).exists()


def test_pause_holds_queued_mail_and_resume_sends_only_the_rest(fake_esp, make_customers, make_campaign, marketer):
    make_customers(5)
    campaign = make_campaign(status=CampaignStatus.ACTIVE)
    message_plan_one_off(campaign=campaign)
    first_two = list(Message.objects.filter(campaign=campaign).order_by("pk")[:2].values_list("pk", flat=True))
    Message.objects.exclude(pk__in=first_two).update(not_before=timezone.now() + timedelta(hours=1))
    assert messages_send_due(budget_seconds=5)["sent"] == 2
    Message.objects.update(not_before=None)

    campaign_pause(campaign=campaign, user=marketer)
    assert messages_send_due(budget_seconds=5).get("sent", 0) == 0
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED).count() == 3

    campaign_resume(campaign=campaign, user=marketer)
    assert messages_send_due(budget_seconds=5)["sent"] == 3
    assert Message.objects.filter(campaign=campaign).count() == 5
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count() == 5
    assert len(fake_esp.state.messages) == 5  # nobody mailed twice
    entries = list(LogEntry.objects.filter(object_id=str(campaign.pk)).order_by("pk"))
    assert [e.change_message for e in entries] == [
        "Paused (3 queued message(s) held).",
        "Resumed (3 held message(s) released).",
    ]
    assert {e.user for e in entries} == {marketer}


def test_a_paused_journey_keeps_each_enrollment_at_its_step(make_customers, make_campaign, marketer):
    customer = make_customers(1)[0]
    campaign = make_campaign(kind=CampaignKind.WIN_BACK, status=CampaignStatus.ACTIVE)
    Campaign.objects.filter(pk=campaign.pk).update(
        trigger=Trigger.EVENT, trigger_event="cart_abandoned", is_transactional=True
    )
    campaign.refresh_from_db()
    step_one = campaign.steps.get()
    step_two = Step.objects.create(campaign=campaign, position=2, template=step_one.template)
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    enrollment = Enrollment.objects.create(
        campaign=campaign, customer=customer, next_step=2, due_at=noon - timedelta(hours=1), entered_at=noon
    )

    campaign_pause(campaign=campaign, user=marketer)
    journeys_tick(now=noon)
    enrollment.refresh_from_db()
    assert enrollment.next_step == 2 and not Message.objects.filter(enrollment=enrollment).exists()

    campaign_resume(campaign=campaign, user=marketer)
    journeys_tick(now=noon)
    assert list(Message.objects.filter(enrollment=enrollment).values_list("step_id", flat=True)) == [step_two.pk]


def test_duplicate_copies_settings_and_steps_as_a_draft(make_campaign, marketer):
    campaign = make_campaign(status=CampaignStatus.ACTIVE)
    campaign.steps.update(condition={"has_not_clicked": True}, delay=timedelta(days=2))

    copy = campaign_duplicate(campaign=campaign, user=marketer)

    assert copy.pk != campaign.pk and copy.name == "Spring sale (copy)" and copy.status == CampaignStatus.DRAFT
    step = copy.steps.get()
    assert step.condition == {"has_not_clicked": True} and step.delay == timedelta(days=2)
    assert campaign_duplicate(campaign=campaign, user=marketer).name == "Spring sale (copy 2)"
    assert LogEntry.objects.filter(object_id=str(copy.pk), change_message__startswith="Duplicated from").exists()


def test_marketing_activates_from_the_campaign_page_and_sees_history(marketer_client, make_campaign, marketer):
    campaign = make_campaign()
    page = marketer_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="action-activate"' in html and "Steps and funnel" in html and "Holdout comparison" in html

    response = marketer_client.post(
        reverse("admin:campaigns_campaign_action", args=[campaign.pk, "activate"]), follow=True
    )

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE
    html = response.content.decode()
    assert "“Spring sale” activated." in html
    assert "Activated (was Draft)." in html and "mia" in html  # the History table


def test_actions_are_post_only_and_csrf_protected(make_campaign, marketer):
    from django.test import Client

    campaign = make_campaign()
    client = Client(enforce_csrf_checks=True)
    client.force_login(marketer)
    url = reverse("admin:campaigns_campaign_action", args=[campaign.pk, "activate"])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_step_inline_rejects_an_invalid_condition(admin_client, make_campaign):
    campaign = make_campaign()
    step = campaign.steps.get()
    data = {
        "name": campaign.name,
        "kind": campaign.kind,
        "status": campaign.status,
        "trigger": campaign.trigger,
        "trigger_event": "",
        "trigger_delay": "0",
        "exit_on": "[]",
        "priority": "50",
        "reentry_days": "30",
        "holdout_percent": "10",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "1",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-id": str(step.pk),
        "steps-0-campaign": str(campaign.pk),
        "steps-0-position": "1",
        "steps-0-template": str(step.template_id),
        "steps-0-delay": "0",
        "steps-0-delay_from": "previous",
        "steps-0-condition": '{"opened_maybe": true}',
        "steps-0-offer": "{}",
    }
    response = admin_client.post(reverse("admin:campaigns_campaign_change", args=[campaign.pk]), data)
    assert response.status_code == 200
    assert "condition.opened_maybe: unknown" in response.content.decode()
    step.refresh_from_db()
    assert step.condition == {}


def test_progress_endpoint_reports_sent_total_and_eta(marketer_client, make_customers, make_campaign):
    customers = make_customers(4)
    campaign = make_campaign(status=CampaignStatus.ACTIVE)
    now = timezone.now()
    Message.objects.bulk_create(
        [
            Message(customer=customers[0], campaign=campaign, status=MessageStatus.SENT, sent_at=now),
            Message(customer=customers[1], campaign=campaign, status=MessageStatus.SENT, sent_at=now),
            Message(customer=customers[2], campaign=campaign, status=MessageStatus.QUEUED),
            Message(customer=customers[3], campaign=campaign, status=MessageStatus.SKIPPED, error="holdout"),
        ]
    )
    data = marketer_client.get(reverse("admin:campaigns_campaign_progress", args=[campaign.pk])).json()
    assert data["total"] == 3 and data["sent"] == 2 and data["queued"] == 1 and data["percent"] == pytest.approx(66.7)
    assert data["rate_per_second"] > 0 and data["eta_seconds"] is not None and data["active"] is True


def test_campaign_page_groups_skips_by_reason(admin_client, make_customers, make_campaign):
    customers = make_customers(3)
    campaign = make_campaign()
    Message.objects.bulk_create(
        Message(customer=c, campaign=campaign, status=MessageStatus.SKIPPED, error=error)
        for c, error in zip(
            customers,
            [
                "sunset: not engaged for 180 days",
                "frequency_cap: deferred since 2026-01-01 09:00 UTC, expired",
                "holdout",
            ],
            strict=True,
        )
    )
    html = admin_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    for reason in (
        "<td>Sunset: not engaged for a long time</td>",
        "<td>Frequency cap: waited too long, expired</td>",
        "<td>In the holdout group (not mailed, to measure lift)</td>",
    ):
        assert reason in html
    assert "frequency_cap" not in html


def test_marketing_cannot_edit_customers_or_api_keys_but_a_superuser_can(marketer_client, admin_client, make_customers):
    customer = make_customers(1)[0]
    change = reverse("admin:customers_customer_change", args=[customer.pk])
    form = marketer_client.get(change)
    assert form.status_code == 200 and 'name="email_status"' not in form.content.decode()  # view only
    marketer_client.post(change, {"email": customer.email, "email_status": "unsubscribed"})
    customer.refresh_from_db()
    assert customer.email_status == "subscribed"
    assert marketer_client.get(reverse("admin:customers_apikey_changelist")).status_code == 403
    assert admin_client.get(reverse("admin:customers_apikey_changelist")).status_code == 200
    assert 'name="email_status"' in admin_client.get(change).content.decode()


def test_marketing_can_edit_segments_and_templates(marketer_client):
    segment = Segment.objects.create(name="Everyone", rules={})
    assert marketer_client.get(reverse("admin:campaigns_segment_change", args=[segment.pk])).status_code == 200
    assert marketer_client.get(reverse("admin:campaigns_template_add")).status_code == 200
    assert marketer_client.get(reverse("admin:campaigns_campaign_add")).status_code == 200


def test_non_staff_cannot_reach_the_admin_pages(client, make_campaign):
    campaign = make_campaign()
    User.objects.create_user("bob", "bob@shop.example", "pw")
    client.login(username="bob", password="pw")
    response = client.get(reverse("admin:campaigns_campaign_progress", args=[campaign.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_audience_count_follows_the_segment_chosen_while_editing(marketer_client, make_customers):
    from customers.models import Customer

    make_customers(3, prefix="vip")
    make_customers(2, prefix="other")
    Customer.objects.filter(email__startswith="vip").update(tier="premium")
    segment = Segment.objects.create(name="VIPs", rules={"all": [{"field": "tier", "op": "eq", "value": "premium"}]})
    url = reverse("admin:campaigns_campaign_audience")

    assert marketer_client.get(url, {"segment": segment.pk}).json() == {"count": 3}
    assert marketer_client.get(url, {"segment": "nope"}).json() == {"count": None}


def test_campaign_page_shows_ab_arms_with_human_clicks(admin_client, make_customers, make_campaign):
    import uuid

    from campaigns.journeys.models import ABTest, ABVariant
    from campaigns.models import TemplateVersion
    from tracking.models import EventKind, TrackingEvent, Verdict

    customers = make_customers(4)
    campaign = make_campaign()
    step = campaign.steps.get()
    other = Template.objects.create(name="Subject B", subject="B", mjml="<mjml></mjml>", is_valid=True)
    other.current_version = TemplateVersion.objects.create(
        template=other, number=1, subject="B", compiled_html="<p>B</p>"
    )
    other.save(update_fields=["current_version"])
    now = timezone.now()
    test = ABTest.objects.create(
        step=step, sample_size=4, decide_after=timedelta(hours=4), started_at=now - timedelta(minutes=1)
    )
    ABVariant.objects.create(test=test, template=other)
    Message.objects.create(  # queued before the test started: in no arm
        customer=make_customers(1, prefix="early")[0],
        campaign=campaign,
        step=step,
        template_version=step.template.current_version,
        status="sent",
        sent_at=now - timedelta(hours=1),
        created_at=now - timedelta(hours=1),
    )
    for index, customer in enumerate(customers):
        version = step.template.current_version if index % 2 else other.current_version
        message = Message.objects.create(
            customer=customer, campaign=campaign, step=step, template_version=version, status="sent", sent_at=now
        )
        if version == other.current_version:
            TrackingEvent.objects.create(
                event_uuid=uuid.uuid4(),
                message=message,
                kind=EventKind.CLICK,
                occurred_at=now,
                verdict=Verdict.HUMAN,
                counts_as_human=True,
            )

    html = admin_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()

    section = html.split('id="campaign-ab"')[1].split("</table>")[0]
    assert "picks the winner 4 hours after the first test message" in section
    cells = re.sub(r"(<[^>]+>)+", "|", section.replace("\n", ""))
    assert "Arm B|Subject B|B|2|2|2|100.0%" in cells
    assert f"Arm A|{step.template.name}|{step.template.subject}|2|0|0|0.0%" in cells


def test_send_me_a_test_of_a_step_from_the_campaign_page(marketer_client, make_campaign, settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    campaign = make_campaign()
    step = campaign.steps.get()
    page_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    html = marketer_client.get(page_url).content.decode()
    send_url = reverse("admin:campaigns_template_send_test", args=[step.template_id])
    assert f'action="{send_url}"' in html

    response = marketer_client.post(send_url, {"next": page_url}, follow=True)

    assert response.redirect_chain[-1][0] == page_url
    assert [m.to for m in mailoutbox] == [["mia@shop.example"]] and mailoutbox[0].subject.startswith("[TEST]")
