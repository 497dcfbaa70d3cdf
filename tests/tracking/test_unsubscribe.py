"""The unsubscribe page: GET confirms only, POST (button or RFC 8058 one-click) unsubscribes."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from campaigns.models import Campaign, CampaignKind, Message, MessageStatus
from customers.models import ConsentChange, Customer, EmailStatus
from customers.selectors import customer_mailable_ids
from customers.services.suppression import customer_set_email_status
from tracking.tokens import make_token
from tracking.unsubscribe_links import list_unsubscribe_headers, unsubscribe_token, unsubscribe_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def message() -> Message:
    customer = Customer.objects.create(consent="granted", email="Jane.Doe@Example.com", first_name="Jane")
    campaign = Campaign.objects.create(name="Win-back", kind=CampaignKind.WIN_BACK)
    return Message.objects.create(customer=customer, campaign=campaign, status=MessageStatus.SENT)


def _path(message: Message) -> str:
    return unsubscribe_url(message.pk).removeprefix("http://127.0.0.1:8000")


def _status(message: Message) -> str:
    return Customer.objects.get(pk=message.customer_id).email_status


def _one_click(client: Client, path: str):
    return client.post(path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")


def test_get_shows_confirmation_and_changes_nothing(client, message):
    response = client.get(_path(message))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Unsubscribe" in html and 'method="post"' in html
    assert "j***@example.com" in html
    assert "jane.doe@example.com" not in html.lower()
    assert _status(message) == EmailStatus.SUBSCRIBED
    assert not ConsentChange.objects.exists()
    assert not response.cookies
    assert client.head(_path(message)).status_code == 200
    assert _status(message) == EmailStatus.SUBSCRIBED


def test_one_click_post_without_cookies_or_csrf_unsubscribes(message):
    client = Client(enforce_csrf_checks=True)
    response = _one_click(client, _path(message))
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert not response.cookies
    assert "unsubscribed" in response.content.decode()
    assert _status(message) == EmailStatus.UNSUBSCRIBED
    change = ConsentChange.objects.get()
    assert (change.source, change.actor, change.detail) == ("one_click", "recipient", f"message:{message.pk}")
    assert (change.old_value, change.new_value) == ("subscribed", "unsubscribed")
    assert customer_mailable_ids(customer_ids=[message.customer_id]) == set()


def test_one_click_url_is_the_one_in_the_list_unsubscribe_header(message):
    header = list_unsubscribe_headers(message.pk, list_id="win-back")["List-Unsubscribe"]
    https_url = header.split(">")[0].lstrip("<")
    response = _one_click(Client(enforce_csrf_checks=True), https_url.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200
    assert _status(message) == EmailStatus.UNSUBSCRIBED


def test_button_post_unsubscribes_and_repeats_are_idempotent(message):
    client = Client(enforce_csrf_checks=True)
    for _ in range(3):
        response = client.post(_path(message), {"action": "unsubscribe"})
        assert response.status_code == 200
        assert "Resubscribe" in response.content.decode()
    _one_click(client, _path(message))
    assert _status(message) == EmailStatus.UNSUBSCRIBED
    change = ConsentChange.objects.get()
    assert change.source == "unsubscribe_link"
    assert change.detail == f"message:{message.pk}"


def test_resubscribe_restores_mail_and_is_recorded(message):
    client = Client(enforce_csrf_checks=True)
    page = client.post(_path(message), {"action": "unsubscribe"}).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(_path(message), {"action": "resubscribe", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert "Welcome back" in response.content.decode()
    assert _status(message) == EmailStatus.SUBSCRIBED
    assert customer_mailable_ids(customer_ids=[message.customer_id]) == {message.customer_id}
    latest = ConsentChange.objects.order_by("-pk").first()
    assert (latest.source, latest.new_value, latest.detail) == (
        "resubscribe_link",
        "subscribed",
        f"message:{message.pk}",
    )


@pytest.mark.parametrize("status", [EmailStatus.BOUNCED, EmailStatus.COMPLAINED])
def test_bounced_or_complained_cannot_resubscribe_or_be_downgraded(message, status):
    customer_set_email_status(customer=message.customer, status=status, source="webhook:postmark")
    client = Client(enforce_csrf_checks=True)
    assert "Resubscribe" not in client.get(_path(message)).content.decode()
    client.post(_path(message), {"action": "resubscribe"})
    _one_click(client, _path(message))
    assert _status(message) == status
    assert customer_mailable_ids(customer_ids=[message.customer_id]) == set()
    assert ConsentChange.objects.count() == 1


def _bad_tokens(message: Message) -> list[str]:
    good = unsubscribe_token(message.pk)
    return [
        good[:-3],  # truncated
        good[:-1] + ("A" if good[-1] != "A" else "B"),  # forged signature
        make_token("click", message.pk),  # other purpose
        make_token("unsubscribe", message.pk, 1),  # wrong shape
        make_token("unsubscribe", message.pk + 1000),  # no such message
        "x" * 600,
        "%00",
    ]


def test_bad_tokens_get_the_same_neutral_404(message):
    client = Client(enforce_csrf_checks=True, raise_request_exception=True)
    for token in _bad_tokens(message):
        for method in (client.get, client.post):
            response = method(f"/u/{token}")
            assert response.status_code == 404, token
            assert "Location" not in response.headers
            assert "This link is not valid" in response.content.decode()
        response = _one_click(client, f"/u/{token}")
        assert response.status_code == 404
    assert _status(message) == EmailStatus.SUBSCRIBED
    assert not ConsentChange.objects.exists()


def test_unsubscribe_between_planning_and_claim_blocks_the_send(message):
    assert customer_mailable_ids(customer_ids=[message.customer_id]) == {message.customer_id}
    _one_click(Client(), _path(message))
    assert customer_mailable_ids(customer_ids=[message.customer_id]) == set()
