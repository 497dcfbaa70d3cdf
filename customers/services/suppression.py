"""Who may be mailed: email status changes with proof, and the hashed suppression list."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone

from customers.models import ConsentChange, Customer, EmailStatus, SuppressedAddress, normalise_email

# A suppression reason per email status that blocks mail.
_SUPPRESSING = {EmailStatus.UNSUBSCRIBED, EmailStatus.BOUNCED, EmailStatus.COMPLAINED}


def email_hash(email: str) -> str:
    """SHA-256 of the normalised address: what we keep after erasure, and what ad platforms expect."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def address_is_suppressed(*, email: str) -> bool:
    return SuppressedAddress.objects.filter(email_hash=email_hash(email)).exists()


def address_suppress(*, email: str, reason: str) -> None:
    SuppressedAddress.objects.get_or_create(email_hash=email_hash(email), defaults={"reason": reason})


def address_unsuppress(*, email: str) -> None:
    SuppressedAddress.objects.filter(email_hash=email_hash(email)).delete()


@transaction.atomic
def customer_set_email_status(
    *, customer: Customer, status: str, source: str, actor: str = "", detail: str = ""
) -> bool:
    """Change a customer's email status, recording who/when/how. Returns False if nothing changed.

    Unsubscribed, bounced and complained addresses also go on the hashed suppression list,
    which is checked again when a message is claimed for sending.
    """
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    old = locked.email_status
    if old == status:
        return False
    locked.email_status = status
    locked.save(update_fields=["email_status", "updated_at"])
    customer.email_status = status
    ConsentChange.objects.create(
        customer=locked,
        field="email_status",
        old_value=old,
        new_value=status,
        source=source,
        actor=actor,
        detail=detail[:255],
        created_at=timezone.now(),
    )
    if status in _SUPPRESSING:
        address_suppress(email=locked.email, reason=status)
    elif status == EmailStatus.SUBSCRIBED:
        address_unsuppress(email=locked.email)
    return True
