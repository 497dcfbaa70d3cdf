"""Rows in doubt: the worker died while sending, or the ESP's answer was lost.

A row still in 'sending' after SEND_STUCK_AFTER_SECONDS belonged to a worker that crashed
(a live worker never starts an ESP call later than half that time after its claim). Such a
row, and a row marked 'unknown' at send time (read timeout), may or may not have reached the
ESP. Sending it again could mail someone twice, so we never do that blindly:

- when the ESP can be asked (Postmark message search by our metadata), a message it has
  becomes 'sent'. One it does not have is queued again only when that answer can be trusted:
  it came after the original request could have landed (claim time + the send task's hard
  time limit + the ESP request's connect and read timeout, see stuck_after_minimum), and a
  second lookup at least SEND_RECONCILE_RECHECK_SECONDS later agrees (the ESP's search may
  lag behind what it accepted). Until then the row waits;
- otherwise, or if the ESP cannot answer, the row becomes (or stays) 'unknown'. It is listed
  in the admin and by `manage.py report_unknown_messages`; staff decide to requeue it or to
  mark it sent.
"""

from __future__ import annotations

from datetime import timedelta

import requests
from anymail.utils import get_anymail_setting
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from campaigns.models import Message, MessageStatus
from campaigns.selectors.sending import messages_stuck_sending, messages_unknown_unchecked
from campaigns.services.sending.esp_lookup import esp_lookup_available, esp_message_lookup


def stuck_after_minimum() -> float:
    """Seconds after its claim during which a row's ESP request may still land: the send task's
    hard time limit (no call starts later) plus connect and read timeout of that request."""
    timeout = get_anymail_setting("requests_timeout", default=30)
    per_request = sum(float(part) for part in timeout) if isinstance(timeout, tuple | list) else 2 * float(timeout)
    return settings.SEND_TASK_TIME_LIMIT_SECONDS + per_request


def messages_reconcile(*, stuck_after_seconds: int | None = None, limit: int = 500) -> dict[str, int]:
    """Resolve rows in doubt. Returns counts: sent, requeued, waiting (the ESP does not have it
    yet, asked again later before any resend), unknown."""
    now = timezone.now()
    seconds = settings.SEND_STUCK_AFTER_SECONDS if stuck_after_seconds is None else stuck_after_seconds
    cutoff = now - timedelta(seconds=seconds)
    could_land_until = timedelta(seconds=stuck_after_minimum())
    recheck = timedelta(seconds=settings.SEND_RECONCILE_RECHECK_SECONDS)
    counts = {"sent": 0, "requeued": 0, "waiting": 0, "unknown": 0}
    rows = list(messages_stuck_sending(claimed_before=cutoff)[:limit])
    if esp_lookup_available():
        rows += list(messages_unknown_unchecked(claimed_before=cutoff)[:limit])
    with requests.Session() as session:
        for message in rows:
            lookup = esp_message_lookup(message_id=message.pk, session=session)
            same_claim = Message.objects.filter(pk=message.pk, status=message.status, claim_token=message.claim_token)
            checked = now if esp_lookup_available() else None
            if lookup.known and lookup.found:
                done = same_claim.update(
                    status=MessageStatus.SENT,
                    esp_message_id=lookup.esp_message_id,
                    sent_at=message.claimed_at,
                    esp_checked_at=checked,
                    error="Reconciled: the ESP has this message.",
                )
                counts["sent"] += done
            elif lookup.known and now < message.claimed_at + could_land_until:
                # The original request may still be on its way: this answer proves nothing yet.
                counts["waiting"] += 1
            elif lookup.known and (message.esp_not_found_at is None or now < message.esp_not_found_at + recheck):
                done = same_claim.update(
                    status=MessageStatus.UNKNOWN,
                    esp_checked_at=checked,
                    esp_not_found_at=message.esp_not_found_at or now,
                    error="The ESP has no record of it yet; asking again before sending it again.",
                )
                counts["waiting"] += done
            elif lookup.known:
                done = same_claim.update(
                    status=MessageStatus.QUEUED,
                    not_before=None,
                    claim_token="",
                    esp_checked_at=checked,
                    esp_not_found_at=None,
                    error="Reconciled: the ESP never received it (asked twice); queued again.",
                )
                counts["requeued"] += done
            else:
                done = same_claim.update(
                    status=MessageStatus.UNKNOWN,
                    esp_checked_at=None,  # the ESP could not answer: ask again next time
                    error=message.error or "Worker stopped while sending; outcome unknown.",
                )
                counts["unknown"] += done
    return counts


def message_requeue_unknown(*, message_ids: list[int], actor: str) -> int:
    """Staff decided these unknown rows were not delivered: send them again."""
    return Message.objects.filter(pk__in=message_ids, status=MessageStatus.UNKNOWN).update(
        status=MessageStatus.QUEUED,
        not_before=None,
        claim_token="",
        esp_not_found_at=None,
        error=f"Requeued by {actor[:100]} after an unknown outcome.",
    )


def message_mark_sent(*, message_ids: list[int], actor: str) -> int:
    """Staff confirmed (e.g. in the ESP's dashboard) that these unknown rows were delivered."""
    return Message.objects.filter(pk__in=message_ids, status=MessageStatus.UNKNOWN).update(
        status=MessageStatus.SENT,
        sent_at=F("claimed_at"),
        error=f"Marked sent by {actor[:100]} after an unknown outcome.",
    )
