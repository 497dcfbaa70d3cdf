"""What staff read in the admin about who gets mail: the consent policy in force and the sunset/win-back rule."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import Campaign, CampaignKind, CampaignStatus, Message, Segment, Step, Template, TemplateVersion
from customers.models import Consent, Customer, Order

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RULE = "except win-back, which may mail each lapsed customer once per lapse (since their last order)."


@pytest.fixture
def staff(page, live_server):
    page.set_default_timeout(30_000)  # the campaign page is heavy on a loaded machine
    User.objects.create_superuser("ops", "ops@shop.example", "secret-pw")
    cache.clear()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "secret-pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#content")
    return page


def _customers() -> None:
    for name, consent, orders in (
        ("granted", Consent.GRANTED, 0),
        ("unknown_buyer", Consent.UNKNOWN, 1),
        ("unknown_lead", Consent.UNKNOWN, 0),
        ("denied_buyer", Consent.DENIED, 1),
    ):
        customer = Customer.objects.create(email=f"{name}@example.test", consent=consent)
        for i in range(orders):
            Order.objects.create(
                external_id=f"{name}-{i}", customer=customer, placed_at=timezone.now(), total=Decimal("9.00")
            )


def test_customer_list_shows_the_consent_policy_in_force(staff, live_server, shot, settings):
    _customers()
    staff.goto(f"{live_server.url}/admin/customers/customer/")
    text = staff.inner_text("#consent-policy")
    shot("audience_01_consent_policy_opt_in")
    assert text.startswith("Consent policy: opt-in only — 1 of 4 customers mailable now")

    settings.CONSENT_POLICY = "soft_opt_in"
    staff.goto(f"{live_server.url}/admin/customers/modelfit/dashboard/")
    assert staff.inner_text("#consent-policy").startswith("Consent policy: soft opt-in — 2 of 4 customers mailable now")
    staff.goto(f"{live_server.url}/admin/customers/modelfit/export-audience/")
    assert "soft opt-in" in staff.inner_text("#consent-policy")


def test_win_back_campaign_page_states_the_sunset_rule(staff, live_server, shot, settings):
    settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0
    settings.QUIET_HOURS_START = settings.QUIET_HOURS_END = 0
    lapsed = Customer.objects.create(email="lapsed@example.test", consent=Consent.GRANTED)
    placed = timezone.now() - timedelta(days=210)
    Order.objects.create(external_id="long-ago", customer=lapsed, placed_at=placed, total=Decimal("50.00"))
    Customer.objects.filter(pk=lapsed.pk).update(last_engaged_at=placed)
    template = Template.objects.create(name="We miss you", subject="We miss you", mjml="<mjml></mjml>", is_valid=True)
    template.current_version = TemplateVersion.objects.create(
        template=template, number=1, subject="We miss you", mjml="<mjml></mjml>", compiled_html="<p>Hi</p>"
    )
    template.save(update_fields=["current_version"])
    segment = Segment.objects.create(name="Lapsed", rules={})
    win_back = Campaign.objects.create(
        name="Win-back", kind=CampaignKind.WIN_BACK, status=CampaignStatus.ACTIVE, segment=segment, holdout_percent=0
    )
    Step.objects.create(campaign=win_back, position=1, template=template)
    loyalty = Campaign.objects.create(
        name="Loyalty", kind=CampaignKind.LOYALTY, status=CampaignStatus.ACTIVE, segment=segment, holdout_percent=0
    )
    Step.objects.create(campaign=loyalty, position=1, template=template)
    call_command("journeys_tick", stdout=io.StringIO())
    assert Message.objects.get(campaign=win_back).status == "queued"

    staff.goto(f"{live_server.url}/admin/campaigns/campaign/{win_back.pk}/change/")
    rule = staff.inner_text("#campaign-sunset-rule")
    staff.locator("#campaign-sunset-rule").scroll_into_view_if_needed()
    shot("audience_02_win_back_sunset_rule")
    assert "Sunset: customers without a human open or click (or a site visit or order) in 180 days" in rule
    assert RULE in rule
    assert "1 message went to sunset customers under this exception." in rule

    staff.goto(f"{live_server.url}/admin/campaigns/campaign/{loyalty.pk}/change/")
    rule = staff.inner_text("#campaign-sunset-rule")
    assert RULE in rule and "This campaign follows it." in rule
    assert "sunset" in staff.inner_text("#campaign-waits").lower()  # the loyalty mail was skipped, and says why

    staff.goto(f"{live_server.url}/admin/journeys/journeycampaign/{win_back.pk}/results/")
    assert RULE in staff.inner_text("#campaign-sunset-rule")
