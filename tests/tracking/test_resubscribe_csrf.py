"""Resubscribing restarts mail, so it takes the page's CSRF token; unsubscribing never needs one."""

from __future__ import annotations

import pytest
from django.test import Client

from campaigns.models import Campaign, CampaignKind, Message, MessageStatus
from customers.models import ConsentChange, Customer, EmailStatus
from tracking.unsubscribe_links import unsubscribe_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def unsubscribed_message() -> Message:
    customer = Customer.objects.create(email="lee@example.test", first_name="Lee")
    campaign = Campaign.objects.create(name="Win-back", kind=CampaignKind.WIN_BACK)
    message = Message.objects.create(customer=customer, campaign=campaign, status=MessageStatus.SENT)
    path = unsubscribe_url(message.pk).removeprefix("http://127.0.0.1:8000")
    Client(enforce_csrf_checks=True).post(path, data="List-Unsubscribe=One-Click", content_type="text/plain")
    assert Customer.objects.get(pk=customer.pk).email_status == EmailStatus.UNSUBSCRIBED
    return message


def _path(message: Message) -> str:
    return unsubscribe_url(message.pk).removeprefix("http://127.0.0.1:8000")


def test_cross_site_resubscribe_without_csrf_token_is_refused(unsubscribed_message):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        _path(unsubscribed_message),
        {"action": "resubscribe"},
        HTTP_ORIGIN="https://evil.example",
        HTTP_REFERER="https://evil.example/page",
    )
    assert response.status_code == 403
    customer = Customer.objects.get(pk=unsubscribed_message.customer_id)
    assert customer.email_status == EmailStatus.UNSUBSCRIBED
    assert not ConsentChange.objects.filter(source="resubscribe_link").exists()


def test_resubscribe_without_token_from_the_same_site_is_refused_too(unsubscribed_message):
    client = Client(enforce_csrf_checks=True)
    response = client.post(_path(unsubscribed_message), {"action": "resubscribe"})
    assert response.status_code == 403
    assert Customer.objects.get(pk=unsubscribed_message.customer_id).email_status == EmailStatus.UNSUBSCRIBED


def test_unsubscribe_button_and_one_click_still_need_no_token(unsubscribed_message):
    customer = Customer.objects.create(email="kim@example.test")
    message = Message.objects.create(
        customer=customer, campaign=unsubscribed_message.campaign, status=MessageStatus.SENT
    )
    response = Client(enforce_csrf_checks=True).post(
        _path(message), {"action": "unsubscribe"}, HTTP_ORIGIN="https://mail.example"
    )
    assert response.status_code == 200
    assert Customer.objects.get(pk=customer.pk).email_status == EmailStatus.UNSUBSCRIBED
