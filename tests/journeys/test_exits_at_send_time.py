"""A cart reminder never reaches someone who bought: exits are checked by the tick and again
when the sender claims the message. Shop data comes in as the shop sends it (the event API, the
order CSV import); the tick and the sender run as the beat runs them, by task name."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.journeys.services.recipes import campaign_create_from_recipe
from campaigns.models import Campaign, CampaignStatus, Enrollment, EnrollmentStatus, Message, MessageStatus
from customers.models import Consent, Customer
from customers.services.events.api_keys import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def esp(journey_esp):
    return journey_esp


@pytest.fixture
def cart_journey():
    campaigns = campaign_create_from_recipe(recipe="abandoned_cart", user=None)
    Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).update(status=CampaignStatus.ACTIVE, holdout_percent=0)
    return campaigns


def beat(task: str) -> None:
    """Run a beat task the way the worker runs it (by its registered name)."""
    from config.celery import app

    app.loader.import_default_modules()  # what the worker does at start: every app's tasks.py
    app.tasks[task].apply(throw=True)


def post_events(client, events: list[dict]) -> None:
    _, secret = api_key_create(name="Shop")
    response = client.post(
        "/api/v1/events",
        data=json.dumps({"events": events}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 200, response.content
    assert response.json()["rejected"] == 0, response.json()


def cart(event_id: str, email: str, at) -> dict:
    return {
        "id": event_id,
        "type": "cart_updated",
        "occurred_at": at.isoformat(),
        "customer": {"email": email, "email_consent": True},
        "items": [{"sku": "MUG-1", "product_name": "Blue mug", "quantity": 1, "unit_price": "12.00"}],
    }


def order(event_id: str, email: str, at) -> dict:
    return {
        "id": event_id,
        "type": "order_placed",
        "customer": {"email": email, "email_consent": True},
        "order_id": f"order-{event_id}",
        "placed_at": at.isoformat(),
        "total": "12.00",
        "currency": "EUR",
    }


def test_a_late_cart_event_of_someone_who_bought_since_is_never_mailed(client, esp, cart_journey):
    """The shop sends its events late (a batch every few hours): Ann abandoned her cart two hours
    ago and bought half an hour ago; Bob abandoned his and did not buy. The tick enrols both on a
    cart event whose reminder is already due."""
    now = timezone.now()
    post_events(
        client,
        [
            cart("c-ann", "ann@example.com", now - timedelta(hours=2)),
            order("o-ann", "ann@example.com", now - timedelta(minutes=30)),
            cart("c-bob", "bob@example.com", now - timedelta(hours=2)),
        ],
    )

    beat("journeys.tick")
    beat("campaigns.send_due_messages")

    assert esp.times_mailed("ann@example.com") == 0, "the buyer got a cart reminder"
    [mail] = esp.messages()
    assert mail["To"] == "bob@example.com" and "Blue mug" in mail["HtmlBody"]
    ann = Enrollment.objects.get(customer__email="ann@example.com")
    assert ann.status == EnrollmentStatus.EXITED and ann.exit_reason == "goal: order_placed"


def test_an_order_imported_after_the_reminder_was_queued_stops_it_at_send_time(tmp_path, esp, cart_journey):
    """The reminder is queued; then the order arrives by the shop's CSV export (no live event, so
    no exit until the next tick). The sender checks the goal when it claims the message."""
    now = timezone.now()
    customer = Customer.objects.create(email="cleo@example.com", consent=Consent.GRANTED, external_id="cleo")
    customer.activities.create(
        type="cart_updated", occurred_at=now - timedelta(hours=2), properties={"items": [{"sku": "MUG-1"}]}
    )
    Customer.objects.create(email="dan@example.com", consent=Consent.GRANTED, external_id="dan").activities.create(
        type="cart_updated", occurred_at=now - timedelta(hours=2), properties={"items": [{"sku": "MUG-1"}]}
    )
    beat("journeys.tick")
    assert Message.objects.filter(status=MessageStatus.QUEUED).count() == 2

    placed = (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    csv = tmp_path / "orders.csv"
    csv.write_text(f"order_id,customer_external_id,email,placed_at,total,currency\nA-1,cleo,,{placed},12.00,EUR\n")
    call_command("import_orders", str(csv), "--no-progress", stdout=open("/dev/null", "w"))  # noqa: SIM115

    beat("campaigns.send_due_messages")

    assert esp.times_mailed("cleo@example.com") == 0, "the buyer got a cart reminder"
    assert esp.times_mailed("dan@example.com") == 1
    reminder = Message.objects.get(customer=customer)
    assert reminder.status == MessageStatus.SKIPPED
    assert reminder.error == "exited before sending (goal: order_placed)"
    assert Enrollment.objects.get(customer=customer).status == EnrollmentStatus.EXITED


def test_a_reminder_of_an_enrollment_that_exited_meanwhile_is_skipped_when_claimed(esp, cart_journey):
    """The race of the issue: the tick inserts the reminder while an order's exit commits, so the
    exit (which skips queued mail) never saw the row. The sender must not send it."""
    now = timezone.now()
    customer = Customer.objects.create(email="eve@example.com", consent=Consent.GRANTED)
    customer.activities.create(type="cart_updated", occurred_at=now - timedelta(hours=2), properties={})
    beat("journeys.tick")
    message = Message.objects.get(customer=customer, status=MessageStatus.QUEUED)
    Enrollment.objects.filter(pk=message.enrollment_id).update(
        status=EnrollmentStatus.EXITED, exit_reason="goal: order_placed", ended_at=now
    )

    beat("campaigns.send_due_messages")

    assert esp.stats()["accepted"] == 0
    message.refresh_from_db()
    assert message.status == MessageStatus.SKIPPED
    assert message.error == "exited before sending (goal: order_placed)"
