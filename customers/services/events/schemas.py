"""Shapes of the events the shop sends, validated one event at a time."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from customers.models import Tier, normalise_email

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]
Url = Annotated[HttpUrl, Field(max_length=500)]
Text = Annotated[str, Field(max_length=255)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _aware(value: datetime | None) -> datetime | None:
    """Times without an offset are taken as UTC."""
    if value is None:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59-05:00 has no UTC instant a datetime can hold
        raise ValueError("is outside the supported date range") from None


class CustomerIn(_Strict):
    """Who the event is about: matched by external_id, else by email; created when new."""

    email: str | None = Field(default=None, max_length=254)
    external_id: str | None = Field(default=None, min_length=1, max_length=128)
    first_name: str | None = Field(default=None, max_length=150)
    last_name: str | None = Field(default=None, max_length=150)
    timezone: str | None = Field(default=None, max_length=64, description="IANA name, e.g. Europe/Berlin")
    locale: str | None = Field(default=None, max_length=16, description="e.g. de-DE")
    email_consent: bool | None = Field(default=None, description="true = consent granted, false = denied")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = normalise_email(value)
        try:
            validate_email(value)
        except DjangoValidationError as exc:
            raise ValueError("not a valid email address") from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError("not a known IANA time zone") from exc
        return value

    @model_validator(mode="after")
    def _identified(self) -> CustomerIn:
        if not self.email and not self.external_id:
            raise ValueError("email or external_id is required")
        return self


class _EventBase(_Strict):
    id: str = Field(min_length=1, max_length=128, description="Client event id: a retry with the same id is ignored")
    occurred_at: datetime | None = Field(default=None, description="ISO 8601; default: time of receipt")
    customer: CustomerIn

    @field_validator("occurred_at")
    @classmethod
    def _occurred_at(cls, value: datetime | None) -> datetime | None:
        return _aware(value)


class CustomerUpserted(_EventBase):
    type: Literal["customer_upserted"]


class OrderItemIn(_Strict):
    sku: str = Field(min_length=1, max_length=128)
    product_name: Text | None = None
    category: str | None = Field(default=None, max_length=128)
    quantity: int = Field(default=1, ge=1, le=100_000)
    unit_price: Money = Decimal("0")


class OrderPlaced(_EventBase):
    type: Literal["order_placed"]
    order_id: str = Field(min_length=1, max_length=128, description="The shop's order id; re-sending updates the order")
    placed_at: datetime | None = Field(default=None, description="Default: occurred_at")
    total: Money | None = Field(default=None, description="Default: sum of the item lines")
    currency: Currency = "EUR"
    items: list[OrderItemIn] = Field(default_factory=list, max_length=500)

    @field_validator("placed_at")
    @classmethod
    def _placed_at(cls, value: datetime | None) -> datetime | None:
        return _aware(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _lines(self) -> OrderPlaced:
        skus = [item.sku for item in self.items]
        if len(skus) != len(set(skus)):
            raise ValueError("items: each sku may appear only once per order")
        if self.total is None and not self.items:
            raise ValueError("total or items is required")
        return self


class CartItemIn(_Strict):
    sku: str = Field(min_length=1, max_length=128)
    product_name: Text | None = None
    category: str | None = Field(default=None, max_length=128)
    quantity: int = Field(default=1, ge=1, le=100_000)
    unit_price: Money | None = None
    url: Url | None = None
    image_url: Url | None = None


class _CartEvent(_EventBase):
    items: list[CartItemIn] = Field(default_factory=list, max_length=500)
    cart_value: Money | None = Field(default=None, description="Default: sum of the item lines")
    currency: Currency = "EUR"
    cart_url: Url | None = Field(default=None, description="Link that restores the cart")
    properties: dict[str, Any] = Field(default_factory=dict, description="Free-form extras kept on the activity")


class CartUpdated(_CartEvent):
    type: Literal["cart_updated"]


class CheckoutStarted(_CartEvent):
    type: Literal["checkout_started"]


class ProductViewed(_EventBase):
    type: Literal["product_viewed"]
    sku: str = Field(min_length=1, max_length=128)
    name: Text | None = None
    category: str | None = Field(default=None, max_length=128)
    price: Money | None = None
    currency: Currency | None = None
    url: Url | None = None
    image_url: Url | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


class _TrialEvent(_EventBase):
    plan: str | None = Field(default=None, max_length=128, description="The shop's plan name or sku")
    tier: Tier = Tier.PREMIUM
    properties: dict[str, Any] = Field(default_factory=dict)


class TrialStarted(_TrialEvent):
    type: Literal["trial_started"]
    ends_at: datetime | None = Field(default=None, description="When the trial ends")

    @field_validator("ends_at")
    @classmethod
    def _ends_at(cls, value: datetime | None) -> datetime | None:
        return _aware(value)


class TrialConverted(_TrialEvent):
    type: Literal["trial_converted"]


EVENT_MODELS: dict[str, type[_EventBase]] = {
    "customer_upserted": CustomerUpserted,
    "order_placed": OrderPlaced,
    "cart_updated": CartUpdated,
    "checkout_started": CheckoutStarted,
    "product_viewed": ProductViewed,
    "trial_started": TrialStarted,
    "trial_converted": TrialConverted,
}

AnyEvent = Annotated[
    CustomerUpserted | OrderPlaced | CartUpdated | CheckoutStarted | ProductViewed | TrialStarted | TrialConverted,
    Field(discriminator="type"),
]


class EventBatch(BaseModel):
    """Documentation shape of the request body (each event is validated on its own)."""

    events: list[AnyEvent] = Field(description="Up to API_MAX_BATCH (default 1000) events")
