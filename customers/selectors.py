"""Read-side queries over customers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, QuerySet

from customers.models import Consent, Customer, EmailStatus, ImportJob, Order, SuppressedAddress

OPT_IN, SOFT_OPT_IN = "opt_in", "soft_opt_in"
CONSENT_POLICY_WORDS = {
    OPT_IN: "opt-in only: customers who granted consent",
    SOFT_OPT_IN: "soft opt-in: customers who granted consent, and buyers whose consent is unknown",
}


def consent_policy() -> str:
    """The policy in force (settings.CONSENT_POLICY, validated at start-up)."""
    return settings.CONSENT_POLICY


def consent_policy_q(policy: str | None = None) -> Q:
    """Whose consent allows marketing mail under the policy; refused consent never does.

    Soft opt-in (as in the UK's PECR): a customer who bought from the shop (at least one
    order) and neither granted nor refused consent may be mailed. Orders are read from the
    order table, not the nightly orders_count, so a fresh buyer counts at once.
    """
    policy = policy or consent_policy()
    granted = Q(consent=Consent.GRANTED)
    if policy == OPT_IN:
        return granted
    if policy == SOFT_OPT_IN:
        bought = Exists(Order.objects.filter(customer=OuterRef("pk")))
        return granted | (Q(consent=Consent.UNKNOWN) & Q(bought))
    raise ValueError(f"unknown consent policy {policy!r}; use one of {', '.join(CONSENT_POLICY_WORDS)}")


def customers_mailable(queryset: QuerySet[Customer] | None = None, *, policy: str | None = None) -> QuerySet[Customer]:
    """Customers who may receive marketing mail right now: subscribed, and allowed by the consent policy.

    Every audience uses this one selector: one-off send planning, journey enrollment, the
    claim-time check before the ESP call, ad-audience exports and the admin's "mailable"
    counts. The suppression list is keyed by email hash and is consulted at claim time (and
    per export chunk) through `customer_mailable_ids`, since hashing happens in Python.
    """
    qs = queryset if queryset is not None else Customer.objects.all()
    return qs.filter(Q(email_status=EmailStatus.SUBSCRIBED) & consent_policy_q(policy))


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


def mailable_count(queryset: QuerySet[Customer] | None = None) -> int:
    """How many of these customers (everyone by default) the policy in force lets us mail."""
    return customers_mailable(queryset).count()


@dataclass(frozen=True)
class ConsentPolicySummary:
    policy: str
    words: str
    label: str  # short, for headings: "opt-in only" / "soft opt-in"
    mailable: int
    customers: int


def consent_policy_summary() -> ConsentPolicySummary:
    """The policy in force and how many customers it lets us mail now (cached briefly, for admin pages)."""
    policy = consent_policy()
    key = f"consent-policy-summary:{policy}"
    found = cache.get(key)
    if found is None:
        found = (mailable_count(), Customer.objects.count())
        cache.set(key, found, settings.ADMIN_DASHBOARD_CACHE_SECONDS)
    words = CONSENT_POLICY_WORDS[policy]
    return ConsentPolicySummary(
        policy=policy, words=words, label=words.split(":")[0], mailable=found[0], customers=found[1]
    )


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
