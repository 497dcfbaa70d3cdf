"""The personalisation context an email template sees.

Values that need the database (last order, products bought, recommendations) are zero-argument
callables: Django's template engine calls them only when a template actually uses the variable,
and each is computed at most once per recipient. Anything passed in `extra` (for example data
the sender loaded for a whole batch) wins over the lazy default, so no query runs at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from cachetools import TTLCache, cached
from django.conf import settings
from django.db.models import Count

from customers.carts import EMPTY_CART
from customers.models import Customer, Order, OrderItem, Product

RECOMMENDATION_COUNT = 3
# Best sellers are the same for everyone: kept in-process for a few minutes. The clock is looked
# up on each read (not bound at import), so a test can stand the process just after boot.
_popular_cache: TTLCache = TTLCache(maxsize=1, ttl=600, timer=lambda: time.monotonic())


@dataclass(frozen=True)
class CustomerView:
    """What a template may read about the recipient (no ORM access from templates)."""

    first_name: str
    last_name: str
    full_name: str
    email: str
    locale: str
    tier: str
    lifecycle_stage: str
    orders_count: int
    total_spent: Decimal
    average_order_value: Decimal | None
    first_order_at: datetime | None
    last_order_at: datetime | None
    is_lead: bool


CUSTOMER_ATTRIBUTES = frozenset(CustomerView.__dataclass_fields__)
SHOP_ATTRIBUTES = frozenset({"name", "url", "postal_address"})
CART_ATTRIBUTES = frozenset(EMPTY_CART)
MESSAGE_ATTRIBUTES = frozenset({"id", "is_preview"})


def customer_view(customer: Customer) -> CustomerView:
    return CustomerView(
        first_name=customer.first_name,
        last_name=customer.last_name,
        full_name=customer.full_name,
        email=customer.email,
        locale=customer.locale,
        tier=customer.tier,
        lifecycle_stage=customer.lifecycle_stage,
        orders_count=customer.orders_count,
        total_spent=customer.total_spent,
        average_order_value=customer.average_order_value,
        first_order_at=customer.first_order_at,
        last_order_at=customer.last_order_at,
        is_lead=customer.is_lead,
    )


def product_dict(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "name": product.name,
        "category": product.category,
        "price": product.price,
        "currency": product.currency,
        "url": product.url,
        "image_url": product.image_url,
    }


def order_item_dict(item: OrderItem) -> dict[str, Any]:
    product = item.product
    return {
        "sku": item.sku or (product.sku if product else ""),
        "name": item.product_name or (product.name if product else item.sku),
        "category": item.category or (product.category if product else ""),
        "quantity": item.quantity,
        "unit_price": item.unit_price,
        "line_total": item.line_total,
        "url": product.url if product else "",
        "image_url": product.image_url if product else "",
    }


def last_order_load(customer_id: int) -> dict[str, Any] | None:
    order = Order.objects.filter(customer_id=customer_id).order_by("-placed_at", "-id").first()
    if order is None:
        return None
    items = [order_item_dict(item) for item in order.items.select_related("product").order_by("id")]
    return {
        "external_id": order.external_id,
        "placed_at": order.placed_at,
        "total": order.total,
        "currency": order.currency,
        "items": items,
    }


def products_bought_load(customer_id: int) -> list[dict[str, Any]]:
    """Distinct products the customer ordered, most recent first."""
    rows = (
        OrderItem.objects.filter(order__customer_id=customer_id)
        .select_related("product")
        .order_by("-order__placed_at", "-id")
    )
    seen: set[str] = set()
    products = []
    for item in rows:
        data = order_item_dict(item)
        if data["sku"] in seen:
            continue
        seen.add(data["sku"])
        products.append(data)
    return products


@cached(_popular_cache, key=lambda: "all")
def popular_products() -> list[dict[str, Any]]:
    """Best-selling active products (same for everyone)."""
    qs = Product.objects.filter(is_active=True).annotate(sold=Count("order_items")).order_by("-sold", "name")[:20]
    return [product_dict(p) for p in qs]


def popular_products_cache_clear() -> None:
    _popular_cache.clear()


def recommended_products_load(customer_id: int, bought: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best sellers in the categories the customer buys from, then overall best sellers,
    never a product already bought."""
    bought_skus = {p["sku"] for p in bought}
    categories = {p["category"] for p in bought if p["category"]}
    picks: list[dict[str, Any]] = []
    if categories:
        qs = (
            Product.objects.filter(is_active=True, category__in=categories)
            .exclude(sku__in=bought_skus)
            .annotate(sold=Count("order_items"))
            .order_by("-sold", "name")[:RECOMMENDATION_COUNT]
        )
        picks = [product_dict(p) for p in qs]
    for product in popular_products():
        if len(picks) >= RECOMMENDATION_COUNT:
            break
        if product["sku"] not in bought_skus and all(p["sku"] != product["sku"] for p in picks):
            picks.append(product)
    return picks


def _once(load: Callable[[], Any]) -> Callable[[], Any]:
    """A zero-argument callable that runs `load` on first use only."""
    box: list[Any] = []

    def get() -> Any:
        if not box:
            box.append(load())
        return box[0]

    return get


def shop_context() -> dict[str, str]:
    return {"name": settings.SHOP_NAME, "url": settings.SHOP_URL, "postal_address": settings.SENDER_POSTAL_ADDRESS}


def recipient_context(
    *, customer: Customer, unsubscribe_url: str, message_id: int | None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The context for one recipient; see campaigns.templating.variables for the documented names."""
    extra = extra or {}
    view = customer_view(customer)
    customer_id = customer.pk
    has_orders = customer.orders_count > 0 or customer.last_order_at is not None

    products_bought = _once(lambda: products_bought_load(customer_id) if has_orders else [])
    if "products_bought" in extra:
        products_bought = _once(lambda: extra["products_bought"])
    context: dict[str, Any] = {
        "customer": view,
        "first_name": view.first_name,
        "last_order": _once(lambda: last_order_load(customer_id) if has_orders else None),
        "products_bought": products_bought,
        "recommended_products": _once(lambda: recommended_products_load(customer_id, products_bought())),
        "offer": {},
        "cart": dict(EMPTY_CART),
        "unsubscribe_url": unsubscribe_url,
        "shop": shop_context(),
        "message": {"id": message_id, "is_preview": message_id is None},
    }
    context.update(extra)
    return context
