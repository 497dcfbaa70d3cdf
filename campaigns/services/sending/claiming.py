"""Atomic claims: a row moves queued -> sending in one short transaction owned by one worker."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from campaigns.journeys.services.exits import enrollments_exit_on_goal
from campaigns.models import Campaign, Enrollment, EnrollmentStatus, Message, MessageStatus
from campaigns.selectors.sending import messages_claimable
from campaigns.services.sending.outcomes import released_changes
from customers.selectors import customer_mailable_ids

logger = logging.getLogger(__name__)


def messages_claim(*, batch_size: int, now: datetime | None = None) -> tuple[str, datetime] | None:
    """Claim up to `batch_size` due messages. Returns (claim token, claim time), or None if none won.

    PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint rows
    without waiting. Elsewhere: UPDATE ... WHERE status='queued', and only the rows that carry
    our claim token afterwards are ours.
    """
    now = now or timezone.now()
    token = uuid.uuid4().hex
    changes = {
        "status": MessageStatus.SENDING,
        "claimed_at": now,
        "claim_token": token,
        "attempts": F("attempts") + 1,
        "esp_checked_at": None,
        "esp_not_found_at": None,
    }
    with transaction.atomic():
        candidates = messages_claimable(now=now)
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("id", flat=True)[:batch_size])
        if not ids:
            return None
        won = Message.objects.filter(id__in=ids, status=MessageStatus.QUEUED).update(**changes)
    return (token, now) if won else None


def messages_suppress_unmailable(*, claim_token: str, customer_ids: list[int]) -> set[int]:
    """Suppression checked at claim time: rows of customers who may no longer be mailed become
    'suppressed' and are never sent. Returns the customer ids that may still be mailed."""
    mailable = customer_mailable_ids(customer_ids=customer_ids)
    blocked = set(customer_ids) - mailable
    if blocked:
        Message.objects.filter(claim_token=claim_token, customer_id__in=blocked, status=MessageStatus.SENDING).update(
            status=MessageStatus.SUPPRESSED,
            error="Not mailable at send time (unsubscribed, bounced, suppressed, or no consent under the policy).",
        )
    return mailable


def messages_skip_exited(*, claim_token: str, now: datetime | None = None) -> set[int]:
    """Journey exits checked at claim time, beside suppression: a lifecycle message whose
    enrollment has ended, or whose customer reached the campaign's goal (e.g. placed an order)
    since entering, is 'skipped' with the reason and never sent. The tick checks exits too, but
    an order can land between its check and this claim. Returns the ids of the skipped rows."""
    now = now or timezone.now()
    claimed = Message.objects.filter(claim_token=claim_token, status=MessageStatus.SENDING, enrollment__isnull=False)
    enrollments = Enrollment.objects.filter(pk__in=claimed.values("enrollment_id"))
    goals = Campaign.objects.filter(pk__in=claimed.values("campaign_id")).values_list("pk", "exit_on")
    for campaign_id, exit_on in goals:
        for event_type in exit_on or []:
            enrollments_exit_on_goal(
                enrollments=enrollments.filter(campaign_id=campaign_id), event_type=event_type, now=now
            )
    exited = claimed.filter(enrollment__status=EnrollmentStatus.EXITED)
    by_reason: dict[str, list[int]] = {}
    for pk, reason in exited.values_list("pk", "enrollment__exit_reason"):
        by_reason.setdefault(reason or "exited", []).append(pk)
    for reason, ids in by_reason.items():
        Message.objects.filter(pk__in=ids, claim_token=claim_token, status=MessageStatus.SENDING).update(
            status=MessageStatus.SKIPPED, error=f"exited before sending ({reason})"
        )
    return {pk for ids in by_reason.values() for pk in ids}


def messages_release_claim(*, claim_token: str) -> int:
    """Give a claim back when none of its rows was handed to the ESP: they are queued again
    at once, the attempt not counted. If the database refuses even this, reconcile settles them."""
    try:
        rows = Message.objects.filter(claim_token=claim_token, status=MessageStatus.SENDING)
        return rows.update(**released_changes(now=timezone.now()))
    except Exception:
        logger.exception("a claim could not be given back; reconcile will settle its rows")
        return 0
