"""Read-side queries over customers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.db.models import QuerySet

from customers.models import Consent, Customer, EmailStatus, ImportJob, SuppressedAddress


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


def import_job_progress(*, job: ImportJob) -> dict:
    """What the import page's progress bar shows, as JSON primitives."""
    return {
        "status": job.status,
        "status_label": job.get_status_display(),
        "finished": job.is_finished,
        "percent": job.percent,
        "rows_done": job.rows_done,
        "rows_expected": job.rows_expected,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "failed": job.failed,
        "error": job.error,
    }


def import_failures_csv_lines(*, job: ImportJob) -> Iterator[str]:
    """The failed-rows report of an import as CSV lines: line, reason and the row as it stood in the file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["line", "error", "row"])
    rows = job.failures.order_by("line", "pk").values_list("line", "reason", "row")
    for line, reason, row in rows.iterator(chunk_size=2000):
        writer.writerow([line, reason, row.rstrip("\r\n")])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
