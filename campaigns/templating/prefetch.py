"""Batch loading of the customer data a template version uses, for the send path.

message_render computes last_order, products_bought and recommended_products lazily, one
customer at a time. A sender rendering a batch can instead call recipients_context_prefetch
once: it loads only what the version's templates read, for the whole batch, in a fixed
number of queries, and returns per-customer dicts to pass as (part of) `extra`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, OuterRef, Subquery

from campaigns.models import TemplateVersion
from campaigns.templating.context import (
    RECOMMENDATION_COUNT,
    order_item_dict,
    popular_products,
    product_dict,
)
from campaigns.templating.engine import parsed_version_get
from campaigns.templating.variables import template_roots
from customers.models import Customer, Order, OrderItem, Product

PREFETCHABLE = frozenset({"last_order", "products_bought", "recommended_products"})


def version_roots(version: TemplateVersion) -> frozenset[str]:
    parsed = parsed_version_get(
        version_id=version.pk,
        subject=version.subject,
        preheader=version.preheader,
        compiled_html=version.compiled_html,
    )
    roots = template_roots(parsed.html) | template_roots(parsed.subject) | template_roots(parsed.preheader)
    if parsed.text is not None:
        roots |= template_roots(parsed.text)
    return roots


def _last_orders(customer_ids: list[int]) -> dict[int, dict[str, Any]]:
    latest = Order.objects.filter(customer_id=OuterRef("customer_id")).order_by("-placed_at", "-id").values("id")[:1]
    orders = Order.objects.filter(customer_id__in=customer_ids, pk=Subquery(latest)).prefetch_related("items__product")
    return {
        order.customer_id: {
            "external_id": order.external_id,
            "placed_at": order.placed_at,
            "total": order.total,
            "currency": order.currency,
            "items": [order_item_dict(item) for item in sorted(order.items.all(), key=lambda i: i.pk)],
        }
        for order in orders
    }


def _products_bought(customer_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    rows = (
        OrderItem.objects.filter(order__customer_id__in=customer_ids)
        .select_related("product", "order")
        .order_by("order__customer_id", "-order__placed_at", "-id")
    )
    bought: dict[int, list[dict[str, Any]]] = defaultdict(list)
    seen: dict[int, set[str]] = defaultdict(set)
    for item in rows:
        data = order_item_dict(item)
        customer_id = item.order.customer_id
        if data["sku"] not in seen[customer_id]:
            seen[customer_id].add(data["sku"])
            bought[customer_id].append(data)
    return bought


def _recommendations(bought: dict[int, list[dict[str, Any]]], customer_ids: list[int]) -> dict[int, list[dict]]:
    categories = {p["category"] for products in bought.values() for p in products if p["category"]}
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rank: dict[str, int] = {}
    if categories:
        qs = (
            Product.objects.filter(is_active=True, category__in=categories)
            .annotate(sold=Count("order_items"))
            .order_by("-sold", "name")
        )
        for position, product in enumerate(qs):
            by_category[product.category].append(product_dict(product))
            rank[product.sku] = position
    popular = popular_products()
    result: dict[int, list[dict[str, Any]]] = {}
    for customer_id in customer_ids:
        products = bought.get(customer_id, [])
        owned = {p["sku"] for p in products}
        picks: list[dict[str, Any]] = []
        # Same order as the lazy path: best sellers across the customer's categories first.
        candidates = [p for c in {p["category"] for p in products} for p in by_category.get(c, [])]
        for product in [*sorted(candidates, key=lambda p: rank[p["sku"]]), *popular]:
            if len(picks) >= RECOMMENDATION_COUNT:
                break
            if product["sku"] not in owned and all(p["sku"] != product["sku"] for p in picks):
                picks.append(product)
        result[customer_id] = picks
    return result


def recipients_context_prefetch(
    *, version: TemplateVersion, customers: Sequence[Customer]
) -> dict[int, dict[str, Any]]:
    """Per customer id, the lazily computed context values this version reads, loaded in bulk."""
    roots = version_roots(version) & PREFETCHABLE
    result: dict[int, dict[str, Any]] = {c.pk: {} for c in customers}
    if not roots:
        return result
    buyers = [c.pk for c in customers if c.orders_count > 0 or c.last_order_at is not None]
    if "last_order" in roots:
        orders = _last_orders(buyers) if buyers else {}
        for customer_id, extra in result.items():
            extra["last_order"] = orders.get(customer_id)
    if roots & {"products_bought", "recommended_products"}:
        bought = _products_bought(buyers) if buyers else {}
        for customer_id, extra in result.items():
            extra["products_bought"] = bought.get(customer_id, [])
        if "recommended_products" in roots:
            for customer_id, picks in _recommendations(bought, list(result)).items():
                result[customer_id]["recommended_products"] = picks
    return result
