"""API keys: created in the admin or on the command line, secret shown once, revocable."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from customers.models import ApiKey

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"rk_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")


def send(client, secret: str):
    return client.post(
        "/api/v1/events",
        data=json.dumps({"events": []}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


def test_admin_creates_a_key_and_shows_the_secret_once(admin_client, admin_user):
    response = admin_client.post(reverse("admin:customers_apikey_add"), {"name": "Main shop"}, follow=True)

    assert response.status_code == 200
    secrets_shown = SECRET.findall(response.content.decode())
    assert len(secrets_shown) == 1
    secret = secrets_shown[0]
    key = ApiKey.objects.get(name="Main shop")
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(key.prefix)
    assert key.created_by == admin_user
    assert send(admin_client, secret).status_code == 200

    change_page = admin_client.get(reverse("admin:customers_apikey_change", args=[key.pk])).content.decode()
    list_page = admin_client.get(reverse("admin:customers_apikey_changelist")).content.decode()
    assert secret not in change_page and secret not in list_page
    assert key.prefix in list_page


def test_admin_revoke_action(admin_client):
    call_command("create_api_key", "Old shop", stdout=(out := io.StringIO()), stderr=io.StringIO())
    secret = out.getvalue().strip()
    key = ApiKey.objects.get(name="Old shop")
    assert send(admin_client, secret).status_code == 200

    response = admin_client.post(
        reverse("admin:customers_apikey_changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
        follow=True,
    )

    assert "1 API key(s) revoked" in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert send(admin_client, secret).status_code == 401


def test_create_api_key_command_prints_a_working_key_once(client):
    out = io.StringIO()
    call_command("create_api_key", "CLI shop", stdout=out, stderr=io.StringIO())
    secret = out.getvalue().strip()
    assert SECRET.fullmatch(secret)
    key = ApiKey.objects.get(name="CLI shop")
    assert secret not in (key.prefix, key.key_hash)
    assert send(client, secret).status_code == 200


def test_ingested_events_are_read_only_in_admin(admin_client):
    assert admin_client.get(reverse("admin:customers_ingestedevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:customers_ingestedevent_add")).status_code == 403
