"""Read-side queries over customers."""

from __future__ import annotations

from django.db.models import QuerySet

from customers.models import Consent, Customer, EmailStatus, SuppressedAddress


def customers_mailable(queryset: QuerySet[Customer] | None = None) -> QuerySet[Customer]:
    """Customers who may receive marketing mail right now (status, consent, suppression list).

    The suppression list is keyed by email hash and is consulted by the sending engine at
    claim time through `customer_mailable_ids`, since hashing happens in Python.
    """
    qs = queryset if queryset is not None else Customer.objects.all()
    return qs.filter(email_status=EmailStatus.SUBSCRIBED).exclude(consent=Consent.DENIED)


def customer_mailable_ids(*, customer_ids: list[int]) -> set[int]:
    """Of these customers, the ids that may be mailed now: one query for status and consent,
    one for the hashed suppression list."""
    from customers.services.suppression import email_hash

    rows = list(customers_mailable(Customer.objects.filter(pk__in=customer_ids)).values_list("pk", "email"))
    if not rows:
        return set()
    hashes = {email_hash(email): pk for pk, email in rows}
    blocked = set(SuppressedAddress.objects.filter(email_hash__in=list(hashes)).values_list("email_hash", flat=True))
    return {pk for h, pk in hashes.items() if h not in blocked}
