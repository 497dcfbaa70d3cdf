"""A marketer sees temporary blocks on the dashboard's deliverability panel; nobody was suppressed."""

from __future__ import annotations

import base64
import json
import os
import urllib.request

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache

from campaigns.models import Campaign, CampaignKind, Message, MessageStatus
from campaigns.selectors.dashboard import dashboard_warm
from config.celery import app as celery_app
from customers.models import Consent, Customer, EmailStatus
from customers.roles import MARKETING_GROUP, marketing_group_sync
from customers.selectors import customer_mailable_ids

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SECRET = "hooks:panel-secret"


@pytest.fixture
def eager_tasks(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


def post_webhook(url: str, body: object) -> int:
    auth = base64.b64encode(SECRET.encode()).decode()
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def panel_line(page) -> str:
    return page.inner_text("#temporary-blocks strong")


def test_temporary_blocks_are_counted_on_the_deliverability_panel_and_suppress_no_one(
    live_server, page, shot, eager_tasks
):
    cache.clear()
    marketing_group_sync()
    user = User.objects.create_user("mia", "mia@shop.example", "secret-pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING_GROUP))
    customer = Customer.objects.create(email="blocked@example.com", first_name="Bea", consent=Consent.GRANTED)
    campaign = Campaign.objects.create(name="Cross-sell", kind=CampaignKind.CROSS_SELL)
    message = Message.objects.create(customer=customer, campaign=campaign, status=MessageStatus.SENT)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "secret-pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#marketing-dashboard")
    assert panel_line(page) == "Temporary blocks (not suppressed): 0"

    sendgrid_block = {
        "email": "blocked@example.com",
        "timestamp": 1764582000,
        "event": "bounce",
        "sg_event_id": "panel-block-1",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "reason": "550 5.7.1 Service unavailable; client host blocked using Spamhaus",
        "status": "5.7.1",
        "type": "blocked",
        "message_id": str(message.pk),
    }
    postmark_block = {
        "RecordType": "Bounce",
        "ID": 991,
        "Type": "Blocked",
        "TypeCode": 100006,
        "Name": "ISP block",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {"message_id": str(message.pk)},
        "Description": "The ISP has blocked this message.",
        "Email": "blocked@example.com",
        "BouncedAt": "2026-11-30T16:33:54Z",
        "Inactive": False,
        "CanActivate": True,
    }
    assert post_webhook(f"{live_server.url}/webhooks/anymail/sendgrid/tracking/", [sendgrid_block]) == 200
    assert post_webhook(f"{live_server.url}/webhooks/anymail/postmark/tracking/", postmark_block) == 200
    dashboard_warm()  # what beat does every few minutes

    page.goto(f"{live_server.url}/admin/")
    page.wait_for_selector("#temporary-blocks")
    assert panel_line(page) == "Temporary blocks (not suppressed): 2"
    page.locator("#temporary-blocks").scroll_into_view_if_needed()
    shot("deliverability_temporary_blocks")

    customer.refresh_from_db()
    assert customer.email_status == EmailStatus.SUBSCRIBED
    assert customer_mailable_ids(customer_ids=[customer.pk]) == {customer.pk}
