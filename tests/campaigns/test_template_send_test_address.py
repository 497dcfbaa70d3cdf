"""The test-send dialog asks staff for their address and keeps it on their login."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from tests.campaigns.test_template_admin import staff_with, template  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _send(client, template, **data):  # noqa: F811
    url = reverse("admin:campaigns_template_send_test", args=[template.pk])
    response = client.post(url, data, follow=True)
    return [m.message for m in response.context["messages"]]


def test_staff_without_an_address_give_one_and_it_is_kept(client, template, settings):  # noqa: F811
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = staff_with("view_template", "change_template", email="")
    client.force_login(user)

    assert _send(client, template) == ["Enter your email address to receive the test."]
    assert _send(client, template, address="not an address") == ["“not an address” is not a valid email address."]
    assert mail.outbox == []

    assert _send(client, template, address=" me@shop.example ") == ["Test email sent to me@shop.example."]
    user.refresh_from_db()
    assert user.email == "me@shop.example" and mail.outbox[0].to == ["me@shop.example"]
    page = client.get(reverse("admin:campaigns_template_change", args=[template.pk])).content.decode()
    assert 'value="me@shop.example"' in page
