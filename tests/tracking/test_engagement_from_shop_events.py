"""Site activity and purchases sent through the event API raise the engagement score at once."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from customers.models import Customer
from customers.services.events.api_keys import api_key_create
from tracking.services.engagement import engagement_recompute_all

pytestmark = pytest.mark.django_db


def _post(client, secret: str, events: list[dict]):
    return client.post(
        "/api/v1/events",
        data=json.dumps({"events": events}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


def test_api_cart_and_order_raise_the_score_and_agree_with_the_nightly_recompute(
    client, django_capture_on_commit_callbacks
):
    _, secret = api_key_create(name="shop")
    now = timezone.now().isoformat()
    events = [
        {"id": "e1", "type": "customer_upserted", "customer": {"email": "eve@example.com"}},
        {
            "id": "e2",
            "type": "cart_updated",
            "occurred_at": now,
            "customer": {"email": "eve@example.com"},
            "items": [{"sku": "MUG-1", "product_name": "Mug", "quantity": 1, "unit_price": "7.50"}],
        },
        {
            "id": "e3",
            "type": "order_placed",
            "customer": {"email": "eve@example.com"},
            "order_id": "SO-1",
            "placed_at": now,
            "total": "7.50",
        },
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, secret, events).status_code == 200

    eve = Customer.objects.get(email="eve@example.com")
    assert eve.engagement_score > 0
    assert eve.last_engaged_at is not None
    incremental = eve.engagement_score

    engagement_recompute_all()
    eve.refresh_from_db()
    assert eve.engagement_score == pytest.approx(incremental, rel=1e-3)
