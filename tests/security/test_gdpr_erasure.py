"""GDPR erasure leaves no copy of the address or name anywhere in the database.

The customer's data arrives the ways it does in production (event API, an admin edit, a sent
message, ESP webhooks, tracking hits); after erasure every text and JSON column of every table
is searched for the address, its local part and the name. Only the address hash remains, on
the suppression list, so a re-imported address is never mailed again.
"""

from __future__ import annotations

import base64
import json

import pytest
from django.apps import apps
from django.contrib.admin import site
from django.db import models

from campaigns.models import Campaign, CampaignKind, Message, MessageStatus
from customers.models import Customer
from customers.selectors import customer_mailable_ids
from customers.services.events.api_keys import api_key_create
from customers.services.gdpr import customer_erase
from customers.services.suppression import email_hash
from tests.tracking.test_webhooks import eager_celery  # noqa: F401 - fixture
from tracking.link_rewriting import OPEN_PURPOSE
from tracking.tokens import make_token

pytestmark = pytest.mark.django_db

EMAIL, FIRST, LAST = "zelda.quist@example.org", "Zelda", "Quist"
HOOK_SECRET = "hooks:gdpr-test"


def _hits(needles: list[str]) -> list[str]:
    """Every (table.column) in which any needle appears, across all installed models."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.CharField | models.TextField | models.JSONField | models.EmailField):
                continue
            for needle in needles:
                lookup = f"{field.name}__icontains"
                try:
                    if model._default_manager.filter(**{lookup: needle}).exists():
                        found.append(f"{model._meta.db_table}.{field.column} contains {needle!r}")
                except Exception:  # noqa: BLE001 - a JSON lookup this backend cannot do: read the rows
                    for value in model._default_manager.values_list(field.name, flat=True):
                        if needle.lower() in json.dumps(value, default=str).lower():
                            found.append(f"{model._meta.db_table}.{field.column} contains {needle!r}")
                            break
    return found


def test_erasure_leaves_only_the_hash(
    client,
    rf,
    admin_user,
    settings,
    eager_celery,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": HOOK_SECRET}
    _key, secret = api_key_create(name="Shop")
    events = [
        {
            "id": "gdpr-1",
            "type": "customer_upserted",
            "customer": {"email": EMAIL, "first_name": FIRST, "last_name": LAST},
        },
        {"id": "gdpr-2", "type": "order_placed", "customer": {"email": EMAIL}, "order_id": "G-1", "total": "12.00"},
        {"id": "gdpr-3", "type": "cart_updated", "customer": {"email": EMAIL}, "properties": {"note": f"for {FIRST}"}},
    ]
    response = client.post(
        "/api/v1/events", data=json.dumps({"events": events}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )  # fmt: skip
    assert response.json()["accepted"] == 3
    customer = Customer.objects.get(email=EMAIL)
    # What the admin records when staff edit the customer (its history keeps str(customer): the address).
    request = rf.post("/admin/")
    request.user = admin_user
    site.get_model_admin(Customer).log_change(request, customer, [{"changed": {"fields": ["First name"]}}])
    campaign = Campaign.objects.create(name="Welcome", kind=CampaignKind.ONE_OFF)
    message = Message.objects.create(
        customer=customer, campaign=campaign, status=MessageStatus.SENT, esp_message_id="esp-1", subject=f"Hi {FIRST}"
    )
    client.get(f"/o/{make_token(OPEN_PURPOSE, message.pk)}.gif")
    auth = "Basic " + base64.b64encode(HOOK_SECRET.encode()).decode()
    for record in ("Delivery", "Bounce"):
        payload = {"RecordType": record, "MessageID": "esp-1", "Recipient": EMAIL, "Email": EMAIL, "ID": 7,
                   "Type": "HardBounce", "DeliveredAt": "2026-11-05T16:33:54Z", "BouncedAt": "2026-11-05T16:40:00Z",
                   "Metadata": {"message_id": str(message.pk)}, "Description": f"{EMAIL} unknown",
                   "Subject": f"Hi {FIRST}"}  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                "/webhooks/anymail/postmark/tracking/", data=json.dumps(payload), content_type="application/json",
                HTTP_AUTHORIZATION=auth,
            )  # fmt: skip
    needles = [EMAIL, EMAIL.split("@")[0], FIRST, LAST]
    assert _hits(needles), "the data did not land: the search below would prove nothing"

    customer_erase(customer=Customer.objects.get(pk=customer.pk), actor="test")

    assert _hits(needles) == []
    again = Customer.objects.create(email=EMAIL)
    assert customer_mailable_ids(customer_ids=[again.pk]) == set()
    assert email_hash(EMAIL)  # only the hash of the address is kept
