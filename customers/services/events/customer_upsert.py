"""Create or update the customer an event is about."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from customers.models import Consent, Customer
from customers.services.consent import consent_apply
from customers.services.events.errors import EventRejected
from customers.services.events.schemas import CustomerIn

_PROFILE_FIELDS = ("first_name", "last_name", "timezone", "locale")


def _find(data: CustomerIn) -> Customer | None:
    """Match by external_id first, else by normalised email."""
    if data.external_id:
        customer = Customer.objects.filter(external_id=data.external_id).first()
        if customer is not None:
            return customer
    if data.email:
        customer = Customer.objects.filter(email=data.email).first()
        if customer is not None and data.external_id and customer.external_id not in (None, data.external_id):
            raise EventRejected("customer.external_id", "this email belongs to a customer with another external_id")
        return customer
    return None


def _apply_profile(customer: Customer, data: CustomerIn) -> list[str]:
    """Copy the fields the event carries onto the customer; returns the changed field names."""
    changed = []
    for field in _PROFILE_FIELDS:
        value = getattr(data, field)
        if value is not None and getattr(customer, field) != value:
            setattr(customer, field, value)
            changed.append(field)
    if data.external_id and customer.external_id != data.external_id:
        customer.external_id = data.external_id
        changed.append("external_id")
    if data.email and customer.email != data.email:
        if customer.pk and Customer.objects.filter(email=data.email).exclude(pk=customer.pk).exists():
            raise EventRejected("customer.email", "this email belongs to another customer")
        customer.email = data.email
        changed.append("email")
    return changed


def _record_consent(customer: Customer, *, granted: bool, occurred_at: datetime, actor: str, detail: str) -> list[str]:
    """Apply a consent change unless a newer one is already stored (events may arrive out of order)."""
    if customer.consent_at is not None and customer.consent_at > occurred_at:
        return []
    new = Consent.GRANTED if granted else Consent.DENIED
    change = consent_apply(customer=customer, consent=new, source="api", actor=actor, detail=detail, at=occurred_at)
    if change is None:
        return []
    change.save()
    return ["consent", "consent_source", "consent_at"]


def customer_upsert(*, data: CustomerIn, occurred_at: datetime, actor: str = "", detail: str = "") -> Customer:
    """Find the customer (external_id, else email) and update it, or create it when new.

    A consent given in the event is stored with its proof (a ConsentChange with source "api"
    and the API key name as actor).
    """
    customer = _find(data)
    if customer is None:
        if not data.email:
            raise EventRejected("customer.email", "unknown external_id: an email is needed to create the customer")
        customer = Customer(created_at=occurred_at)
        _apply_profile(customer, data)
        try:
            with transaction.atomic():
                customer.save()
        except IntegrityError:
            # Created concurrently by another request: update that row instead.
            customer = _find(data)
            if customer is None:
                raise EventRejected("customer", "conflicts with an existing customer") from None
    changed = _apply_profile(customer, data)
    if data.email_consent is not None:
        changed += _record_consent(
            customer, granted=data.email_consent, occurred_at=occurred_at, actor=actor, detail=detail
        )
    if changed:
        try:
            with transaction.atomic():
                customer.save(update_fields=[*changed, "updated_at"])
        except IntegrityError:
            raise EventRejected("customer", "email or external_id belongs to another customer") from None
    return customer
