"""Sending progress of one campaign: every message and waiting enrollment in a named bucket, and an
ETA that knows about quiet hours, the frequency cap, retries and A/B holds.

Buckets (each message is in exactly one):
- ready: queued and due now (a worker claims it next)
- waiting: queued with a not-before in the future (quiet hours, a retry, preempted by a
  higher-priority campaign), or every queued row of a paused campaign; plus enrollments
  that have no message yet because the frequency cap or an A/B test holds them (Deferral rows)
- sending, sent, unknown outcome, suppressed (not mailable at send time), failed, skipped
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, IntegerField, Max, Min, OuterRef, Q
from django.utils import timezone

from campaigns.journeys.models import ABTest, Deferral
from campaigns.journeys.services.preemption import PREEMPTED
from campaigns.models import Campaign, CampaignStatus, Enrollment, EnrollmentStatus, Message, MessageStatus

RATE_WINDOW = timedelta(seconds=60)
FINISHED = ("sent", "unknown", "suppressed", "failed")


@dataclass(frozen=True)
class Wait:
    reason: str
    count: int
    first: datetime | None
    last: datetime | None

    def as_dict(self) -> dict:
        return {
            "reason": self.reason,
            "count": self.count,
            "until": until_words(self.first, self.last),
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
        }


def when_words(moment: datetime, now: datetime | None = None) -> str:
    """08:00 today, Tue 10:00 within the week, 3 Dec 10:00 beyond (in the admin's time zone)."""
    now = now or timezone.now()
    local, today = timezone.localtime(moment), timezone.localtime(now).date()
    if local.date() == today:
        return f"{local:%H:%M}"
    if timedelta(0) < local.date() - today < timedelta(days=6):
        return f"{local:%a %H:%M}"
    return f"{local.day} {local:%b %H:%M}"


def until_words(first: datetime | None, last: datetime | None) -> str:
    if first is None or last is None:
        return "until you resume the campaign"
    if when_words(first) == when_words(last):
        return f"until {when_words(last)}"
    return f"until {when_words(first)}–{when_words(last)}"


def eta_words(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m {secs}s" if minutes else f"{secs}s"


def _counts(campaign: Campaign, now: datetime) -> dict[str, int]:
    queued = Q(status=MessageStatus.QUEUED)
    return Message.objects.filter(campaign=campaign, is_test=False).aggregate(
        queued=Count("pk", filter=queued),
        ready=Count("pk", filter=queued & (Q(not_before__isnull=True) | Q(not_before__lte=now))),
        sending=Count("pk", filter=Q(status=MessageStatus.SENDING)),
        sent=Count("pk", filter=Q(status=MessageStatus.SENT)),
        unknown=Count("pk", filter=Q(status=MessageStatus.UNKNOWN)),
        suppressed=Count("pk", filter=Q(status=MessageStatus.SUPPRESSED)),
        failed=Count("pk", filter=Q(status=MessageStatus.FAILED)),
        skipped=Count("pk", filter=Q(status=MessageStatus.SKIPPED)),
        recent=Count("pk", filter=Q(sent_at__gte=now - RATE_WINDOW), output_field=IntegerField()),
    )


def _message_waits(campaign: Campaign, now: datetime) -> list[Wait]:
    """Queued rows with a future not-before, by why they wait."""
    preempted = Deferral.objects.filter(enrollment=OuterRef("enrollment"), step=OuterRef("step"), outcome=PREEMPTED)
    rows = (
        Message.objects.filter(campaign=campaign, is_test=False, status=MessageStatus.QUEUED, not_before__gt=now)
        .annotate(retry=ExpressionWrapper(Q(attempts__gt=0), output_field=BooleanField()), moved=Exists(preempted))
        .values("retry", "moved")
        .annotate(n=Count("pk"), first=Min("not_before"), last=Max("not_before"))
        .order_by()
    )
    waits = []
    for row in rows:
        if row["retry"]:
            reason = "retry after a temporary ESP error"
        elif row["moved"]:
            reason = "frequency cap: a higher-priority campaign took the slot"
        else:
            reason = "quiet hours in the customer's time zone"
        waits.append(Wait(reason, row["n"], row["first"], row["last"]))
    return waits


def _enrollment_waits(campaign: Campaign, now: datetime) -> list[Wait]:
    """Enrollments held before a message exists: the frequency cap (Deferral rows) and A/B holds."""
    waits = []
    deferrals = (
        Deferral.objects.filter(
            step__campaign=campaign,
            outcome="",
            deferred_until__gt=now,
            enrollment__status=EnrollmentStatus.ACTIVE,
        )
        .values("reason")
        .annotate(n=Count("pk"), first=Min("deferred_until"), last=Max("deferred_until"))
        .order_by("reason")
    )
    for row in deferrals:
        waits.append(Wait(cap_reason_words(row["reason"]), row["n"], row["first"], row["last"]))
    tests = ABTest.objects.filter(
        step__campaign=campaign, decided_at__isnull=True, started_at__isnull=False
    ).select_related("step")
    for test in tests:
        until = test.started_at + test.decide_after
        held = Enrollment.objects.filter(
            campaign=campaign, status=EnrollmentStatus.ACTIVE, next_step=test.step.position, due_at=until
        ).count()
        if held and until > now:
            waits.append(Wait(f"A/B test of step {test.step.position}: waiting for the winner", held, until, until))
    return waits


def cap_reason_words(reason: str) -> str:
    """'frequency cap: 1 a day' -> 'frequency cap (1 a day)'; other reasons as recorded."""
    if reason.startswith("frequency cap:"):
        return f"frequency cap ({reason.split(':', 1)[1].strip()})"
    if reason.startswith("preempted by"):
        return f"frequency cap: {reason}"
    return reason.replace("_", " ")


def campaign_progress(*, campaign: Campaign) -> dict:
    """What is left to send and why: named counts, the waits with their reasons and until when, an ETA.

    The ETA is the later of: the ready messages at the rate of the last minute, and the last
    moment a waiting message or enrollment may go (quiet hours ending, the frequency cap freeing
    a slot, a retry, an A/B winner). A paused campaign has no ETA: it waits for staff.
    """
    now = timezone.now()
    counts = _counts(campaign, now)
    paused = campaign.status in (CampaignStatus.PAUSED, CampaignStatus.ARCHIVED)
    waits = [] if paused else _message_waits(campaign, now)
    if paused and counts["queued"]:
        label = "campaign paused" if campaign.status == CampaignStatus.PAUSED else "campaign archived"
        waits.append(Wait(label, counts["queued"], None, None))
    held = _enrollment_waits(campaign, now)  # no message row yet
    waits += held
    waiting = sum(w.count for w in waits)
    ready = 0 if paused else counts["ready"]
    total = sum(counts[name] for name in ("queued", "sending", *FINISHED)) + sum(w.count for w in held)
    finished = sum(counts[name] for name in FINISHED)
    percent = round(100.0 * finished / total, 1) if total else 0.0
    rate = counts["recent"] / RATE_WINDOW.total_seconds()
    left = ready + counts["sending"]
    eta_at = None
    if not paused and (left or waiting):
        ends = [w.last for w in waits if w.last is not None]
        if left:
            ends.append(now + timedelta(seconds=left / rate) if rate > 0 else None)
        eta_at = None if None in ends else max(ends, default=None)
    eta_seconds = round((eta_at - now).total_seconds()) if eta_at else None
    return {
        "status": campaign.status,
        "status_label": campaign.get_status_display(),
        "total": total,
        "done": finished,
        "percent": percent,
        "summary": f"{finished:,} of {total:,} finished ({percent:.1f}%)",
        "queued": ready,
        "waiting": waiting,
        "waits": [w.as_dict() for w in waits],
        "sending": counts["sending"],
        "sent": counts["sent"],
        "unknown": counts["unknown"],
        "suppressed": counts["suppressed"],
        "failed": counts["failed"],
        "skipped": counts["skipped"],
        "rate_per_second": round(rate, 2),
        "eta_seconds": eta_seconds,
        "eta_at": eta_at.isoformat() if eta_at else None,
        "eta_words": _eta_sentence(eta_at, eta_seconds, waits, paused, idle=not left and not waiting),
        "active": left > 0 or (waiting > 0 and not paused),
    }


def _eta_sentence(eta_at: datetime | None, seconds: int | None, waits: list[Wait], paused: bool, idle: bool) -> str:
    if paused:
        return "paused: nothing is sent until you resume"
    if eta_at is not None:
        return f"about {eta_words(seconds)} (around {when_words(eta_at)})"
    last = max((w.last for w in waits if w.last is not None), default=None)
    if idle:
        return "nothing left to send"
    if last is not None:
        return f"unknown: nothing went out in the last minute; waiting mail is due until {when_words(last)}"
    return "unknown: nothing went out in the last minute (is a worker running?)"


def progress_by_step(*, campaign: Campaign) -> dict[int, dict[str, int]]:
    """Per step: queued now, waiting (future not-before or an open cap deferral)."""
    now = timezone.now()
    found: dict[int, dict[str, int]] = defaultdict(lambda: {"queued": 0, "waiting": 0})
    rows = (
        Message.objects.filter(campaign=campaign, is_test=False, status=MessageStatus.QUEUED)
        .values("step_id")
        .annotate(
            waiting=Count("pk", filter=Q(not_before__gt=now)),
            queued=Count("pk", filter=Q(not_before__isnull=True) | Q(not_before__lte=now)),
        )
        .order_by()
    )
    for row in rows:
        found[row["step_id"]]["queued"] += row["queued"]
        found[row["step_id"]]["waiting"] += row["waiting"]
    deferred = (
        Deferral.objects.filter(step__campaign=campaign, outcome="", deferred_until__gt=now)
        .values("step_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in deferred:
        found[row["step_id"]]["waiting"] += row["n"]
    return dict(found)
