"""Higher priority wins the frequency cap even against mail already queued but still waiting.

A lower-priority message that is queued and not yet due (waiting for the morning, say) is moved
to the slot the cap frees next, so the higher-priority one takes its place. Each message is
moved at most once, and the move is recorded in journeys.Deferral for staff to see.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef

from campaigns.journeys.models import Deferral
from campaigns.journeys.services.arbitration import CapVerdict
from campaigns.models import Campaign, Message, MessageStatus

PREEMPTED = "preempted"


def messages_preempt(*, campaign: Campaign, verdicts: dict[int, CapVerdict], now: datetime) -> set[int]:
    """Move one waiting lower-priority message per capped customer; returns the customers freed."""
    if not verdicts:
        return set()
    moved_before = Deferral.objects.filter(enrollment=OuterRef("enrollment"), step=OuterRef("step"), outcome=PREEMPTED)
    waiting = (
        Message.objects.filter(
            customer_id__in=list(verdicts),
            status=MessageStatus.QUEUED,
            not_before__gt=now,
            enrollment__isnull=False,
            step__isnull=False,
            campaign__priority__lt=campaign.priority,
        )
        .exclude(Exists(moved_before))
        .order_by("customer_id", "campaign__priority", "-not_before")
        .values("pk", "customer_id", "enrollment_id", "step_id")
    )
    chosen: dict[int, dict] = {}
    for row in waiting:
        chosen.setdefault(row["customer_id"], row)
    if not chosen:
        return set()
    reason = f"preempted by {campaign.name} (priority {campaign.priority})"
    Message.objects.bulk_update(
        [Message(pk=row["pk"], not_before=verdicts[cid].next_slot) for cid, row in chosen.items()], ["not_before"]
    )
    pairs = {(row["enrollment_id"], row["step_id"]): cid for cid, row in chosen.items()}
    existing = [
        d
        for d in Deferral.objects.filter(enrollment_id__in=[e for e, _ in pairs], step_id__in=[s for _, s in pairs])
        if (d.enrollment_id, d.step_id) in pairs
    ]
    for record in existing:
        cid = pairs.pop((record.enrollment_id, record.step_id))
        record.reason, record.deferred_until, record.outcome = reason, verdicts[cid].next_slot, PREEMPTED
        record.times += 1
    Deferral.objects.bulk_update(existing, ["reason", "deferred_until", "outcome", "times"])
    Deferral.objects.bulk_create(
        [
            Deferral(
                enrollment_id=enrollment_id,
                step_id=step_id,
                reason=reason,
                first_deferred_at=now,
                deferred_until=verdicts[cid].next_slot,
                outcome=PREEMPTED,
            )
            for (enrollment_id, step_id), cid in pairs.items()
        ],
        ignore_conflicts=True,
    )
    return set(chosen)
