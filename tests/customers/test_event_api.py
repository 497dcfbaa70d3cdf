"""The shop's event API: POST /api/v1/events with a bearer API key."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client

from customers.models import Activity, ConsentChange, Customer, IngestedEvent, Order, Product, Tier
from customers.services.events.api_keys import api_key_create, api_key_revoke
from customers.services.events.dispatch import event_ingest
from customers.signals import shop_event_recorded

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"


@pytest.fixture
def key():
    api_key, secret = api_key_create(name="Test shop")
    return api_key, secret


def post(client, secret: str | None, body, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **headers, **extra)


def order(event_id: str, order_id: str, total: str, placed_at: str, email: str = "ann@example.com") -> dict:
    return {
        "id": event_id,
        "type": "order_placed",
        "customer": {"email": email},
        "order_id": order_id,
        "placed_at": placed_at,
        "total": total,
        "currency": "EUR",
        "items": [{"sku": "MUG-1", "product_name": "Mug", "category": "Mugs", "quantity": 2, "unit_price": "7.50"}],
    }


@pytest.mark.parametrize("header", [None, "Bearer nope", "Token abc", ""])
def test_missing_or_wrong_key_is_401_json(client, key, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.post(URL, data=json.dumps({"events": []}), content_type="application/json", **extra)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "API key" in response.json()["detail"]


def test_revoked_key_is_401(client, key):
    api_key, secret = key
    assert post(client, secret, {"events": []}).status_code == 200
    api_key_revoke(api_keys=[api_key])
    assert post(client, secret, {"events": []}).status_code == 401


def test_use_of_a_key_is_recorded(client, key):
    api_key, secret = key
    post(client, secret, {"events": []})
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_mixed_batch_reports_each_event_and_lands_the_valid_ones(client, key):
    _, secret = key
    events = [
        {"id": "c1", "type": "customer_upserted", "customer": {"email": " Ann@Example.com ", "first_name": "Ann"}},
        {"id": "c2", "type": "customer_upserted", "customer": {"email": "not-an-email"}},
        {"id": "c3", "type": "refund_issued", "customer": {"email": "bob@example.com"}},
        {"type": "cart_updated", "customer": {"email": "bob@example.com"}},
        "not an object",
        {
            "id": "c4",
            "type": "cart_updated",
            "customer": {"email": "ann@example.com"},
            "items": [{"sku": "MUG-1", "product_name": "Mug", "quantity": 2, "unit_price": "7.50"}],
            "cart_url": "https://shop.example/cart/abc",
        },
    ]
    response = post(client, secret, {"events": events})

    assert response.status_code == 200
    body = response.json()
    assert [(r["id"], r["status"]) for r in body["results"]] == [
        ("c1", "accepted"),
        ("c2", "rejected"),
        ("c3", "rejected"),
        (None, "rejected"),
        (None, "rejected"),
        ("c4", "accepted"),
    ]
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 0, 4)
    assert body["results"][1]["errors"] == [{"field": "customer.email", "message": "not a valid email address"}]
    assert body["results"][2]["errors"][0]["field"] == "type"
    assert {"field": "id", "message": "Field required"} in body["results"][3]["errors"]

    ann = Customer.objects.get(email="ann@example.com")
    assert ann.first_name == "Ann"
    assert not Customer.objects.filter(email="bob@example.com").exists()
    cart = Activity.objects.get(customer=ann, type="cart_updated")
    assert cart.properties["cart_value"] == "15.00"
    assert cart.properties["cart_url"] == "https://shop.example/cart/abc"
    assert cart.properties["items"][0]["sku"] == "MUG-1"
    assert set(IngestedEvent.objects.values_list("event_id", flat=True)) == {"c1", "c4"}


def test_retried_batch_changes_nothing(client, key):
    _, secret = key
    views = [
        {"id": f"v-{i}", "type": "product_viewed", "customer": {"email": f"c{i % 7}@example.com"}, "sku": f"S{i % 5}"}
        for i in range(150)
    ]
    views[120]["sku"] = ""  # one bad event in the second part of the batch
    batch = {"events": [order("o-1", "1001", "15.00", "2026-01-10T10:00:00Z"), *views]}
    first = post(client, secret, batch).json()
    assert (first["accepted"], first["rejected"]) == (150, 1)
    counts = (Customer.objects.count(), Order.objects.count(), Activity.objects.count(), IngestedEvent.objects.count())
    assert counts == (8, 1, 149, 150)

    again = post(client, secret, batch)

    assert again.status_code == 200
    assert (again.json()["duplicates"], again.json()["rejected"]) == (150, 1)
    assert again.json()["results"][121]["status"] == "rejected"
    assert (
        Customer.objects.count(),
        Order.objects.count(),
        Activity.objects.count(),
        IngestedEvent.objects.count(),
    ) == counts


def test_same_id_twice_in_one_batch_is_a_duplicate(client, key):
    _, secret = key
    event = {"id": "dup", "type": "customer_upserted", "customer": {"email": "ann@example.com"}}
    body = post(client, secret, {"events": [event, event]}).json()
    assert [r["status"] for r in body["results"]] == ["accepted", "duplicate"]


def test_concurrent_insert_of_the_same_event_id_is_a_duplicate(key):
    """Without the up-front lookup, the unique constraint alone decides (as for two racing requests)."""
    api_key, _ = key
    event = {"id": "race", "type": "customer_upserted", "customer": {"email": "ann@example.com"}}
    assert event_ingest(raw=event, api_key=api_key).status == "accepted"
    assert event_ingest(raw=event, api_key=api_key).status == "duplicate"
    assert IngestedEvent.objects.filter(event_id="race").count() == 1


def test_too_many_events_is_400(client, key, settings):
    _, secret = key
    events = [{"id": f"e{i}", "type": "customer_upserted", "customer": {"email": "a@example.com"}} for i in range(1001)]
    response = post(client, secret, {"events": events})
    assert response.status_code == 400
    assert "at most 1000" in response.json()["detail"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("body", ["{not json", "[]", '{"events": {}}', "", b"\xff\xfe"])
def test_malformed_body_is_400_json(client, key, body):
    _, secret = key
    response = post(client, secret, body)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "events" in response.json()["detail"]


def test_text_the_database_cannot_store_is_rejected_not_a_server_error(client, key):
    _, secret = key
    events = [
        {"id": "n1", "type": "customer_upserted", "customer": {"email": "a@example.com", "first_name": "A\u0000"}},
        {"id": "n2\u0000", "type": "customer_upserted", "customer": {"email": "a@example.com"}},
        {"id": "deep", "type": "cart_updated", "customer": {"email": "a@example.com"}, "properties": {"a": [[[[1]]]]}},
    ]
    response = post(client, secret, {"events": events})
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["rejected", "rejected", "accepted"]
    assert post(client, secret, '{"events": ' + "[" * 100_000 + "]" * 100_000 + "}").status_code == 400


def test_orders_update_the_customer_aggregates(client, key):
    _, secret = key
    events = [
        order("o-1", "1001", "15.00", "2026-01-10T10:00:00Z"),
        order("o-2", "1002", "45.00", "2026-03-01T09:30:00+01:00"),
    ]
    assert post(client, secret, {"events": events}).json()["accepted"] == 2

    ann = Customer.objects.get(email="ann@example.com")
    assert ann.orders_count == 2
    assert ann.total_spent == Decimal("60.00")
    assert ann.average_order_value == Decimal("30.00")
    assert ann.first_order_at == datetime(2026, 1, 10, 10, 0, tzinfo=UTC)
    assert ann.last_order_at == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert Product.objects.get(sku="MUG-1").name == "Mug"
    assert Order.objects.get(external_id="1001").items.get().unit_price == Decimal("7.50")

    # The shop re-sends order 1002 corrected, under a new event id: updated, not duplicated.
    post(client, secret, {"events": [order("o-2b", "1002", "35.00", "2026-03-01T09:30:00+01:00")]})
    ann.refresh_from_db()
    assert Order.objects.filter(external_id="1002").count() == 1
    assert ann.orders_count == 2
    assert ann.total_spent == Decimal("50.00")


def test_customer_matching_and_consent_proof(client, key):
    _, secret = key
    events = [
        {"id": "u1", "type": "customer_upserted", "customer": {"email": "ann@example.com", "external_id": "42"}},
        {
            "id": "u2",
            "type": "customer_upserted",
            "customer": {"external_id": "42", "email": "ann.new@example.com", "email_consent": True},
        },
        {"id": "u3", "type": "customer_upserted", "customer": {"email": "ann.new@example.com", "external_id": "43"}},
    ]
    body = post(client, secret, {"events": events}).json()
    assert [r["status"] for r in body["results"]] == ["accepted", "accepted", "rejected"]
    ann = Customer.objects.get(external_id="42")
    assert ann.email == "ann.new@example.com"
    assert ann.consent == "granted"
    change = ConsentChange.objects.get(customer=ann)
    assert (change.source, change.actor, change.new_value) == ("api", "Test shop", "granted")


def test_trials_and_product_views(client, key):
    _, secret = key
    customer = {"email": "ann@example.com"}
    events = [
        {"id": "t1", "type": "trial_started", "customer": customer, "plan": "premium", "ends_at": "2026-12-01T00:00Z"},
        {"id": "t2", "type": "trial_converted", "customer": customer, "plan": "premium"},
        {
            "id": "p1",
            "type": "product_viewed",
            "customer": customer,
            "sku": "TEA-1",
            "name": "Sencha",
            "category": "Tea",
            "price": 9.2,
            "url": "https://shop.example/p/sencha",
        },
    ]
    assert post(client, secret, {"events": events}).json()["accepted"] == 3
    ann = Customer.objects.get(email="ann@example.com")
    assert ann.tier == Tier.PREMIUM
    trial = Activity.objects.get(type="trial_started")
    assert trial.properties["ends_at"] == "2026-12-01T00:00:00+00:00"
    view = Activity.objects.get(type="product_viewed")
    assert (view.product.name, view.product.price, view.product.category) == ("Sencha", Decimal("9.20"), "Tea")


def test_signal_is_sent_after_commit(client, key, django_capture_on_commit_callbacks):
    _, secret = key
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    shop_event_recorded.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            post(client, secret, {"events": [order("o-1", "1001", "15.00", "2026-01-10T10:00:00Z")]})
    finally:
        shop_event_recorded.disconnect(receiver)
    ann = Customer.objects.get(email="ann@example.com")
    assert [(r["customer_id"], r["event_type"]) for r in received] == [(ann.pk, "order_placed")]


def test_rate_limit_answers_429_with_retry_after(client, key, settings):
    _, secret = key
    settings.EVENT_API_RATE_PER_MINUTE = 2
    with time_machine.travel(datetime(2026, 5, 1, 12, 0, 30, tzinfo=UTC), tick=False):
        assert post(client, secret, {"events": []}).status_code == 200
        assert post(client, secret, {"events": []}).status_code == 200
        limited = post(client, secret, {"events": []})
    assert limited.status_code == 429
    assert limited["Retry-After"] == "30"
    with time_machine.travel(datetime(2026, 5, 1, 12, 1, 1, tzinfo=UTC), tick=False):
        assert post(client, secret, {"events": []}).status_code == 200


def test_openapi_schema_and_local_docs(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/events" in schema["paths"]
    assert {"OrderPlaced", "CartUpdated", "EventBatch"} <= set(schema["components"]["schemas"])
    docs = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()


@pytest.mark.needs_postgres  # concurrent writers
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_copies_of_a_batch_apply_it_once(key):
    """The shop retries while the first request is still running: every event lands exactly once."""
    _, secret = key
    events = [
        order(f"o-{i}", f"{2000 + i}", "10.00", "2026-02-01T10:00:00Z", email=f"c{i % 10}@example.com")
        for i in range(120)
    ]
    barrier = threading.Barrier(2)

    def send() -> dict:
        try:
            barrier.wait()
            response = post(Client(), secret, {"events": events})
            assert response.status_code == 200
            return response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: send(), range(2)))

    for index in range(120):
        statuses = sorted(answer["results"][index]["status"] for answer in answers)
        assert statuses == ["accepted", "duplicate"]
    assert Order.objects.count() == 120
    assert IngestedEvent.objects.count() == 120
    assert sorted(Customer.objects.values_list("orders_count", flat=True)) == [12] * 10
