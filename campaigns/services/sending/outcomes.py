"""What an ESP answer means for a message, and recording it.

sent      the ESP accepted it
rejected  the ESP refused the recipient (inactive, invalid): failed, and the address suppressed
retry     the ESP did not take it (429, 5xx, could not connect): queued again after a backoff
failed    it cannot be sent as it is (render error, other 4xx): failed, address kept
unknown   the ESP may have accepted it (read timeout, garbled answer): never resent automatically
released  the claim expired before the ESP was called: queued again, no attempt counted
"""

from __future__ import annotations

import logging
import random
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
    AnymailUnsupportedFeature,
)
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone
from urllib3.exceptions import ConnectTimeoutError

from campaigns.models import Message, MessageStatus
from customers.models import EmailStatus
from customers.services.suppression import customer_set_email_status

logger = logging.getLogger(__name__)

SENT, REJECTED, RETRY, FAILED, UNKNOWN, RELEASED = "sent", "rejected", "retry", "failed", "unknown", "released"

# The states in which a claim's outcome is still written: each claimed row takes one outcome,
# and the worker's own answer beats reconcile's "unknown" (which keeps the claim token).
ANSWERABLE = (MessageStatus.SENDING, MessageStatus.UNKNOWN)


@dataclass(frozen=True)
class Outcome:
    kind: str
    esp_message_id: str = ""
    error: str = ""


def outcome_from_status(email: object) -> Outcome:
    """Outcome of a send that raised nothing (anymail with IGNORE_RECIPIENT_STATUS, or another backend)."""
    status = getattr(email, "anymail_status", None)
    if status is None or not status.recipients:
        return Outcome(SENT)
    statuses = {s.status for s in status.recipients.values()}
    esp_id = status.message_id if isinstance(status.message_id, str) else ""
    if statuses <= {"sent", "queued"}:
        return Outcome(SENT, esp_message_id=esp_id or "")
    if statuses & {"rejected", "invalid"}:
        return Outcome(REJECTED, error=f"ESP refused the recipient ({', '.join(sorted(statuses))}).")
    return Outcome(UNKNOWN, esp_message_id=esp_id or "", error=f"ESP recipient status {sorted(statuses)}.")


def outcome_from_error(exc: BaseException) -> Outcome:
    error = f"{type(exc).__name__}: {str(exc)[:500]}"
    if isinstance(exc, AnymailRecipientsRefused | AnymailInvalidAddress | smtplib.SMTPRecipientsRefused):
        return Outcome(REJECTED, error=error)
    if isinstance(exc, AnymailConfigurationError | AnymailUnsupportedFeature):
        return Outcome(FAILED, error=error)
    if isinstance(exc, requests.ConnectionError | smtplib.SMTPConnectError | ConnectionRefusedError):
        # Refused or timed out while connecting: nothing reached the ESP. Dropped mid-request: maybe it did.
        if isinstance(exc, requests.ReadTimeout) or not _never_connected(exc):
            return Outcome(UNKNOWN, error=error)
        return Outcome(RETRY, error=error)
    if isinstance(exc, AnymailRequestsAPIError) and exc.status_code is not None:
        # The ESP answered. 429/5xx: it did not take the message. Other 4xx: it never will.
        code = exc.status_code
        if code == 429 or code >= 500:
            return Outcome(RETRY, error=error)
        if 400 <= code < 500:
            return Outcome(FAILED, error=error)
    return Outcome(UNKNOWN, error=error)


def _never_connected(exc: BaseException) -> bool:
    """True when the chain shows the TCP connection was never made (refused, connect timeout)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectTimeoutError | ConnectionRefusedError | requests.ConnectTimeout):
            return True
        for arg in seen.args:
            if isinstance(arg, ConnectTimeoutError) or isinstance(getattr(arg, "reason", None), ConnectTimeoutError):
                return True
        seen = seen.__cause__ or seen.__context__
    return False


def retry_delay(*, attempts: int) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempts-1), capped, then a random 50-100 %."""
    ceiling = min(settings.SEND_RETRY_MAX_SECONDS, settings.SEND_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def outcomes_record_sent(*, sent: list[tuple[Message, str, Outcome]], claim_token: str) -> None:
    """The common case in one statement: accepted messages, each with its own ESP id and subject."""
    now = timezone.now()
    for message, subject, outcome in sent:
        message.status, message.esp_message_id, message.sent_at = MessageStatus.SENT, outcome.esp_message_id, now
        message.subject, message.error = subject[:255], ""
    if connection.vendor == "postgresql":
        _record_sent_postgresql(sent=sent, claim_token=claim_token, now=now)
        return
    fields = ["status", "esp_message_id", "sent_at", "subject", "error", "template_version"]
    Message.objects.filter(claim_token=claim_token, status__in=ANSWERABLE).bulk_update(
        [m for m, _s, _o in sent], fields
    )


def _record_sent_postgresql(*, sent: list[tuple[Message, str, Outcome]], claim_token: str, now) -> None:
    # bulk_update builds a CASE per field and row in Python while the send threads wait for
    # the GIL; one UPDATE ... FROM unnest() sends the per-row values as four arrays instead.
    table = Message._meta.db_table
    sql = (
        f"UPDATE {table} AS m SET status = %s, sent_at = %s, error = '', "  # noqa: S608
        "esp_message_id = v.esp_message_id, subject = v.subject, template_version_id = v.template_version_id "
        "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[]) "
        "AS v(id, esp_message_id, subject, template_version_id) "
        "WHERE m.id = v.id AND m.claim_token = %s AND m.status = ANY(%s::text[])"
    )
    messages = [message for message, _subject, _outcome in sent]
    params = [
        MessageStatus.SENT.value,
        now,
        [m.pk for m in messages],
        [m.esp_message_id for m in messages],
        [m.subject for m in messages],
        [m.template_version_id for m in messages],
        claim_token,
        [status.value for status in ANSWERABLE],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def released_changes(*, now: datetime) -> dict:
    """A row given back before the ESP was called: queued again, the attempt not counted; a
    short pause keeps a failing rate limiter from spinning on the same rows."""
    return {"status": MessageStatus.QUEUED, "attempts": F("attempts") - 1, "not_before": now + timedelta(seconds=1)}


def outcome_record(*, message: Message, claim_token: str, outcome: Outcome, subject: str = "") -> None:
    """Write what happened. Guarded by the claim token, so a row that reconcile or staff has
    since handed to someone else is left alone. Runs in autocommit, outside any transaction."""
    now = timezone.now()
    rows = Message.objects.filter(pk=message.pk, claim_token=claim_token, status__in=ANSWERABLE)
    changes: dict = {"error": outcome.error}
    if subject:
        changes["subject"] = subject[:255]
    if message.template_version_id:
        changes["template_version_id"] = message.template_version_id
    kind = outcome.kind
    if kind == RETRY and message.attempts >= settings.SEND_MAX_ATTEMPTS:
        kind, changes["error"] = FAILED, f"Gave up after {message.attempts} attempts. {outcome.error}"
    if kind == SENT:
        changes.update(status=MessageStatus.SENT, esp_message_id=outcome.esp_message_id, sent_at=now)
    elif kind == RETRY:
        changes.update(status=MessageStatus.QUEUED, not_before=now + retry_delay(attempts=message.attempts))
    elif kind == RELEASED:
        changes.update(released_changes(now=now))
    elif kind in (FAILED, REJECTED):
        changes.update(status=MessageStatus.FAILED, failed_at=now)
    else:
        changes.update(status=MessageStatus.UNKNOWN, esp_message_id=outcome.esp_message_id)
    rows.update(**changes)
    if kind == REJECTED:
        customer_set_email_status(
            customer=message.customer,
            status=EmailStatus.BOUNCED,
            source="esp_reject",
            actor="esp",
            detail=f"message {message.pk}: {outcome.error[:200]}",
        )
    if kind in (UNKNOWN, FAILED, REJECTED):
        # The error text may quote the address: only its type goes to the log.
        logger.warning("message %s %s (%s)", message.pk, kind, outcome.error.split(":", 1)[0][:80])
