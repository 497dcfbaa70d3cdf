"""Template filters for the one number format of the admin (see customers.formatting)."""

from __future__ import annotations

from django import template

from customers import formatting

register = template.Library()


@register.filter
def money(amount, currency: str | None = None) -> str:
    """{{ order.total|money:order.currency }}; {{ customer.total_spent|money }} is in the shop's currency."""
    return formatting.money(amount, currency or None)


@register.filter
def pct(ratio, decimals: int = 1) -> str:
    return formatting.percent(ratio, decimals)


@register.filter
def num(value, decimals: int = 0) -> str:
    return formatting.number(value, decimals)
