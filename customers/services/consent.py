"""Consent bookkeeping shared by the imports, the event API and the admin: every change leaves a ConsentChange."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from customers.models import ConsentChange, Customer, EmailStatus, SuppressedAddress
from customers.services.suppression import email_hash

_STATUSES = {choice.value for choice in EmailStatus}


def consent_apply(
    *,
    customer: Customer,
    consent: str,
    source: str,
    actor: str,
    detail: str = "",
    is_new: bool = False,
    at: datetime | None = None,
) -> ConsentChange | None:
    """Set consent on an (unsaved or saved) customer; return the unsaved proof row, or None if unchanged.

    `at`: when the customer gave or withdrew it (default now).
    """
    old = "" if is_new else customer.consent
    if not is_new and old == consent:
        return None
    now = at or timezone.now()
    customer.consent = consent
    customer.consent_source = source[:64]
    customer.consent_at = now
    return ConsentChange(
        customer=customer,
        field="consent",
        old_value=old,
        new_value=consent,
        source=source[:64],
        actor=actor[:150],
        detail=detail[:255],
        created_at=now,
    )


@transaction.atomic
def customer_set_consent(*, customer: Customer, consent: str, source: str, actor: str, detail: str = "") -> bool:
    """Change one customer's consent with proof. Returns False if nothing changed."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    change = consent_apply(customer=locked, consent=consent, source=source, actor=actor, detail=detail)
    if change is None:
        return False
    locked.save(update_fields=["consent", "consent_source", "consent_at", "updated_at"])
    change.save()
    customer.consent, customer.consent_source, customer.consent_at = (
        locked.consent,
        locked.consent_source,
        locked.consent_at,
    )
    return True


def suppressed_statuses(emails: Iterable[str]) -> dict[str, str]:
    """For addresses on the suppression list, the email status a new customer must start with.

    An address that was unsubscribed, bounced or erased stays unmailable when it comes back
    through an import.
    """
    by_hash = {email_hash(address): address for address in emails}
    if not by_hash:
        return {}
    rows = SuppressedAddress.objects.filter(email_hash__in=list(by_hash)).values_list("email_hash", "reason")
    return {
        by_hash[digest]: reason if reason in _STATUSES else EmailStatus.UNSUBSCRIBED.value for digest, reason in rows
    }


def new_customers_apply_suppression(*, customers: list[Customer], source: str, actor: str) -> list[ConsentChange]:
    """Mark new (unsaved) customers whose address is suppressed; return unsaved proof rows."""
    statuses = suppressed_statuses(c.email for c in customers)
    changes = []
    now = timezone.now()
    for customer in customers:
        status = statuses.get(customer.email)
        if status is None or status == customer.email_status:
            continue
        changes.append(
            ConsentChange(
                customer=customer,
                field="email_status",
                old_value="",
                new_value=status,
                source=source[:64],
                actor=actor[:150],
                detail="address is on the suppression list",
                created_at=now,
            )
        )
        customer.email_status = status
    return changes
