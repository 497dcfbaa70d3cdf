"""Display filters for the marketing admin pages: one number format, one percentage format, money with currency."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django import template

from campaigns.selectors.campaign_page import duration_words
from campaigns.selectors.campaign_progress import eta_words, when_words
from customers import formatting

register = template.Library()


@register.filter
def pct(value: float | None, decimals: int = 1) -> str:
    """0.0123 -> '1.2%'. Deliverability rates pass 2 decimals (their limits are tenths of a percent)."""
    return formatting.percent(value, decimals)


@register.filter
def num(value: int | float | None) -> str:
    """1234 -> '1,234'; None -> '0'."""
    if value is None or value == "":
        return "0"
    return formatting.number(value, 0 if isinstance(value, int) else 2)


@register.filter
def money(value: Decimal | float | int | None, currency: str = "") -> str:
    """1234.5 -> '€1,234.50' in the shop currency (SHOP_CURRENCY) or the one given."""
    return formatting.money(value, currency or None)


@register.filter
def duration(value: timedelta | None) -> str:
    """timedelta(hours=4) -> '4 hours'."""
    return duration_words(value) if value is not None else "—"


@register.filter
def seconds_words(value: int | None) -> str:
    return eta_words(value)


@register.filter
def when(value: datetime | None) -> str:
    """'08:00' today, 'Tue 10:00' this week, '3 Dec 10:00' otherwise."""
    return when_words(value) if value is not None else "—"
