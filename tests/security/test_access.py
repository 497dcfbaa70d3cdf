"""Who may do what: admin staff and groups, CSRF on admin writes, API keys, webhook authentication."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from customers.models import ApiKey, Customer
from customers.roles import MARKETING_GROUP
from customers.services.events.api_keys import api_key_create, api_key_revoke
from tracking.models import EspEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer() -> Customer:
    return Customer.objects.create(email="kim@example.org", first_name="Kim")


@pytest.fixture
def marketer(client) -> Client:
    user = User.objects.create_user("marketer", password="pw-for-tests", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING_GROUP))
    client.force_login(user)
    return client


def test_admin_is_for_staff_only(client, customer):
    url = reverse("admin:customers_customer_changelist")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(User.objects.create_user("shopper", password="pw-for-tests"))
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_marketing_runs_campaigns_but_cannot_change_customers_keys_or_users(marketer, customer):
    for name in ("campaigns_campaign_add", "campaigns_template_add", "campaigns_segment_add"):
        assert marketer.get(reverse(f"admin:{name}")).status_code == 200, name
    assert marketer.get(reverse("admin:customers_customer_changelist")).status_code == 200  # may look
    change = reverse("admin:customers_customer_change", args=[customer.pk])
    assert marketer.post(change, {"email": "evil@example.org", "first_name": "X"}).status_code == 403
    assert (
        marketer.post(reverse("admin:customers_customer_delete", args=[customer.pk]), {"post": "yes"}).status_code
        == 403
    )
    for name in (
        "customers_customer_add",
        "customers_apikey_changelist",
        "customers_apikey_add",
        "auth_user_changelist",
    ):
        assert marketer.get(reverse(f"admin:{name}")).status_code == 403, name
    customer.refresh_from_db()
    assert customer.email == "kim@example.org" and Customer.objects.count() == 1


def test_superuser_may_manage_customers_and_keys(admin_client, customer):
    for name in ("customers_customer_add", "customers_apikey_add", "auth_user_changelist"):
        assert admin_client.get(reverse(f"admin:{name}")).status_code == 200, name


def test_admin_writes_need_a_csrf_token(admin_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    url = reverse("admin:campaigns_campaign_add")
    assert browser.post(url, {"name": "Forged", "kind": "one_off"}).status_code == 403
    assert not Campaign.objects.filter(name="Forged").exists()
    browser.get(url)  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post(url, {"name": "Genuine", "csrfmiddlewaretoken": token})
    assert response.status_code in (200, 302)  # past CSRF (the form may still want more fields)


def _post_events(client: Client, secret: str) -> int:
    body = json.dumps({"events": []})
    return client.post(
        "/api/v1/events", data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    ).status_code


def test_event_api_rejects_wrong_and_revoked_keys_and_limits_each_key(client, settings):
    settings.EVENT_API_RATE_PER_MINUTE = 3
    key, secret = api_key_create(name="Shop A")
    _other, other_secret = api_key_create(name="Shop B")
    assert _post_events(client, secret[:-1] + ("x" if secret[-1] != "x" else "y")) == 401
    assert _post_events(client, "") == 401
    assert [_post_events(client, secret) for _ in range(4)][-1] == 429
    assert _post_events(client, other_secret) == 200  # the limit is per key
    api_key_revoke(api_keys=[key])
    assert _post_events(client, secret) == 401
    assert ApiKey.objects.filter(revoked_at__isnull=False).count() == 1


@pytest.mark.parametrize("esp", ["postmark", "mailgun", "brevo", "mailjet"])
def test_webhooks_refuse_unauthenticated_posts(client, esp, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hooks:secret", "MAILGUN_WEBHOOK_SIGNING_KEY": "key"}
    url = f"/webhooks/anymail/{esp}/tracking/"
    payload = {"RecordType": "Bounce", "MessageID": "x", "Email": "kim@example.org", "Type": "HardBounce", "ID": 1}
    response = client.post(url, data=json.dumps(payload), content_type="application/json")
    assert response.status_code in (400, 401, 403), response.status_code
    assert not EspEvent.objects.exists()
