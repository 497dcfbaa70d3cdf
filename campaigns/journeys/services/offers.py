"""Offers on steps: a unique coupon code per recipient, generated or taken from an imported pool.

A step's offer JSON::

    {"type": "percent" | "amount" | "free_shipping" | "trial",
     "value": 10,                       # percent off, amount off, or trial days
     "code_prefix": "WELCOME",          # generate codes like WELCOME-7KQ2M9XA
     "pool": "spring-2026",             # or take codes imported into this pool
     "valid_days": 14, "description": "10% off your next order", "url": "https://…"}
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from campaigns.journeys.models import CouponCode

OFFER_TYPES = {"percent", "amount", "free_shipping", "trial"}
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I look-alikes


def offer_errors(offer: object) -> list[str]:
    if offer in (None, {}):
        return []
    if not isinstance(offer, dict):
        return ["offer: expected an object"]
    errors = []
    if offer.get("type") not in OFFER_TYPES:
        errors.append(f"offer.type: one of {sorted(OFFER_TYPES)}")
    if offer.get("type") != "free_shipping" and not isinstance(offer.get("value"), int | float):
        errors.append("offer.value: a number (percent, amount or trial days)")
    if offer.get("pool") and offer.get("code_prefix"):
        errors.append("offer: give either pool or code_prefix, not both")
    return errors


def _description(offer: dict) -> str:
    if offer.get("description"):
        return offer["description"]
    kind, value = offer.get("type"), offer.get("value")
    return {
        "percent": f"{value}% off your next order",
        "amount": f"{value} off your next order",
        "free_shipping": "Free shipping on your next order",
        "trial": f"A {value}-day premium trial",
    }.get(kind, "")


def coupon_codes_generate(*, prefix: str, count: int) -> list[str]:
    prefix = (prefix or "OFFER").upper()
    return [f"{prefix}-{''.join(secrets.choice(_ALPHABET) for _ in range(8))}" for _ in range(count)]


def coupon_pool_take(*, pool: str, count: int, now: datetime) -> list[CouponCode]:
    """Reserve free pool codes; concurrent ticks skip each other's locked rows (PostgreSQL)."""
    with transaction.atomic():
        codes = list(
            CouponCode.objects.select_for_update(skip_locked=True)
            .filter(pool=pool, message__isnull=True, assigned_at__isnull=True)
            .order_by("pk")[:count]
        )
        CouponCode.objects.filter(pk__in=[c.pk for c in codes]).update(assigned_at=now)
    return codes


def offers_prepare(*, offer: dict, count: int, now: datetime) -> list[dict[str, Any] | None]:
    """Offer context for `count` recipients, each with its own code; None where the pool ran dry."""
    if not offer or count == 0:
        return [{} for _ in range(count)]
    if offer.get("pool"):
        codes = [c.code for c in coupon_pool_take(pool=offer["pool"], count=count, now=now)]
    else:
        codes = coupon_codes_generate(prefix=offer.get("code_prefix", ""), count=count)
    expires = now + timedelta(days=offer["valid_days"]) if offer.get("valid_days") else None
    base = {
        "type": offer.get("type"),
        "description": _description(offer),
        "percent_off": offer.get("value") if offer.get("type") == "percent" else None,
        "amount_off": offer.get("value") if offer.get("type") == "amount" else None,
        "trial_days": offer.get("value") if offer.get("type") == "trial" else None,
        "expires_at": expires.isoformat() if expires else None,
        "url": offer.get("url", ""),
        "pool": offer.get("pool", ""),
    }
    return [{**base, "code": code} for code in codes] + [None] * (count - len(codes))


def coupons_link(*, messages: list[tuple[int, dict]], now: datetime) -> None:
    """Record each issued code against its message (generated codes are stored here)."""
    pooled = {ctx["offer"]["code"]: pk for pk, ctx in messages if ctx.get("offer", {}).get("pool")}
    generated = [
        (pk, ctx["offer"]["code"]) for pk, ctx in messages if ctx.get("offer") and not ctx["offer"].get("pool")
    ]
    if generated:
        CouponCode.objects.bulk_create(
            [CouponCode(code=code, message_id=pk, assigned_at=now) for pk, code in generated], ignore_conflicts=True
        )
    if pooled:
        rows = list(CouponCode.objects.filter(code__in=list(pooled)))
        for row in rows:
            row.message_id = pooled[row.code]
        CouponCode.objects.bulk_update(rows, ["message"])
