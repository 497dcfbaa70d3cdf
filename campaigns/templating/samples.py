"""Sample recipient and per-message data for previews and test sends."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from customers.models import Customer

SAMPLE_OFFER = {"code": "SAMPLE10", "description": "10% off your next order", "percent_off": 10}
SAMPLE_CART = {
    "items": [
        {"name": "Sample product", "quantity": 1, "unit_price": "24.00", "url": "", "image_url": ""},
        {"name": "Another sample", "quantity": 2, "unit_price": "9.50", "url": "", "image_url": ""},
    ],
    "value": "43.00",
    "currency": "EUR",
    "url": "",
}


def sample_extra() -> dict:
    """Per-message data a campaign would pass (offer, cart), filled with samples for previews."""
    return {"offer": dict(SAMPLE_OFFER), "cart": {**SAMPLE_CART, "items": [dict(i) for i in SAMPLE_CART["items"]]}}


def sample_customer(user: AbstractBaseUser | None = None) -> Customer:
    """An unsaved stand-in recipient for previews when no customer is chosen (runs no queries)."""
    first_name = getattr(user, "first_name", "") or "Alex"
    return Customer(first_name=first_name, last_name="Sample", email=getattr(user, "email", "") or "")
