"""The customer's own rows on their timeline: orders, on-site activity and subscription changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from customers.formatting import money, number
from customers.labels import consent_change_words, consent_source_label
from customers.models import Activity, ActivityType, ConsentChange, Order, OrderItem
from customers.timeline import TimelineEntry, TimelineLink, reference_of, register_timeline_source

_ITEMS_NAMED = 3


def _upto(queryset: QuerySet, field: str, until: datetime | None, limit: int) -> QuerySet:
    if until is not None:
        queryset = queryset.filter(**{f"{field}__lte": until})
    return queryset.order_by(f"-{field}", "-pk")[:limit]


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_ITEMS_NAMED])
    return shown + (f" and {len(names) - _ITEMS_NAMED} more" if len(names) > _ITEMS_NAMED else "")


def order_entries(customer_id: int, until: datetime | None, limit: int) -> Iterator[TimelineEntry]:
    items = Prefetch("items", queryset=OrderItem.objects.order_by("pk").only("order_id", "sku", "product_name"))
    orders = _upto(Order.objects.filter(customer_id=customer_id), "placed_at", until, limit).prefetch_related(items)
    for order in orders:
        lines = [item.product_name or item.sku for item in order.items.all()]
        detail = money(order.total, order.currency)
        if lines:
            detail += f" · {number(len(lines))} item{'s' if len(lines) != 1 else ''}: {_names(lines)}"
        url = reverse("admin:customers_order_change", args=[order.pk])
        yield TimelineEntry(
            when=order.placed_at,
            kind="order",
            title=f"Placed order {order.external_id}",
            detail=detail,
            links=(TimelineLink(f"Order {order.external_id}", url),),
            key=order.pk,
        )


def _activity_detail(activity: Activity) -> str:
    props = activity.properties or {}
    items = props.get("items") or []
    parts = []
    if activity.product is None and items:  # a single product is the entry's link
        parts.append(_names([str(i.get("name") or i.get("sku") or "") for i in items if isinstance(i, dict)]))
    if props.get("cart_value") not in (None, ""):
        parts.append(f"cart {money(props['cart_value'], props.get('currency') or None)}")
    if props.get("plan"):
        parts.append(f"plan {props['plan']}")
    return " · ".join(part for part in parts if part)


def activity_entries(customer_id: int, until: datetime | None, limit: int) -> Iterator[TimelineEntry]:
    activities = _upto(Activity.objects.filter(customer_id=customer_id), "occurred_at", until, limit)
    labels = dict(ActivityType.choices)
    for activity in activities.select_related("product"):
        links = ()
        if activity.product is not None:
            url = reverse("admin:customers_product_change", args=[activity.product_id])
            links = (TimelineLink(activity.product.name, url),)
        yield TimelineEntry(
            when=activity.occurred_at,
            kind="activity",
            title=labels.get(activity.type, activity.type.replace("_", " ").capitalize()),
            detail=_activity_detail(activity),
            links=links,
            key=activity.pk,
        )


def consent_entries(customer_id: int, until: datetime | None, limit: int) -> Iterator[TimelineEntry]:
    for change in _upto(ConsentChange.objects.filter(customer_id=customer_id), "created_at", until, limit):
        title = consent_change_words(field=change.field, old=change.old_value, new=change.new_value)
        reference = reference_of(change.detail)
        parts = [consent_source_label(change.source)]
        if change.actor:
            parts.append(f"by {change.actor}")
        if change.detail and reference is None:
            parts.append(change.detail)
        yield TimelineEntry(
            when=change.created_at,
            kind="consent",
            title=title,
            detail=" · ".join(parts),
            references=(reference,) if reference else (),
            key=change.pk,
        )


def register() -> None:
    register_timeline_source("customers.orders", order_entries)
    register_timeline_source("customers.activity", activity_entries)
    register_timeline_source("customers.consent", consent_entries)
