"""The one shape of a cart, from the event API's fields to the `cart` template variable.

A `cart_updated` / `checkout_started` event carries `items`, `cart_value`, `currency` and
`cart_url`; the Activity stores them under exactly those keys (`cart_properties`), and mails
read them back through `cart_for_template`, which exposes `cart.items`, `cart.value`,
`cart.currency` and `cart.url`. The API, the demo data and the mail context all go through
these two functions, so a field cannot be written under one name and read under another.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ITEMS = "items"
ITEM_COUNT = "item_count"
CART_VALUE = "cart_value"
CURRENCY = "currency"
CART_URL = "cart_url"

EMPTY_CART: dict[str, Any] = {"items": [], "value": None, "currency": "", "url": ""}


def _money(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def cart_line(
    *,
    sku: str,
    product_id: int | None,
    name: str,
    category: str,
    quantity: int,
    unit_price: Decimal | str | None,
    url: str,
    image_url: str,
) -> dict[str, Any]:
    """One stored cart line (money as a string keeps its exact value in the JSON column)."""
    return {
        "sku": sku,
        "product_id": product_id,
        "name": name,
        "category": category,
        "quantity": quantity,
        "unit_price": _money(unit_price),
        "url": url or "",
        "image_url": image_url or "",
    }


def cart_properties(
    *, items: list[dict[str, Any]], value: Decimal | str | None, currency: str, url: str, extra: dict | None = None
) -> dict[str, Any]:
    """Activity.properties of a cart event; `extra` (the event's free-form properties) never overrides."""
    return {
        **(extra or {}),
        ITEMS: items,
        ITEM_COUNT: sum(int(item.get("quantity") or 0) for item in items),
        CART_VALUE: _money(value),
        CURRENCY: currency,
        CART_URL: url or "",
    }


def cart_for_template(properties: dict[str, Any] | None) -> dict[str, Any]:
    """The `cart` template variable from a stored cart activity."""
    props = properties if isinstance(properties, dict) else {}
    items = [
        {
            "sku": str(item.get("sku", "")),
            "name": str(item.get("name") or item.get("sku", "")),
            "quantity": item.get("quantity", 1),
            "unit_price": _money(item.get("unit_price")),
            "url": item.get("url") or "",
            "image_url": item.get("image_url") or "",
        }
        for item in props.get(ITEMS) or []
        if isinstance(item, dict)
    ]
    return {
        "items": items,
        "value": _money(props.get(CART_VALUE)),
        "currency": str(props.get(CURRENCY) or ""),
        "url": str(props.get(CART_URL) or ""),
    }
