"""The recipient's unsubscribe page in a real browser: both buttons work (resubscribe with the
page's CSRF token, now that a forged cross-site resubscribe is refused)."""

from __future__ import annotations

import os

import pytest

from campaigns.models import Campaign, CampaignKind, Message, MessageStatus
from customers.models import Customer, EmailStatus
from tracking.unsubscribe_links import unsubscribe_url

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_unsubscribe_then_resubscribe_with_the_buttons(live_server, page):
    customer = Customer.objects.create(email="lee@example.test", first_name="Lee")
    campaign = Campaign.objects.create(name="Win-back", kind=CampaignKind.WIN_BACK)
    message = Message.objects.create(customer=customer, campaign=campaign, status=MessageStatus.SENT)
    path = unsubscribe_url(message.pk).removeprefix("http://127.0.0.1:8000")

    page.goto(f"{live_server.url}{path}")
    page.click("button:has-text('Unsubscribe')")
    page.wait_for_selector("text=You are unsubscribed")
    customer.refresh_from_db()
    assert customer.email_status == EmailStatus.UNSUBSCRIBED

    page.click("button:has-text('Resubscribe')")
    page.wait_for_selector("h1:has-text('Welcome back')")
    customer.refresh_from_db()
    assert customer.email_status == EmailStatus.SUBSCRIBED
