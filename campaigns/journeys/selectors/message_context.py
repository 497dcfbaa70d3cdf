"""Per-message data loaded for a page of recipients at once (a fixed number of queries per page).

The keys match the template variables: cart, recommended_products, products_bought, trial.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from cachetools import TTLCache, cached
from django.conf import settings
from django.db import connection
from django.db.models import Count, F

from campaigns.models import CampaignKind
from customers.carts import cart_for_template
from customers.models import Activity, ActivityType, Order, OrderItem, Product

RECOMMENDATIONS = 3
CART_TYPES = [ActivityType.CART_UPDATED, ActivityType.CHECKOUT_STARTED]


def _money(value: Any) -> str | None:
    return None if value is None else str(value)


def carts(customer_ids: list[int], now: datetime) -> dict[int, dict]:
    """The latest cart each customer left (from cart_updated / checkout_started properties)."""
    rows = (
        Activity.objects.filter(customer_id__in=customer_ids, type__in=CART_TYPES, occurred_at__gte=now - timedelta(7))
        .order_by("customer_id", "-occurred_at", "-id")
        .values_list("customer_id", "properties")
    )
    found: dict[int, dict] = {}
    for customer_id, props in rows:
        if customer_id not in found:
            found[customer_id] = cart_for_template(props)
    return found


def trials(customer_ids: list[int]) -> dict[int, dict]:
    """The latest trial each customer started, with its end (properties.ends_at, ISO 8601)."""
    rows = (
        Activity.objects.filter(customer_id__in=customer_ids, type=ActivityType.TRIAL_STARTED)
        .order_by("customer_id", "-occurred_at", "-id")
        .values_list("customer_id", "occurred_at", "properties")
    )
    found: dict[int, dict] = {}
    for customer_id, started_at, props in rows:
        if customer_id not in found:
            props = props or {}
            found[customer_id] = {
                "started_at": started_at.isoformat(),
                "ends_at": props.get("ends_at"),
                "plan": props.get("plan", ""),
            }
    return found


def last_order_products(customer_ids: list[int]) -> dict[int, list[dict]]:
    """What each customer bought in their latest order (for win-back reminders)."""
    rows = (
        OrderItem.objects.filter(
            order__customer_id__in=customer_ids, order__placed_at=F("order__customer__last_order_at")
        )
        .order_by("order__customer_id", "id")
        .values_list("order__customer_id", "sku", "product_name", "category", "product__url", "product__image_url")
    )
    found: dict[int, list[dict]] = defaultdict(list)
    for customer_id, sku, name, category, url, image in rows:
        found[customer_id].append(
            {"sku": sku, "name": name or sku, "category": category, "url": url or "", "image_url": image or ""}
        )
    return dict(found)


def cross_sell_recommendations(customer_ids: list[int], now: datetime) -> dict[int, list[dict]]:
    """Products from categories that buyers of the same items also bought and this customer has not.

    Three queries per page: what the customers bought; per SKU they bought recently, how many of
    its recent buyers bought from each category; the best sellers of the chosen categories.
    "Recently" (CROSS_SELL_LOOKBACK_DAYS) bounds the co-purchase join on a large order table.
    """
    since = now - timedelta(days=settings.CROSS_SELL_LOOKBACK_DAYS)
    bought = OrderItem.objects.filter(order__customer_id__in=customer_ids).values_list(
        "order__customer_id", "sku", "category", "order__placed_at"
    )
    skus_of: dict[int, set[str]] = defaultdict(set)
    cats_of: dict[int, set[str]] = defaultdict(set)
    for customer_id, sku, category, placed_at in bought:
        if placed_at >= since:
            skus_of[customer_id].add(sku)
        if category:
            cats_of[customer_id].add(category)
    all_skus = set().union(*skus_of.values()) if skus_of else set()
    if not all_skus:
        return {}
    by_sku = co_bought_by_sku(all_skus, since)
    chosen: dict[int, list[str]] = {}
    for customer_id, skus in skus_of.items():
        scores: dict[str, int] = defaultdict(int)
        for sku in skus:
            for category, buyers in by_sku.get(sku, []):
                if category not in cats_of[customer_id]:
                    scores[category] += buyers
        chosen[customer_id] = sorted(scores, key=lambda c: (-scores[c], c))[:RECOMMENDATIONS]
    best = best_sellers_by_category(since)
    result: dict[int, list[dict]] = {}
    for customer_id, cats in chosen.items():
        picks = [p for category in cats for p in best.get(category, [])[:1]]
        picks += [p for category in cats for p in best.get(category, [])[1:]]
        result[customer_id] = picks[:RECOMMENDATIONS]
    return result


# Figures that change slowly, kept in-process for a few minutes. The clock is looked up on each
# read (not bound at import), so a test can stand the process just after boot.
CACHE_TTL_SECONDS = 600
_best_cache: TTLCache = TTLCache(maxsize=1, ttl=CACHE_TTL_SECONDS, timer=lambda: time.monotonic())
_co_bought_cache: TTLCache = TTLCache(maxsize=50_000, ttl=CACHE_TTL_SECONDS, timer=lambda: time.monotonic())  # per SKU


def recommendation_caches_clear() -> None:
    """Forget the cached best sellers and co-bought figures (tests: each has its own shop)."""
    _best_cache.clear()
    _co_bought_cache.clear()


@cached(_best_cache, key=lambda since: "all")
def best_sellers_by_category(since: datetime) -> dict[str, list[dict]]:
    """Top active products per category by units in recent orders (`since` matters on a refill only)."""
    sold = (
        OrderItem.objects.filter(order__placed_at__gte=since)
        .values("sku")
        .annotate(n=Count("id"))
        .order_by("-n")[:5000]
    )
    ranking = {row["sku"]: row["n"] for row in sold}
    best: dict[str, list[dict]] = defaultdict(list)
    products = Product.objects.filter(sku__in=list(ranking), is_active=True).exclude(category="")
    for product in sorted(products, key=lambda p: (-ranking[p.sku], p.name)):
        if len(best[product.category]) < RECOMMENDATIONS:
            best[product.category].append(
                {
                    "sku": product.sku,
                    "name": product.name,
                    "category": product.category,
                    "price": _money(product.price),
                    "currency": product.currency,
                    "url": product.url,
                    "image_url": product.image_url,
                }
            )
    return dict(best)


def co_bought_by_sku(skus: set[str], since: datetime) -> dict[str, list[tuple[str, int]]]:
    """Per SKU, (category, buyers) pairs; each SKU's figures are cached on their own."""
    known = {sku: pairs for sku in skus if (pairs := _co_bought_cache.get(sku)) is not None}
    missing = sorted(skus - known.keys())
    if missing:
        fresh: dict[str, list[tuple[str, int]]] = {sku: [] for sku in missing}
        for sku, category, buyers in _co_bought_categories(missing, since):
            fresh[sku].append((category, buyers))
        _co_bought_cache.update(fresh)
        known.update(fresh)
    return known


def _co_bought_categories(skus: list[str], since: datetime) -> list[tuple[str, str, int]]:
    """(sku, category, buyers): recent buyers of each SKU who also bought from the category.

    Pairs are de-duplicated per customer before the join, so a customer with many orders adds
    one row per (SKU, category), not one per pair of order lines.
    """
    items, orders = OrderItem._meta.db_table, Order._meta.db_table
    marks = ", ".join(["%s"] * len(skus))
    sql = f"""
        WITH buyer_sku AS (
            SELECT DISTINCT o.customer_id, i.sku FROM {items} i JOIN {orders} o ON o.id = i.order_id
            WHERE o.placed_at >= %s AND i.sku IN ({marks})
        ), buyer_category AS (
            SELECT DISTINCT o.customer_id, i.category FROM {items} i JOIN {orders} o ON o.id = i.order_id
            WHERE o.placed_at >= %s AND i.category <> ''
              AND o.customer_id IN (SELECT customer_id FROM buyer_sku)
        )
        SELECT s.sku, c.category, COUNT(*) FROM buyer_sku s
        JOIN buyer_category c ON c.customer_id = s.customer_id
        GROUP BY s.sku, c.category
    """  # noqa: S608 - table names come from the models, values are parameters
    with connection.cursor() as cursor:
        stamp = connection.ops.adapt_datetimefield_value(since)
        cursor.execute(sql, [stamp, *skus, stamp])
        return cursor.fetchall()


def message_contexts(*, kind: str, customer_ids: list[int], now: datetime) -> dict[int, dict[str, Any]]:
    """Extra template context per customer for a campaign of `kind`."""
    out: dict[int, dict[str, Any]] = defaultdict(dict)
    if kind == CampaignKind.ABANDONED_CART:
        for customer_id, cart in carts(customer_ids, now).items():
            out[customer_id]["cart"] = cart
    elif kind == CampaignKind.CROSS_SELL:
        for customer_id, picks in cross_sell_recommendations(customer_ids, now).items():
            out[customer_id]["recommended_products"] = picks
    elif kind == CampaignKind.WIN_BACK:
        for customer_id, products in last_order_products(customer_ids).items():
            out[customer_id]["products_bought"] = products
    elif kind == CampaignKind.UPSELL_TRIAL:
        for customer_id, trial in trials(customer_ids).items():
            out[customer_id]["trial"] = trial
    return dict(out)
