"""Customer-list audiences for ad platforms: hashed contact lists in Meta's and Google's formats.

Only customers the consent policy in force lets us market to (customers_mailable: subscribed,
and consent granted, or under soft opt-in unknown for buyers) and who are not on the hashed
suppression list are exported. Values are normalised as each platform documents, then SHA-256 hashed
(lower-case hex); empty values stay empty rather than hashing "".

- Meta (customer list custom audience; keys EMAIL, FN, LN, COUNTRY): email trimmed and
  lower-cased; names lower-cased without punctuation or spaces (letters of any script are
  kept, UTF-8); country as a lower-case ISO 3166 two-letter code. All four hashed.
- Google Ads Customer Match (headers "Email, First Name, Last Name, Country, Zip"): email
  trimmed and lower-cased, with dots removed before @gmail.com / @googlemail.com; names
  lower-cased without whitespace. Email and names hashed; Country (two-letter code) and Zip
  are sent in clear, as Google requires.

Customers carry no postal address, so Zip stays empty and the country is taken from the
region of their locale (e.g. "de-AT" -> "at") when it has one.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from customers.models import Customer, LifecycleStage, RfmSegment, SuppressedAddress
from customers.selectors import customers_mailable
from customers.services.suppression import email_hash

_GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


class AudienceError(ValueError):
    """The audience specification names nothing we can export."""


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest() if value else ""


def normalise_email(email: str, *, platform: str) -> str:
    email = (email or "").strip().lower()
    if platform == "google" and "@" in email:
        local, _, domain = email.rpartition("@")
        if domain in _GMAIL_DOMAINS:
            email = f"{local.replace('.', '')}@{domain}"
    return email


def normalise_name(name: str, *, platform: str) -> str:
    name = unicodedata.normalize("NFC", (name or "").strip().lower())
    if platform == "meta":
        return "".join(ch for ch in name if ch.isalpha())
    return "".join(name.split())


def country_from_locale(locale: str) -> str:
    parts = (locale or "").replace("_", "-").split("-")
    region = parts[-1] if len(parts) > 1 else ""
    return region.lower() if len(region) == 2 and region.isalpha() else ""


def meta_row(email: str, first_name: str, last_name: str, locale: str) -> list[str]:
    return [
        sha256(normalise_email(email, platform="meta")),
        sha256(normalise_name(first_name, platform="meta")),
        sha256(normalise_name(last_name, platform="meta")),
        sha256(country_from_locale(locale)),
    ]


def google_row(email: str, first_name: str, last_name: str, locale: str) -> list[str]:
    return [
        sha256(normalise_email(email, platform="google")),
        sha256(normalise_name(first_name, platform="google")),
        sha256(normalise_name(last_name, platform="google")),
        country_from_locale(locale),
        "",
    ]


@dataclass(frozen=True)
class AudienceFormat:
    header: tuple[str, ...]
    row: Callable[[str, str, str, str], list[str]]


FORMATS: dict[str, AudienceFormat] = {
    "meta": AudienceFormat(header=("EMAIL", "FN", "LN", "COUNTRY"), row=meta_row),
    "google": AudienceFormat(header=("Email", "First Name", "Last Name", "Country", "Zip"), row=google_row),
}


def _segment_selector():
    """The campaigns app's segment evaluator, wherever that app keeps it."""
    for module_name in ("campaigns.selectors", "campaigns.journeys.selectors.segments"):
        try:
            selector = getattr(importlib.import_module(module_name), "segment_customers", None)
        except ImportError:
            continue
        if selector is not None:
            return selector
    return None


def audience_customers(spec: str) -> QuerySet[Customer]:
    """`all`, `stage:<lifecycle stage>`, `rfm:<segment>`, or the name of a saved campaigns Segment."""
    spec = spec.strip()
    if spec == "all":
        return Customer.objects.all()
    kind, _, value = spec.partition(":")
    if kind == "stage" and value in LifecycleStage.values:
        return Customer.objects.filter(lifecycle_stage=value)
    if kind == "rfm" and value in RfmSegment.values:
        return Customer.objects.filter(rfm_segment=value)
    if kind in {"stage", "rfm"}:
        choices = LifecycleStage.values if kind == "stage" else RfmSegment.values
        raise AudienceError(f"unknown {kind} {value!r}; choose from {', '.join(choices)}")
    from campaigns.models import Segment

    segment = Segment.objects.filter(name=spec).first()
    if segment is None:
        raise AudienceError(f"no segment named {spec!r} (or use all, stage:<stage>, rfm:<segment>)")
    selector = _segment_selector()
    if selector is None:
        raise AudienceError("saved segments cannot be evaluated in this installation")
    return selector(segment)


def audience_eligible(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """Mailable customers under the consent policy (the suppression list is checked per chunk, by hash)."""
    return customers_mailable(queryset)


def audience_rows(queryset: QuerySet[Customer], *, platform: str, chunk: int | None = None) -> Iterator[list[str]]:
    """Hashed rows, paged by primary key so memory stays flat at any audience size."""
    fmt = FORMATS[platform]
    size = chunk or settings.AUDIENCE_EXPORT_CHUNK
    eligible = audience_eligible(queryset).order_by("pk")
    last_pk = 0
    while True:
        page = list(
            eligible.filter(pk__gt=last_pk).values_list("pk", "email", "first_name", "last_name", "locale")[:size]
        )
        if not page:
            return
        last_pk = page[-1][0]
        hashes = [email_hash(row[1]) for row in page]
        blocked = set(SuppressedAddress.objects.filter(email_hash__in=hashes).values_list("email_hash", flat=True))
        for (_, email, first, last, locale), digest in zip(page, hashes, strict=True):
            if digest not in blocked:
                yield fmt.row(email, first, last, locale)


def audience_csv_lines(queryset: QuerySet[Customer], *, platform: str) -> Iterator[str]:
    """The CSV file, line by line (header first), for streaming responses and files alike."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FORMATS[platform].header)
    for row in audience_rows(queryset, platform=platform):
        writer.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def audience_export(*, queryset: QuerySet[Customer], platform: str, out: io.TextIOBase) -> int:
    """Write the audience CSV to `out`; returns the number of customers written."""
    count = -1
    for line in audience_csv_lines(queryset, platform=platform):
        out.write(line)
        count += line.count("\n")
    return max(count, 0)
