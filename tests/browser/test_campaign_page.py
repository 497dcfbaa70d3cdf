"""The one campaign page in a real browser: progress with every bucket named, the funnel, results over
time, labels a marketer reads, A/B set-up from a step, and the recipe that is already running."""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from campaigns.journeys.models import ABTest, Attribution, Deferral
from campaigns.journeys.services.advance import enrollments_advance
from campaigns.journeys.services.recipes import campaign_create_from_recipe
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Enrollment,
    Message,
    MessageStatus,
    Template,
    TemplateVersion,
)
from customers.models import Customer, Order
from tests.browser.conftest import admin_log_in
from tracking.models import TrackingEvent

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, base: str) -> None:
    admin_log_in(page, base, wait_for="#marketing-dashboard")


def weekday_time(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%a %H:%M}"


def active_win_back() -> Campaign:
    campaign = campaign_create_from_recipe(recipe="win_back")[0]
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ACTIVE)
    campaign.refresh_from_db()
    return campaign


def people(count: int, prefix: str = "p") -> list[Customer]:
    Customer.objects.bulk_create(
        Customer(email=f"{prefix}{i}@example.test", first_name=f"Ada{i}", last_name="Lovelace") for i in range(count)
    )
    return list(Customer.objects.filter(email__startswith=prefix).order_by("pk"))


def test_campaign_page_names_every_bucket_and_the_eta_waits_for_quiet_hours_and_the_cap(
    live_server, page, shot, marketer, request
):
    # Midday, so the last minute's mail and the last half hour's order fall on the same day as "now".
    midday = time_machine.travel(timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0), tick=True)
    midday.start()
    request.addfinalizer(midday.stop)
    campaign = active_win_back()
    step = campaign.steps.order_by("position").first()
    now = timezone.now()
    morning = (now + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    cap_until = morning + timedelta(hours=2)
    customers = people(12)
    enrollments = [Enrollment.objects.create(campaign=campaign, customer=c, entered_at=now) for c in customers]

    def message(i: int, status: str, **fields) -> Message:
        return Message(
            customer=customers[i], campaign=campaign, step=step, enrollment=enrollments[i], status=status, **fields
        )

    just_now = now - timedelta(seconds=20)  # 3 in the last minute: ready mail goes at 0.05/s
    Message.objects.bulk_create(
        [
            *(message(i, MessageStatus.SENT, sent_at=just_now, delivered_at=just_now) for i in range(3)),
            *(message(i, MessageStatus.QUEUED) for i in (3, 4)),
            *(message(i, MessageStatus.QUEUED, not_before=morning) for i in (5, 6)),
            message(
                7, MessageStatus.SUPPRESSED, error="Not mailable at send time (unsubscribed, bounced or suppressed)"
            ),
            message(8, MessageStatus.FAILED, error="ESP rejected the recipient", failed_at=now),
            message(9, MessageStatus.SKIPPED, error="holdout"),
        ]
    )
    # The frequency cap held customer 10: no message yet, the enrollment waits (what the tick records).
    Deferral.objects.create(
        enrollment=enrollments[10], step=step, reason="frequency cap: 1 a day", deferred_until=cap_until
    )
    Enrollment.objects.filter(pk=enrollments[10].pk).update(due_at=cap_until)
    clicked = Message.objects.get(customer=customers[0], campaign=campaign)
    TrackingEvent.objects.create(
        event_uuid=uuid.uuid4(),
        message=clicked,
        customer=customers[0],
        kind="click",
        occurred_at=now - timedelta(minutes=30),
        verdict="human",
        counts_as_human=True,
    )
    order = Order.objects.create(
        external_id="SO-1", customer=customers[0], placed_at=now - timedelta(minutes=20), total=Decimal("42.50")
    )
    Attribution.objects.create(
        order=order,
        message=clicked,
        campaign=campaign,
        step=step,
        revenue=Decimal("42.50"),
        touched_at=now - timedelta(minutes=30),
        touch="click",
    )

    base = live_server.url
    login(page, base)
    page.goto(f"{base}/admin/campaigns/campaign/{campaign.pk}/change/")
    page.wait_for_selector("#campaign-progress")
    page.wait_for_function("window.campaignResultsChart !== undefined")
    shot("campaign_page_progress")

    counts = {name: page.inner_text(f"#progress-{name}") for name in ("queued", "waiting", "sent", "suppressed")}
    counts |= {name: page.inner_text(f"#progress-{name}") for name in ("failed", "skipped", "sending")}
    assert counts == {
        "queued": "2",
        "waiting": "3",
        "sent": "3",
        "suppressed": "1",
        "failed": "1",
        "skipped": "1",
        "sending": "0",
    }
    header = page.inner_text("#progress-counts")
    for label in ("Queued (ready to send)", "Waiting", "Sent", "Suppressed", "Failed", "Skipped"):
        assert label in header
    # 3 sent + 1 suppressed + 1 failed of 10 to send (skipped is not to send; the capped one has no row yet).
    assert page.inner_text("#progress-text") == "5 of 10 finished (50.0%)"
    waits = page.inner_text("#progress-waits")
    assert f"2 waiting: quiet hours in the customer's time zone, until {weekday_time(morning)}" in waits
    assert f"1 waiting: frequency cap (1 a day), until {weekday_time(cap_until)}" in waits
    # The two ready ones take 40 s at the current rate; the ETA is when the last waiting one may go.
    assert f"around {weekday_time(cap_until)}" in page.inner_text("#progress-eta")

    row = page.locator("#funnel-step-1")
    assert row.locator(".funnel-planned").inner_text() == "9 (1 skipped)"
    assert row.locator(".funnel-queued").inner_text() == "2"
    assert row.locator(".funnel-waiting").inner_text() == "3"
    assert row.locator(".funnel-sent").inner_text() == "3 (1 suppressed, 1 failed)"
    assert row.locator(".funnel-clicks").inner_text().startswith("1 33.3%")
    assert row.locator(".funnel-revenue").inner_text() == "€42.50"

    results = page.inner_text("#campaign-results-table")
    today = timezone.localtime(now)
    assert f"{today:%a} {today.day} {today:%b %Y}\t3\t3\t1\t1\t1\t€42.50" in results
    drawn = page.evaluate(
        """() => {
            const canvas = document.getElementById("chart-campaign-results");
            const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
            return false;
        }"""
    )
    assert drawn
    skipped = page.inner_text("#campaign-waits")
    assert "In the holdout group" in skipped and "Frequency cap (1 a day)" in skipped

    text = page.inner_text("#content")
    assert "Status: Active" in text and "Type: Win-back" in text
    for raw in ("win_back", "0.0000", "Enrollment object", "frequency_cap", "\tholdout\t"):
        assert raw not in text, raw
    amounts = re.findall(r"[€−-]*\d[\d,]*\.\d+%?", page.inner_text("#campaign-holdout"))
    assert amounts and all("€" in a or a.endswith("%") for a in amounts), amounts  # money has its currency
    shot("campaign_page_full")


def test_messages_and_enrollments_read_as_sentences_with_links(live_server, page, shot, marketer):
    campaign = active_win_back()
    step = campaign.steps.order_by("position").first()
    ada = Customer.objects.create(email="ada@example.test", first_name="Ada", last_name="Lovelace")
    entered = timezone.now() - timedelta(days=2)
    enrollment = Enrollment.objects.create(campaign=campaign, customer=ada, entered_at=entered)
    message = Message.objects.create(
        customer=ada,
        campaign=campaign,
        step=step,
        enrollment=enrollment,
        status=MessageStatus.SENT,
        sent_at=entered,
    )
    base = live_server.url
    login(page, base)
    day = f"{timezone.localtime(entered).day} {timezone.localtime(entered):%b}"

    page.goto(f"{base}/admin/campaigns/enrollment/")
    listing = page.inner_text("#result_list")
    assert f"Ada Lovelace in {campaign.name} (entered {day})" in listing
    assert "Enrollment object" not in listing and "active" not in listing.replace("Active", "")
    page.click(f"#result_list a:text('Ada Lovelace in {campaign.name}')")
    page.wait_for_selector("#enrollment_form")
    shot("enrollment_page")
    page.click(f"a:text('{campaign.name}, step 1 to Ada Lovelace (Sent {day})')")
    page.wait_for_selector("#message_form")
    assert page.url.endswith(f"/admin/campaigns/message/{message.pk}/change/")
    form = page.inner_text("#message_form")
    assert f"Ada Lovelace in {campaign.name} (entered {day})" in form and "Enrollment object" not in form

    page.goto(f"{base}/admin/campaigns/message/")
    row = page.inner_text("#result_list")
    assert f"{campaign.name}, step 1 to Ada Lovelace (Sent {day})" in row
    page.click("#result_list td.field-customer_link a")
    assert f"/admin/customers/customer/{ada.pk}/change/" in page.url
    shot("customer_from_message")


def test_ab_test_is_set_up_from_the_step_and_only_counts_its_own_messages(live_server, page, shot, marketer, settings):
    settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0
    campaign = active_win_back()
    step = campaign.steps.order_by("position").first()
    variant = Template.objects.create(
        name="Win-back 1: bolder subject",
        subject="We miss you, {{ customer.first_name }}!",
        mjml="<mjml></mjml>",
        is_valid=True,
    )
    variant.current_version = TemplateVersion.objects.create(
        template=variant, number=1, subject=variant.subject, mjml="<mjml></mjml>", compiled_html="<p>Hi</p>"
    )
    variant.save()
    before = people(3, prefix="early")
    now = timezone.now()
    for customer in before:  # mailed before the test existed, from the step's own template
        enrollment = Enrollment.objects.create(campaign=campaign, customer=customer, entered_at=now, next_step=2)
        Message.objects.create(
            customer=customer,
            campaign=campaign,
            step=step,
            enrollment=enrollment,
            template_version=step.template.current_version,
            status=MessageStatus.SENT,
            sent_at=now,
            created_at=now - timedelta(hours=1),
        )

    base = live_server.url
    login(page, base)
    page.goto(f"{base}/admin/campaigns/campaign/{campaign.pk}/change/")
    page.click("#ab-step-1")
    page.wait_for_selector("#ab-test-form")
    assert "step id" not in page.inner_text("#content").lower()
    page.get_by_label("Win-back 1: bolder subject — subject “We miss you, {{ customer.first_name }}!”").check()
    page.fill("#id_sample_size", "4")
    page.select_option("#id_decide_after", label="1 day")
    shot("ab_test_form")
    page.click("#ab-test-submit")
    page.wait_for_selector("#ab-arms-step-1")
    arms = page.inner_text("#ab-arms-step-1")
    shot("ab_test_set_up")
    assert f"Arm A\t{step.template.name}" in arms and "Arm B\tWin-back 1: bolder subject" in arms
    assert arms.count("\t0\t0\t0\t—") == 2, arms  # both arms listed before they send, the early mail not counted
    assert "starts with the step's next message" in page.inner_text("#ab-step-1-status")
    test = ABTest.objects.get(step=step)
    assert [v.template for v in test.variants.all()] == [variant] and test.sample_size == 4

    # Four new customers reach step 1; the tick splits them two and two, the early three count nowhere.
    for customer in people(4, prefix="late"):
        Enrollment.objects.create(campaign=campaign, customer=customer, entered_at=now, due_at=now)
    enrollments_advance(campaign=campaign, now=timezone.now())
    Message.objects.filter(step=step, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SENT, sent_at=timezone.now()
    )
    campaign.save()  # a new report (the page caches it per campaign version)
    page.goto(f"{base}/admin/campaigns/campaign/{campaign.pk}/change/")
    arms = page.inner_text("#ab-arms-step-1")
    shot("ab_test_running")
    assert re.search(r"Arm A\t[^\t]+\t[^\t]+\t2\t", arms) and re.search(r"Arm B\t[^\t]+\t[^\t]+\t2\t", arms), arms


def test_a_running_recipe_is_not_created_again_without_confirmation(live_server, page, shot, marketer):
    people(2)
    base = live_server.url
    login(page, base)
    page.goto(f"{base}/admin/campaigns/campaign/")
    page.click("#create-from-recipe")
    page.click("input[value='Create Win-back: three-step sequence']")
    page.wait_for_selector("#campaign-journey")
    page.click("#action-activate")
    page.wait_for_selector("#action-pause")
    first = Campaign.objects.get()

    page.goto(f"{base}/admin/journeys/journeycampaign/recipes/")
    page.click("input[value='Create Win-back: three-step sequence']")
    page.wait_for_selector("#recipe-warning")
    shot("recipe_warning")
    warning = page.inner_text("#recipe-warning")
    assert "already running" in warning and f"{first.name} (Active)" in warning
    assert Campaign.objects.count() == 1
    page.click(f"#recipe-warning a:text('{first.name}')")
    page.wait_for_selector("#campaign-journey")
    assert page.url.endswith(f"/admin/campaigns/campaign/{first.pk}/change/")

    page.goto(f"{base}/admin/journeys/journeycampaign/recipes/")
    assert f"Already running: {first.name} (Active)" in page.inner_text("#recipe-win_back")
    page.click("input[value='Create Win-back: three-step sequence']")
    page.click("#recipe-create-again")
    page.wait_for_selector("#campaign-journey")
    assert Campaign.objects.count() == 2
    assert Campaign.objects.exclude(pk=first.pk).get().status == CampaignStatus.DRAFT


def test_one_campaign_list_in_the_menu_and_old_results_addresses_lead_to_the_campaign_page(
    live_server, page, shot, marketer
):
    campaign = active_win_back()
    base = live_server.url
    login(page, base)
    page.goto(f"{base}/admin/campaigns/campaign/")
    menu = page.locator("#nav-sidebar a")
    labels = [text.strip() for text in menu.all_inner_texts()]
    assert labels.count("Campaigns") == 1 and not [t for t in labels if "results" in t.lower()], labels
    shot("menu_one_campaign_list")
    page.goto(f"{base}/admin/journeys/journeycampaign/")
    assert page.url.endswith("/admin/campaigns/campaign/")
    page.goto(f"{base}/admin/journeys/journeycampaign/{campaign.pk}/results/")
    page.wait_for_selector("#campaign-results")
    assert f"/admin/campaigns/campaign/{campaign.pk}/change/" in page.url


def test_dashboard_shows_status_labels_money_with_currency_and_one_percent_format(live_server, page, shot, marketer):
    from campaigns.selectors.dashboard import dashboard_warm

    campaign = active_win_back()
    step = campaign.steps.order_by("position").first()
    ada = people(1)[0]
    now = timezone.now()
    message = Message.objects.create(
        customer=ada, campaign=campaign, step=step, status=MessageStatus.SENT, sent_at=now, delivered_at=now
    )
    order = Order.objects.create(external_id="SO-9", customer=ada, placed_at=now, total=Decimal("1234.50"))
    Attribution.objects.create(
        order=order,
        message=message,
        campaign=campaign,
        step=step,
        revenue=Decimal("1234.50"),
        touched_at=now,
        touch="click",
    )
    dashboard_warm()
    base = live_server.url
    login(page, base)
    page.goto(f"{base}/admin/?days=7")
    shot("dashboard_labels")
    assert page.inner_text("#tile-revenue") == "€1,234.50"
    row = page.inner_text("#dashboard-campaigns tbody tr")
    assert row.startswith(f"{campaign.name}\tActive\t1\t") and "€1,234.50" in row
    assert "\tactive\t" not in row
    assert re.fullmatch(r"\d+\.\d%", page.inner_text("#tile-open"))
