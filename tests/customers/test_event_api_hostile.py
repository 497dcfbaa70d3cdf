"""The event API over HTTP with what the world sends: deep nesting, mixed batches, Redis down."""

from __future__ import annotations

import json
import logging
import re
import socket
from pathlib import Path

import pytest

from customers.models import Activity, Customer, IngestedEvent, Order
from customers.services.events.api_keys import api_key_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def api_client(client):
    _key, secret = api_key_create(name="Shop")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


def post(client, body: bytes | str):
    return client.post(URL, data=body, content_type="application/json")


def valid_events(count: int) -> list[dict]:
    return [
        {"id": f"ok-{n}", "type": "customer_upserted", "customer": {"email": f"ok{n}@example.test"}}
        for n in range(count)
    ]


def nested(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = {"next": value}
    return value


def nothing_written() -> bool:
    return not (IngestedEvent.objects.exists() or Customer.objects.exists() or Activity.objects.exists())


@pytest.mark.parametrize("depth", [40, 500, 20_000])
def test_deep_nesting_anywhere_in_a_batch_is_a_json_400_and_nothing_is_written(api_client, depth):
    deep = {
        "id": "deep-1",
        "type": "cart_updated",
        "customer": {"email": "deep@example.test"},
        "items": [{"sku": "S1"}],
        "properties": {"tree": nested(depth)},
    }
    body = json.dumps({"events": [*valid_events(150), deep]}) if depth < 5000 else _deep_body(depth)

    response = post(api_client, body)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "deeper than" in response.json()["detail"]
    assert nothing_written()


def _deep_body(depth: int) -> str:
    # json.dumps itself cannot write this deep; the bytes are what a hostile client sends.
    events = json.dumps(valid_events(150))[1:-1]
    deep = '{"id": "deep-1", "type": "cart_updated", "customer": {"email": "deep@example.test"}, "properties": '
    return '{"events": [' + events + ", " + deep + '{"a": ' * depth + "1" + "}" * depth + "}]}"


def test_nesting_a_shop_really_sends_is_accepted(api_client):
    event = {
        "id": "props-1",
        "type": "cart_updated",
        "customer": {"email": "props@example.test"},
        "items": [{"sku": "S1"}],
        "properties": {"coupon": {"code": "X", "rules": [{"min": {"amount": "10", "currency": "EUR"}}]}},
    }
    response = post(api_client, json.dumps({"events": [event]}))
    assert response.status_code == 200 and response.json()["accepted"] == 1


def readme_example() -> tuple[dict, dict]:
    """The request and answer of the README's event API example, as a shop developer reads them."""
    text = README.read_text()
    section = text[text.index("### Event API") :]
    request = json.loads(re.search(r"-d '(\{.*?\})'\n```", section, flags=re.S).group(1))
    answer = json.loads(re.search(r"Answer \(HTTP 200\):\n\n```json\n(.*?)```", section, flags=re.S).group(1))
    return request, answer


def test_the_readme_example_batch_answers_exactly_as_the_readme_shows_and_only_good_events_land(api_client):
    request, answer = readme_example()

    response = post(api_client, json.dumps(request))

    assert response.status_code == 200
    assert response.json() == answer
    assert set(IngestedEvent.objects.values_list("event_id", flat=True)) == {"evt-1001", "evt-1002", "evt-1003"}
    assert list(Order.objects.values_list("external_id", flat=True)) == ["SO-5001"]
    assert not Customer.objects.filter(email="not-an-email").exists()

    again = post(api_client, json.dumps(request)).json()
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate", "duplicate", "rejected"]


def test_a_batch_larger_than_a_chunk_with_bad_events_scattered_answers_per_event(api_client):
    events = valid_events(230)
    bad_at = {0, 99, 100, 101, 229}
    for n in bad_at:
        events[n] = {"id": f"bad-{n}", "type": "order_placed", "customer": {"email": f"bad{n}@example.test"}}
    events.append(dict(events[5]))  # the same id twice: the second is a duplicate

    body = post(api_client, json.dumps({"events": events})).json()

    statuses = [r["status"] for r in body["results"]]
    assert [n for n, s in enumerate(statuses) if s == "rejected"] == sorted(bad_at)
    assert statuses[-1] == "duplicate"
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (225, 1, 5)
    assert IngestedEvent.objects.count() == 225
    assert not Customer.objects.filter(email__startswith="bad").exists()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_with_redis_unreachable_the_api_answers_and_limits_per_process(api_client, settings, caplog, monkeypatch):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.EVENT_API_RATE_PER_MINUTE = 2
    monkeypatch.setattr("customers.api.rate_limit.time.time", lambda: 1_800_000_010.0)  # one minute window
    body = json.dumps({"events": valid_events(1)})

    with caplog.at_level(logging.WARNING, logger="customers.api.rate_limit"):
        first, second, third = (post(api_client, body) for _ in range(3))

    assert first.status_code == 200 and first.json()["accepted"] == 1
    assert second.status_code == 200 and second.json()["duplicates"] == 1
    assert third.status_code == 429 and int(third["Retry-After"]) >= 1
    assert any("cache is unreachable" in r.getMessage() for r in caplog.records)


def test_an_event_failing_in_an_unforeseen_way_is_rejected_alone_and_leaves_nothing(api_client, monkeypatch):
    from customers.services.events import dispatch

    real = dispatch.order_record

    def failing_for_one_order(*, event, **kwargs):
        order = real(event=event, **kwargs)
        if event.order_id == "SO-BROKEN":
            raise RuntimeError("a bug met while storing this order")
        return order

    monkeypatch.setattr(dispatch, "order_record", failing_for_one_order)
    events = [
        *valid_events(2),
        {"id": "broken", "type": "order_placed", "customer": {"email": "b@example.test"}, "order_id": "SO-BROKEN",
         "total": "5.00"},
        {"id": "fine", "type": "order_placed", "customer": {"email": "f@example.test"}, "order_id": "SO-FINE",
         "total": "7.00"},
    ]  # fmt: skip

    response = post(api_client, json.dumps({"events": events}))

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "accepted", "rejected", "accepted"]
    assert results[2]["errors"] == [{"field": "", "message": "could not be stored; send it again"}]
    assert list(Order.objects.values_list("external_id", flat=True)) == ["SO-FINE"]
    assert not Customer.objects.filter(email="b@example.test").exists()


def test_an_internal_error_is_answered_as_json(api_client, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("customers.api.events.event_batch_ingest", broken)
    response = post(api_client, json.dumps({"events": valid_events(1)}))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert "Retry" in response.json()["detail"]
