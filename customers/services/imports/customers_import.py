"""Import customers from CSV: match by external_id, else by normalised email; update, never duplicate.

Columns: external_id, email (required), first_name, last_name, created_at, timezone, locale,
email_consent. A blank cell leaves the stored value as it is; a new customer gets the defaults.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from django.db.models import Q
from django.utils import timezone

from customers.models import Consent, ConsentChange, Customer
from customers.services.consent import consent_apply, new_customers_apply_suppression
from customers.services.imports import csv_rows
from customers.services.imports.runner import ChunkedImport, ChunkResult, ImportReport, RowFailure

REQUIRED = {"email"}
COLUMNS = {"external_id", "email", "first_name", "last_name", "created_at", "timezone", "locale", "email_consent"}
SOURCE = "import"

# Row attribute -> Customer field for the plain profile values.
_PROFILE = ("first_name", "last_name", "created_at", "timezone", "locale")


@dataclass(frozen=True, slots=True)
class CustomerRow:
    email: str
    external_id: str | None
    first_name: str | None
    last_name: str | None
    created_at: dt.datetime | None
    timezone: str | None
    locale: str | None
    email_consent: bool | None


def customer_row_parse(values: dict[str, str]) -> CustomerRow:
    return CustomerRow(
        email=csv_rows.email(values),
        external_id=csv_rows.text(values, "external_id", max_length=128),
        first_name=csv_rows.text(values, "first_name", max_length=150),
        last_name=csv_rows.text(values, "last_name", max_length=150),
        created_at=csv_rows.datetime_utc(values, "created_at"),
        timezone=csv_rows.timezone_name(values),
        locale=csv_rows.locale(values),
        email_consent=csv_rows.boolean(values, "email_consent"),
    )


class _CustomerChunkWriter:
    def __init__(self, *, actor: str, detail_prefix: str) -> None:
        self.actor = actor
        self.detail_prefix = detail_prefix

    def __call__(self, chunk: list[tuple[int, CustomerRow]]) -> ChunkResult:
        result = ChunkResult()
        ext_ids = {row.external_id for _, row in chunk if row.external_id}
        emails = {row.email for _, row in chunk}
        by_ext: dict[str, Customer] = {}
        by_email: dict[str, Customer] = {}
        for customer in Customer.objects.filter(Q(external_id__in=ext_ids) | Q(email__in=emails)):
            if customer.external_id:
                by_ext[customer.external_id] = customer
            by_email[customer.email] = customer

        new: list[Customer] = []
        changed: dict[int, tuple[Customer, set[str]]] = {}
        proofs: list[ConsentChange] = []
        for line, row in chunk:
            customer, reason = _match(row, by_ext, by_email)
            if reason:
                result.failures.append(RowFailure(line, reason))
                continue
            is_new = customer is None
            if customer is None:
                customer = Customer(email=row.email)
                new.append(customer)
            fields = self._apply(row, customer, by_ext, by_email, proofs, line=line, is_new=is_new)
            if is_new:
                result.counts["created"] += 1
            elif not fields:
                result.counts["unchanged"] += 1
            else:
                result.counts["updated"] += 1
                if customer.pk is not None:
                    changed.setdefault(customer.pk, (customer, set()))[1].update(fields)

        proofs += new_customers_apply_suppression(customers=new, source=SOURCE, actor=self.actor)
        Customer.objects.bulk_create(new)
        now = timezone.now()
        by_fields: dict[frozenset[str], list[Customer]] = {}
        for customer, fields in changed.values():
            customer.updated_at = now
            by_fields.setdefault(frozenset(fields | {"updated_at"}), []).append(customer)
        for fields, customers in by_fields.items():
            Customer.objects.bulk_update(customers, sorted(fields), batch_size=500)
        ConsentChange.objects.bulk_create(proofs)
        return result

    def _apply(
        self,
        row: CustomerRow,
        customer: Customer,
        by_ext: dict[str, Customer],
        by_email: dict[str, Customer],
        proofs: list[ConsentChange],
        *,
        line: int,
        is_new: bool,
    ) -> set[str]:
        """Copy given values onto the customer and keep the lookup maps current; return changed fields."""
        fields: set[str] = set()
        if customer.email != row.email:
            by_email.pop(customer.email, None)
            customer.email = row.email
            fields.add("email")
        by_email[row.email] = customer
        if row.external_id and customer.external_id != row.external_id:
            customer.external_id = row.external_id
            fields.add("external_id")
        if customer.external_id:
            by_ext[customer.external_id] = customer
        for name in _PROFILE:
            value = getattr(row, name)
            if value is not None and getattr(customer, name) != value:
                setattr(customer, name, value)
                fields.add(name)
        if row.email_consent is not None:
            wanted = Consent.GRANTED if row.email_consent else Consent.DENIED
            proof = consent_apply(
                customer=customer,
                consent=wanted,
                source=SOURCE,
                actor=self.actor,
                detail=f"{self.detail_prefix}line {line}",
                is_new=is_new,
            )
            if proof is not None:
                proofs.append(proof)
                fields |= {"consent", "consent_source", "consent_at"}
        return set() if is_new else fields


def _match(
    row: CustomerRow, by_ext: dict[str, Customer], by_email: dict[str, Customer]
) -> tuple[Customer | None, str | None]:
    """The customer this row is about (None: a new one), or a reason the row conflicts."""
    owner = by_email.get(row.email)
    if row.external_id and row.external_id in by_ext:
        customer = by_ext[row.external_id]
        if owner is not None and owner is not customer:
            return None, "email already belongs to another customer (with a different external_id)"
        return customer, None
    if owner is not None and row.external_id and owner.external_id and owner.external_id != row.external_id:
        return None, f"email already belongs to the customer with external_id {owner.external_id!r}"
    return owner, None


def customers_import(
    *,
    stream: BinaryIO,
    actor: str,
    source_name: str = "",
    chunk_size: int = 2000,
    on_failure: Callable[[RowFailure], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a customers CSV from an open binary stream (UTF-8). Raises ImportAborted for an unreadable file."""
    records = csv_rows.csv_records(stream, required=REQUIRED, known=COLUMNS)
    writer = _CustomerChunkWriter(actor=actor, detail_prefix=f"{source_name} " if source_name else "")
    job = ChunkedImport(
        parse=customer_row_parse, write=writer, chunk_size=chunk_size, on_failure=on_failure, on_rows=on_rows
    )
    return job.run(records)
