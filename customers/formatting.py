"""One way to show numbers in the admin: money with its currency, shares as percentages, counts grouped.

Money is formatted by Babel from the currency's own rules (symbol, decimals: €1,234.50, ¥1,235).
Amounts without a currency of their own (a customer's spend, CLV, predictions) are in SHOP_CURRENCY.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from django.conf import settings

LOCALE = "en"
EMPTY = "—"


def money(amount: Decimal | float | int | None, currency: str | None = None) -> str:
    """1234.5, "EUR" -> "€1,234.50"; without a currency, the shop's."""
    if amount is None or amount == "":
        return EMPTY
    return format_currency(amount, (currency or settings.SHOP_CURRENCY).upper(), locale=LOCALE)


def percent(ratio: float | None, decimals: int = 1) -> str:
    """0.1234 -> "12.3%" (a share between 0 and 1)."""
    if ratio is None or ratio == "":
        return EMPTY
    return f"{float(ratio) * 100:.{int(decimals)}f}%"


def number(value: float | int | Decimal | None, decimals: int = 0) -> str:
    """12345.678 -> "12,345.68" with decimals=2; counts get thousands separators."""
    if value is None or value == "":
        return EMPTY
    pattern = "#,##0" + ("." + "0" * int(decimals) if int(decimals) > 0 else "")
    return format_decimal(value, format=pattern, locale=LOCALE)
