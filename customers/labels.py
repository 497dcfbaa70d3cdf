"""Words for the codes stored with consent proof and the suppression list.

Sources of a consent change are written by several apps (the unsubscribe link by tracking, a
rejected send by campaigns); each registers the words for its own codes from AppConfig.ready(),
so the admin and the customer timeline read one mapping.
"""

from __future__ import annotations

from collections.abc import Mapping

from customers.models import Consent, EmailStatus

_consent_sources: dict[str, str] = {
    "admin": "Changed by staff in the admin",
    "api": "Sent by the shop (event API)",
    "import": "CSV import",
    "demo": "Demo data",
}
# "webhook:postmark": the part after the colon fills {detail}.
_consent_source_prefixes: dict[str, str] = {}

SUPPRESSION_REASONS = {
    EmailStatus.UNSUBSCRIBED.value: "Unsubscribed",
    EmailStatus.BOUNCED.value: "Bounced",
    EmailStatus.COMPLAINED.value: "Marked as spam",
    "rejected": "Rejected by the email provider",
    "erased": "Erased (GDPR)",
}

_VALUE_LABELS = {
    "consent": dict(Consent.choices),
    "email_status": dict(EmailStatus.choices),
}
_FIELD_LABELS = {"consent": "Marketing consent", "email_status": "Email status"}


def register_consent_sources(labels: Mapping[str, str]) -> None:
    """Words for consent-change sources. A key ending in ":" matches every "prefix:…" source;
    its label may use {detail} for the rest, e.g. {"webhook:": "Email provider ({detail})"}."""
    for code, label in labels.items():
        if code.endswith(":"):
            _consent_source_prefixes[code] = label
        else:
            _consent_sources[code] = label


def consent_source_label(source: str) -> str:
    if source in _consent_sources:
        return _consent_sources[source]
    prefix, colon, rest = source.partition(":")
    if colon and f"{prefix}:" in _consent_source_prefixes:
        return _consent_source_prefixes[f"{prefix}:"].format(detail=rest.capitalize())
    return source.replace("_", " ").capitalize() if source else "—"


def consent_source_choices() -> list[tuple[str, str]]:
    """Every registered source, for a filter; a prefix ("webhook:") stands for all its sources."""
    exact = sorted(_consent_sources.items(), key=lambda item: item[1])
    prefixes = [(code, label.format(detail="any")) for code, label in sorted(_consent_source_prefixes.items())]
    return exact + prefixes


def consent_field_label(field: str) -> str:
    return _FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


def consent_value_label(field: str, value: str) -> str:
    if not value:
        return "—"
    return _VALUE_LABELS.get(field, {}).get(value, value.replace("_", " ").capitalize())


def consent_change_words(*, field: str, old: str, new: str) -> str:
    """Words such as "Email status: Subscribed → Unsubscribed"; a first value has no arrow."""
    what, to = consent_field_label(field), consent_value_label(field, new)
    return f"{what}: {consent_value_label(field, old)} → {to}" if old else f"{what}: {to}"


def suppression_reason_label(reason: str) -> str:
    return SUPPRESSION_REASONS.get(reason, reason.replace("_", " ").capitalize() if reason else "—")
