"""A one-off campaign as a marketer makes it: the add form's defaults, a segment, "Send now", and
the journeys tick running as beat runs it. Each segment member gets exactly one mail."""

from __future__ import annotations

import io
import os

import pytest
from django.core.management import call_command

from campaigns.models import Campaign, CampaignKind, Message, Segment, Trigger
from customers.models import Consent, Customer
from tests.browser.conftest import admin_log_in, marketer_create
from tests.campaigns.conftest import make_campaign_now

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def esp(journey_esp):
    return journey_esp


@pytest.fixture
def logged_in(live_server, page):
    marketer_create()
    admin_log_in(page, live_server.url, then="/admin/campaigns/campaign/", wait_for="#changelist")
    return page


def beat(task: str) -> None:
    """Run a beat task the way the worker runs it (by its registered name)."""
    from config.celery import app

    app.loader.import_default_modules()
    app.tasks[task].apply(throw=True)


def test_one_off_with_the_forms_defaults_reaches_each_segment_member_once(live_server, logged_in, shot, esp):
    page = logged_in
    leads = [
        Customer.objects.create(email=f"lead{i}@example.test", first_name=f"L{i}", consent=Consent.GRANTED)
        for i in range(3)
    ]
    buyers = [
        Customer.objects.create(email=f"buyer{i}@example.test", orders_count=2, consent=Consent.GRANTED)
        for i in range(2)
    ]
    Segment.objects.create(name="Leads", rules={"all": [{"field": "is_lead", "op": "eq", "value": True}]})
    template = make_campaign_now(name="Template holder").steps.get().template  # a valid saved template

    page.goto(f"{live_server.url}/admin/campaigns/campaign/add/")
    page.fill("#id_name", "Spring news for leads")
    page.select_option("#id_kind", label="One-off send")
    assert page.eval_on_selector("#id_trigger", "s => [...s.options].map(o => o.text)") == ["Sent by staff"]
    page.select_option("#id_segment", label="Leads")
    assert page.input_value("#id_holdout_percent") == "0", "a one-off send holds no one out"
    page.click(".inline-group .add-row a")
    assert page.input_value("#id_steps-0-position") == "", "the new step's position is left as the form gives it"
    page.select_option("#id_steps-0-template", value=str(template.pk))
    shot("send_now_01_add_form")
    page.click("input[name=_continue]")
    page.wait_for_selector("#action-send-now")
    campaign = Campaign.objects.get(name="Spring news for leads")
    assert (campaign.kind, campaign.trigger, campaign.segment.name) == (CampaignKind.ONE_OFF, Trigger.MANUAL, "Leads")
    assert list(campaign.steps.values_list("position", flat=True)) == [1]
    assert "Holdout: none (a one-off send mails its whole audience)" in page.inner_text("#content")
    assert campaign.holdout_percent == 0

    page.click("#action-send-now")
    page.wait_for_selector("#send-now-form")
    assert page.inner_text("#send-now-segment") == "Leads"
    assert page.inner_text("#send-now-count") == "3"
    shot("send_now_02_confirm_segment")
    page.click("#send-now-submit")
    page.wait_for_url(f"**/admin/campaigns/campaign/{campaign.pk}/change/")
    assert "3 message(s) queued" in page.inner_text(".messagelist")

    beat("campaigns.send_due_messages")
    call_command("journeys_tick", stdout=io.StringIO())  # as staff would run it by hand
    for _ in range(2):  # then beat: the journeys tick every minute, the sender every few seconds
        beat("journeys.tick")
        beat("campaigns.send_due_messages")

    assert esp.stats()["recipients"] == {c.email: 1 for c in leads}
    assert all(esp.times_mailed(c.email) == 0 for c in buyers)
    assert not campaign.enrollments.exists(), "the journeys tick enrolled a one-off campaign"

    # Pressing it again offers no one new, and says so.
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/send-now/")
    assert "already been planned" in page.inner_text("#send-now-nothing-new")
    assert page.input_value("#send-now-submit") == "Send now to 0 customers"
    page.click("#send-now-submit")
    page.wait_for_url(f"**/admin/campaigns/campaign/{campaign.pk}/change/")
    assert "0 message(s) queued" in page.inner_text(".messagelist")
    beat("campaigns.send_due_messages")
    assert esp.stats()["recipients"] == {c.email: 1 for c in leads}


def test_send_now_without_a_segment_refuses_until_staff_confirm_everyone(live_server, logged_in, shot, esp):
    page = logged_in
    customers = [Customer.objects.create(email=f"all{i}@example.test", consent=Consent.GRANTED) for i in range(4)]
    campaign = make_campaign_now(name="Everyone news", status="draft")

    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/change/")
    page.click("#action-send-now")
    page.wait_for_selector("#send-now-form")
    assert "This campaign has no segment." in page.inner_text("#send-now-everyone-warning")
    assert page.inner_text("#send-now-count") == "4"
    page.click("#send-now-submit")  # without ticking "everyone"
    page.wait_for_selector(".messagelist .error")
    assert "has no segment" in page.inner_text(".messagelist")
    shot("send_now_03_refused_without_confirmation")
    assert not Message.objects.exists()

    page.check("#send-now-confirm-everyone")
    page.click("#send-now-submit")
    page.wait_for_url(f"**/admin/campaigns/campaign/{campaign.pk}/change/")
    assert "4 message(s) queued" in page.inner_text(".messagelist")
    beat("campaigns.send_due_messages")
    assert esp.stats()["recipients"] == {c.email: 1 for c in customers}
