"""Ending journeys when their goal happens (an order, a trial converted)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from campaigns.journeys.selectors.engagement import event_since_entry
from campaigns.models import Campaign, CampaignStatus, Enrollment, EnrollmentStatus, Message, MessageStatus


def _exit(enrollments: QuerySet[Enrollment], event_type: str, now: datetime) -> int:
    reason = f"goal: {event_type}"
    ids = list(enrollments.filter(event_since_entry(event_type)).values_list("pk", flat=True))
    if not ids:
        return 0
    count = Enrollment.objects.filter(pk__in=ids, status=EnrollmentStatus.ACTIVE).update(
        status=EnrollmentStatus.EXITED, exit_reason=reason, ended_at=now, due_at=None
    )
    # Mail still waiting (quiet hours, deferral) no longer makes sense once the goal is reached.
    Message.objects.filter(enrollment_id__in=ids, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SKIPPED, error=f"exited before sending ({reason})"
    )
    return count


def enrollments_exit_on_goal(*, enrollments: QuerySet[Enrollment], event_type: str, now: datetime) -> int:
    """End those of `enrollments` whose customer had the goal event since entering."""
    return _exit(enrollments.filter(status=EnrollmentStatus.ACTIVE), event_type, now)


def enrollments_exit_on_goals(*, campaign: Campaign, now: datetime) -> int:
    active = Enrollment.objects.filter(campaign=campaign, status=EnrollmentStatus.ACTIVE)
    return sum(_exit(active, event_type, now) for event_type in campaign.exit_on or [])


def customer_enrollments_exit(*, customer_id: int, event_type: str, now: datetime) -> int:
    """Immediate exit when the event API reports a goal event for one customer."""
    # exit_on is a short JSON list on a handful of campaigns: filtered here, portable to SQLite.
    campaign_ids = [
        pk
        for pk, exit_on in Campaign.objects.filter(status=CampaignStatus.ACTIVE).values_list("pk", "exit_on")
        if event_type in (exit_on or [])
    ]
    if not campaign_ids:
        return 0
    active = Enrollment.objects.filter(
        customer_id=customer_id, status=EnrollmentStatus.ACTIVE, campaign_id__in=campaign_ids
    )
    return _exit(active, event_type, now)
