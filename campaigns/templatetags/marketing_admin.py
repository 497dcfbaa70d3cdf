"""Display filters for the marketing admin pages: one number format, one percentage format, money with currency."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings

from campaigns.selectors.campaign_page import duration_words
from campaigns.selectors.campaign_progress import eta_words, when_words

register = template.Library()

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


@register.filter
def pct(value: float | None, decimals: int = 1) -> str:
    """0.0123 -> '1.2%'; None -> '—'. Deliverability rates pass 2 decimals (their limits are tenths of a percent)."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:,.{int(decimals)}f}%"


@register.filter
def num(value: int | float | None) -> str:
    """1234 -> '1,234'; None -> '0'."""
    if value is None or value == "":
        return "0"
    return f"{value:,}" if isinstance(value, int) else f"{float(value):,.2f}"


@register.filter
def money(value: Decimal | float | int | None, currency: str = "") -> str:
    """1234.5 -> '€1,234.50' in the shop currency (SHOP_CURRENCY) or the one given; None -> '—'."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    code = (currency or settings.SHOP_CURRENCY).upper()
    sign = "−" if amount < 0 else ""
    text = f"{abs(amount):,.2f}"
    return f"{sign}{SYMBOLS[code]}{text}" if code in SYMBOLS else f"{sign}{text} {code}"


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
