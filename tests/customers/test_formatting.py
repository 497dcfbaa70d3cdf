"""One number format: money with its currency, shares as percentages; SHOP_CURRENCY is parsed strictly."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from config.env import EnvError, env_currency
from customers.formatting import money, number, percent

ROOT = Path(__file__).resolve().parents[2]


def test_money_carries_its_currency_and_defaults_to_the_shop_currency(settings):
    settings.SHOP_CURRENCY = "USD"
    assert money(Decimal("1234.5"), "EUR") == "€1,234.50"
    assert money(Decimal("1234.5"), "gbp") == "£1,234.50"
    assert money(Decimal("1234.5"), "JPY") == "¥1,234"  # no minor unit
    assert money(Decimal("80")) == "$80.00"
    assert money(None) == "—"


def test_shares_and_counts_have_one_format():
    assert percent(0.1234) == "12.3%"
    assert percent(None) == "—"
    assert number(12345) == "12,345"
    assert number(2.346, 2) == "2.35"


@pytest.mark.parametrize("raw, expected", [("usd", "USD"), (" CHF ", "CHF"), ("", "EUR")])
def test_shop_currency_accepts_iso_codes(monkeypatch, raw, expected):
    monkeypatch.setenv("SHOP_CURRENCY", raw)
    assert env_currency("SHOP_CURRENCY", "EUR") == expected


@pytest.mark.parametrize("raw", ["EURO", "€", "XQQ", "US"])
def test_shop_currency_refuses_anything_else(monkeypatch, raw):
    monkeypatch.setenv("SHOP_CURRENCY", raw)
    with pytest.raises(EnvError, match="SHOP_CURRENCY must be an ISO 4217 currency code"):
        env_currency("SHOP_CURRENCY", "EUR")


def test_a_bad_shop_currency_stops_start_up_with_the_reason():
    env = {**os.environ, "SHOP_CURRENCY": "EURO", "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SHOP_CURRENCY must be an ISO 4217 currency code" in result.stderr
