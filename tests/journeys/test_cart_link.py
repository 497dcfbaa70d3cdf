"""The cart a shop sends through the event API is the cart the reminder mail links to.

API event (cart_url, cart_value) → journey tick → send → the mail in the fake ESP inbox →
its button, through the click-tracking redirect, lands on that cart URL. The demo shop's
carts take the same path.
"""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.journeys.services.recipes import campaign_create_from_recipe
from campaigns.journeys.services.tick import journeys_tick
from campaigns.models import Campaign, CampaignStatus
from campaigns.services.sending import messages_send_due
from customers.models import Activity, Customer
from customers.services.events.api_keys import api_key_create

pytestmark = pytest.mark.django_db
CART_URL = "https://shop.example/cart/restore/8f2c"


@pytest.fixture
def esp(journey_esp):
    return journey_esp


def button_href(html: str, label: str) -> str:
    """The href of the MJML button (an <a>) whose text is `label`."""
    for match in re.finditer(r"<a\b[^>]*\bhref=\"([^\"]+)\"[^>]*>(.*?)</a>", html, flags=re.S):
        if re.sub(r"<[^>]+>|\s+", " ", match.group(2)).strip() == label:
            return unescape(match.group(1))
    raise AssertionError(f"no link labelled {label!r} in the mail")


def follow_click(client, href: str) -> str:
    """Where the click-tracking redirect sends the recipient."""
    parts = urlsplit(href)
    assert parts.path.startswith("/c/"), f"{href} is not a tracked link"
    response = client.get(parts.path)
    assert response.status_code == 302, response.status_code
    return response["Location"]


def activate_abandoned_cart() -> None:
    campaigns = campaign_create_from_recipe(recipe="abandoned_cart", user=None)
    Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).update(status=CampaignStatus.ACTIVE, holdout_percent=0)


def test_cart_event_from_the_api_links_return_to_my_cart_to_the_shops_cart_url(client, esp):
    activate_abandoned_cart()
    _key, secret = api_key_create(name="Shop")
    left_at = (timezone.now() - timedelta(hours=2)).isoformat()
    events = [
        {
            "id": "evt-cart-1",
            "type": "cart_updated",
            "occurred_at": left_at,
            "customer": {"email": "ada@example.com", "first_name": "Ada", "email_consent": True},
            "items": [
                {
                    "sku": "BREW-03",
                    "product_name": "Burr Grinder",
                    "quantity": 1,
                    "unit_price": "89.00",
                    "image_url": "https://shop.example/images/burr-grinder.jpg",
                }
            ],
            "cart_value": "89.00",
            "currency": "EUR",
            "cart_url": CART_URL,
        }
    ]
    response = client.post(
        "/api/v1/events",
        data=json.dumps({"events": events}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 200 and response.json()["accepted"] == 1, response.content

    journeys_tick()
    messages_send_due(budget_seconds=10)

    [mail] = esp.messages()
    assert mail["To"] == "ada@example.com"
    assert "Burr Grinder" in mail["HtmlBody"]
    href = button_href(mail["HtmlBody"], "Return to my cart")
    assert follow_click(client, href) == CART_URL


def test_a_customers_reminder_shows_the_cart_value_and_completes_the_order_at_the_cart_url(client, esp):
    activate_abandoned_cart()
    _key, secret = api_key_create(name="Shop")
    left_at = (timezone.now() - timedelta(hours=2)).isoformat()
    events = [
        {
            "id": "evt-order-1",
            "type": "order_placed",
            "occurred_at": (timezone.now() - timedelta(days=30)).isoformat(),
            "customer": {"email": "bob@example.com", "email_consent": True},
            "order_id": "SO-1",
            "total": "20.00",
        },
        {
            "id": "evt-cart-2",
            "type": "checkout_started",
            "occurred_at": left_at,
            "customer": {"email": "bob@example.com"},
            "items": [{"sku": "MUG-1", "product_name": "Stoneware Mug", "quantity": 2, "unit_price": "7.50"}],
            "cart_value": "15.00",
            "cart_url": CART_URL + "?step=checkout",
        },
    ]
    response = client.post(
        "/api/v1/events",
        data=json.dumps({"events": events}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.json()["accepted"] == 2, response.content

    journeys_tick()
    messages_send_due(budget_seconds=10)

    [mail] = esp.messages()
    assert "Total: 15.00 EUR" in mail["HtmlBody"]
    href = button_href(mail["HtmlBody"], "Complete my order")
    assert follow_click(client, href) == CART_URL + "?step=checkout"


def test_demo_shop_cart_reminders_link_to_each_customers_own_cart(client, esp):
    call_command("seed_demo", "--customers", "150", "--seed", "3", stdout=io.StringIO())
    activate_abandoned_cart()
    Customer.objects.update(timezone="UTC")  # quiet hours do not hold any reminder back

    journeys_tick()
    messages_send_due(budget_seconds=20)

    labels = ("Return to my cart", "Complete my order")
    reminders = [m for m in esp.messages() if any(label in m["HtmlBody"] for label in labels)]
    assert reminders, "the demo shop has carts left behind"
    for mail in reminders:
        customer = Customer.objects.get(email=mail["To"])
        cart = Activity.objects.filter(customer=customer, type__in=["cart_updated", "checkout_started"]).latest(
            "occurred_at", "id"
        )
        label = next(label for label in labels if label in mail["HtmlBody"])
        target = follow_click(client, button_href(mail["HtmlBody"], label))
        assert target == cart.properties["cart_url"]
        assert target.startswith("https://shop.example/cart/restore/")
