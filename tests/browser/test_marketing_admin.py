"""A marketer's day in a real browser: log in, create from a recipe, preview, activate, watch, dashboard."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, Message, MessageStatus
from campaigns.selectors.dashboard import dashboard_warm
from customers.models import Customer

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _canvas_drawn(page, canvas_id: str) -> bool:
    return page.evaluate(
        """(id) => {
            const canvas = document.getElementById(id);
            if (!canvas || !window.Chart || !Chart.getChart(canvas)) return false;
            const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
            return false;
        }""",
        canvas_id,
    )


def test_marketer_runs_a_campaign_from_recipe_to_dashboard(live_server, page, shot, marketer, settings):
    settings.ADMIN_PROGRESS_POLL_MS = 300
    Customer.objects.bulk_create(Customer(email=f"shopper{i}@example.test", first_name=f"S{i}") for i in range(6))
    base = live_server.url

    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "secret-pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#marketing-dashboard")

    page.goto(f"{base}/admin/journeys/journeycampaign/recipes/")
    page.click("input[value='Create Win-back: three-step sequence']")
    page.wait_for_selector("#campaign-journey")
    campaign = Campaign.objects.order_by("-pk").first()
    assert campaign.status == CampaignStatus.DRAFT and "Win-back" in page.content()
    shot("01_campaign_from_recipe")

    page.click("#preview-step-1")
    page.wait_for_selector(".template-preview-page")
    assert "Preview:" in page.title() or "Preview" in page.content()
    for pane in (".preview-desktop", ".preview-mobile"):
        body = page.frame_locator(f"{pane} iframe").locator("body")
        body.wait_for()
        assert "unsubscribe" in body.inner_text().lower(), pane
    page.set_viewport_size({"width": 1400, "height": 2200})  # frames outside the viewport are not painted
    page.wait_for_timeout(300)
    shot("02_template_preview")
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.go_back()

    page.click("#action-activate")
    page.wait_for_selector("#action-pause, .messagelist .error")
    shot("03_activated")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE, (
        page.inner_text(".messagelist") if page.query_selector(".messagelist") else ""
    )
    assert "Activated (was Draft)." in page.inner_text("#campaign-history")

    now = timezone.now()
    step = campaign.steps.order_by("position").first()
    customers = list(Customer.objects.order_by("pk"))
    Message.objects.bulk_create(
        Message(customer=c, campaign=campaign, step=step, status=MessageStatus.QUEUED) for c in customers
    )
    Message.objects.filter(campaign=campaign, customer__in=customers[:4]).update(status=MessageStatus.SENT, sent_at=now)
    page.wait_for_function("document.getElementById('progress-text').textContent.startsWith('4 of 6 finished')")
    width = page.evaluate("parseFloat(document.getElementById('progress-bar').style.width)")
    assert 60 < width < 70
    shot("04_campaign_progress")

    dashboard_warm()  # what beat does every ADMIN_DASHBOARD_WARM_SECONDS: the login's figures were cached
    page.goto(f"{base}/admin/?days=7")
    page.wait_for_function("window.dashboardCharts && Object.keys(window.dashboardCharts).length === 4")
    for canvas in ("chart-engagement", "chart-revenue", "chart-health", "chart-lifecycle"):
        assert _canvas_drawn(page, canvas), canvas
    assert page.inner_text("#tile-sent") == "4"
    shot("05_dashboard")
