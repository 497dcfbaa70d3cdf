"""Advancing enrollments whose step is due: conditions, holdout, sunset, caps, quiet hours, offers.

Every decision ends in a Message row for (enrollment, step) — queued, or skipped with the
reason in Message.error — except a frequency-cap deferral, which moves the enrollment's due_at
and is recorded in journeys.Deferral until it is sent or expires.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value

from campaigns.journeys.models import Deferral
from campaigns.journeys.selectors.engagement import condition_errors, condition_q
from campaigns.journeys.selectors.message_context import message_contexts, trials
from campaigns.journeys.services.ab_tests import ab_split
from campaigns.journeys.services.arbitration import (
    SUNSET_WIN_BACK_EXCEPTION,
    CapVerdict,
    cap_verdicts,
    quiet_hours_end,
    sunset_customer_ids,
    win_back_sunset_refusals,
)
from campaigns.journeys.services.offers import coupons_link, offer_errors, offers_prepare
from campaigns.journeys.services.preemption import messages_preempt
from campaigns.models import (
    Campaign,
    CampaignKind,
    DelayFrom,
    Enrollment,
    EnrollmentStatus,
    Message,
    MessageStatus,
    Step,
    TemplateVersion,
)


def due_steps(*, campaign_ids: list[int], now: datetime) -> dict[int, set[int]]:
    """The step positions that have due enrollments, per campaign, in one query: an idle tick
    then pays one read instead of one per step, and skips campaigns with nothing due."""
    due: dict[int, set[int]] = {}
    rows = (
        Enrollment.objects.filter(campaign_id__in=campaign_ids, status=EnrollmentStatus.ACTIVE, due_at__lte=now)
        .values_list("campaign_id", "next_step")
        .distinct()
    )
    for campaign_id, position in rows:
        due.setdefault(campaign_id, set()).add(position)
    return due


def enrollments_advance(*, campaign: Campaign, now: datetime, due_positions: set[int] | None = None) -> Counter:
    """Process every enrollment of `campaign` whose next step is due, page by page.

    due_positions: the steps with due enrollments (due_steps); steps after one that moved
    enrollments are checked too, as a step without delay is due at once.
    """
    if due_positions is None:
        due_positions = due_steps(campaign_ids=[campaign.pk], now=now).get(campaign.pk, set())
    counts: Counter = Counter()
    steps = list(campaign.steps.select_related("template__current_version").order_by("position"))
    size = settings.JOURNEY_PAGE_SIZE
    moved = False
    for index, step in enumerate(steps):
        if step.position not in due_positions and not moved:
            continue
        following = steps[index + 1] if index + 1 < len(steps) else None
        due = Enrollment.objects.filter(
            campaign=campaign, status=EnrollmentStatus.ACTIVE, next_step=step.position, due_at__lte=now
        )
        last_pk = 0
        while True:
            page = list(
                due.filter(pk__gt=last_pk)
                .order_by("pk")
                .values("pk", "customer_id", "entry", "is_holdout", "customer__timezone")[:size]
            )
            if not page:
                break
            with transaction.atomic():
                _advance_page(campaign, step, following, page, now, counts)
            last_pk, moved = page[-1]["pk"], True
    # Enrollments pointing past the last step (steps removed while they waited) are done.
    last_position = steps[-1].position if steps else 0
    if moved or any(position > last_position for position in due_positions):
        counts["completed"] += Enrollment.objects.filter(
            campaign=campaign, status=EnrollmentStatus.ACTIVE, next_step__gt=last_position, due_at__lte=now
        ).update(status=EnrollmentStatus.COMPLETED, ended_at=now, due_at=None)
    return counts


def _screen(campaign: Campaign, step: Step, page: list[dict], now: datetime) -> tuple[dict[int, str], set[int]]:
    """Why each enrollment of the page must not be mailed this step (empty: all may go), and the
    enrollments mailed under the win-back exception to sunset."""
    ids = [row["pk"] for row in page]
    skip: dict[int, str] = {}
    problems = condition_errors(step.condition) + offer_errors(step.offer)
    if problems:  # a mistyped step must not stop the tick: record why nothing was sent
        return {pk: f"invalid step settings: {problems[0]}" for pk in ids}, set()
    if step.condition:
        passing = set(
            Enrollment.objects.filter(pk__in=ids).filter(condition_q(step.condition)).values_list("pk", flat=True)
        )
        wanted = ", ".join(k for k in step.condition if k != "before_trial_end_hours")
        skip.update({pk: f"condition not met: {wanted}" for pk in ids if pk not in passing})
    for row in page:
        if row["pk"] in skip:
            continue
        if row["is_holdout"]:
            skip[row["pk"]] = "holdout"
        elif step.template.current_version is None:
            skip[row["pk"]] = f"template {step.template.name!r} has no saved version"
    rest = [row for row in page if row["pk"] not in skip]
    excepted: set[int] = set()
    if rest and not campaign.is_transactional:
        sunset = sunset_customer_ids(customer_ids=[r["customer_id"] for r in rest], now=now)
        win_back = campaign.kind == CampaignKind.WIN_BACK
        refusals = win_back_sunset_refusals(customer_ids=list(sunset)) if win_back and sunset else {}
        for row in rest:
            if row["customer_id"] not in sunset:
                continue
            if win_back and row["customer_id"] not in refusals:
                excepted.add(row["pk"])  # the one win-back message of this lapse
                continue
            why = f"sunset: not engaged for {settings.SUNSET_DAYS} days"
            skip[row["pk"]] = f"{why}; {refusals[row['customer_id']]}" if win_back else why
    return skip, excepted


def _advance_page(
    campaign: Campaign, step: Step, following: Step | None, page: list[dict], now: datetime, counts: Counter
) -> None:
    skip, excepted = _screen(campaign, step, page, now)
    rest = [row for row in page if row["pk"] not in skip]
    send_at = {r["customer_id"]: quiet_hours_end(tz_name=r["customer__timezone"], now=now) or now for r in rest}
    verdicts = cap_verdicts(customer_ids=list(send_at), now=now, send_at=send_at)
    if messages_preempt(campaign=campaign, verdicts=verdicts, now=now):
        verdicts = cap_verdicts(customer_ids=list(send_at), now=now, send_at=send_at)
    capped = [row for row in rest if row["customer_id"] in verdicts]
    deferred = _defer_or_expire(step, capped, verdicts, now, skip)
    send = [row for row in rest if row["pk"] not in skip and row["pk"] not in deferred]
    split = ab_split(step=step, enrollment_ids=[row["pk"] for row in send], now=now)
    if split.held:  # A/B test sample full: the rest wait for the winner
        Enrollment.objects.filter(pk__in=split.held).update(due_at=split.hold_until)
        send = [row for row in send if row["pk"] not in split.held]
        deferred |= split.held

    offers = offers_prepare(offer=step.offer, count=len(send), now=now)
    if None in offers:  # the coupon pool ran dry: those without a code are skipped, not mailed without one
        reason = f"offer: coupon pool {step.offer.get('pool')!r} is empty"
        pairs = list(zip(send, offers, strict=True))
        skip.update({row["pk"]: reason for row, offer in pairs if offer is None})
        send = [row for row, offer in pairs if offer is not None]
        offers = [offer for _, offer in pairs if offer is not None]
    extras = message_contexts(kind=campaign.kind, customer_ids=[r["customer_id"] for r in send], now=now)
    messages = []
    for row, offer in zip(send, offers, strict=True):
        context: dict[str, Any] = dict(extras.get(row["customer_id"], {}))
        if offer:
            context["offer"] = offer
        if row["pk"] in excepted:  # recorded on the message: sunset, mailed once in this lapse
            context["sunset_exception"] = SUNSET_WIN_BACK_EXCEPTION
        not_before = send_at[row["customer_id"]] if send_at[row["customer_id"]] > now else None
        version = split.versions.get(row["pk"], step.template.current_version)
        messages.append(
            _message(
                campaign, step, row, now, MessageStatus.QUEUED, context=context, not_before=not_before, version=version
            )
        )
    by_pk = {row["pk"]: row for row in page}
    messages += [_message(campaign, step, by_pk[pk], now, MessageStatus.SKIPPED, error=why) for pk, why in skip.items()]
    Message.objects.bulk_create(messages, ignore_conflicts=True)
    if any(offers):
        created = Message.objects.filter(enrollment_id__in=[r["pk"] for r in send], step=step)
        coupons_link(messages=list(created.values_list("pk", "context")), now=now)
    sent_ids = [row["pk"] for row in send]
    Deferral.objects.filter(enrollment_id__in=sent_ids, step=step, outcome="").update(outcome="sent")
    counts["queued"] += len(send)
    counts["skipped"] += len(skip)
    counts["deferred"] += len(deferred)
    _move_on(step, following, [row for row in page if row["pk"] not in deferred], now)


def _message(
    campaign: Campaign,
    step: Step,
    row: dict,
    now: datetime,
    status: str,
    *,
    context: dict | None = None,
    not_before: datetime | None = None,
    error: str = "",
    version: TemplateVersion | None = None,
) -> Message:
    return Message(
        customer_id=row["customer_id"],
        campaign=campaign,
        step=step,
        enrollment_id=row["pk"],
        entry=row["entry"],
        template_version=version or step.template.current_version,
        status=status,
        created_at=now,
        not_before=not_before,
        context=context or {},
        error=error,
    )


def _defer_or_expire(
    step: Step, capped: list[dict], verdicts: dict[int, CapVerdict], now: datetime, skip: dict[int, str]
) -> set[int]:
    """Push capped enrollments to their next slot, or skip them once waiting exceeded the expiry."""
    if not capped:
        return set()
    expiry = timedelta(hours=settings.DEFERRAL_EXPIRY_HOURS)
    existing = {
        d.enrollment_id: d for d in Deferral.objects.filter(enrollment_id__in=[r["pk"] for r in capped], step=step)
    }
    new, changed, moved = [], [], []
    for row in capped:
        verdict, record = verdicts[row["customer_id"]], existing.get(row["pk"])
        first = record.first_deferred_at if record else now
        if now >= first + expiry or verdict.next_slot >= first + expiry:
            skip[row["pk"]] = f"{verdict.reason}: deferred since {first:%Y-%m-%d %H:%M} UTC, expired"
            if record:
                record.outcome, record.reason = "expired", verdict.reason
                changed.append(record)
            else:
                new.append(
                    Deferral(
                        enrollment_id=row["pk"],
                        step=step,
                        reason=verdict.reason,
                        first_deferred_at=now,
                        deferred_until=now,
                        outcome="expired",
                    )
                )
            continue
        if record:
            record.deferred_until, record.reason, record.times = verdict.next_slot, verdict.reason, record.times + 1
            changed.append(record)
        else:
            new.append(
                Deferral(
                    enrollment_id=row["pk"],
                    step=step,
                    reason=verdict.reason,
                    first_deferred_at=now,
                    deferred_until=verdict.next_slot,
                )
            )
        moved.append(Enrollment(pk=row["pk"], due_at=verdict.next_slot))
    Deferral.objects.bulk_create(new, ignore_conflicts=True)
    Deferral.objects.bulk_update(changed, ["deferred_until", "reason", "times", "outcome"])
    Enrollment.objects.bulk_update(moved, ["due_at"])
    return {e.pk for e in moved}


def _move_on(step: Step, following: Step | None, rows: list[dict], now: datetime) -> None:
    ids = [row["pk"] for row in rows]
    if not ids:
        return
    moving = Enrollment.objects.filter(pk__in=ids, status=EnrollmentStatus.ACTIVE, next_step=step.position)
    if following is None:
        moving.update(status=EnrollmentStatus.COMPLETED, ended_at=now, due_at=None, next_step=step.position + 1)
        return
    if following.delay_from == DelayFrom.ENTRY:
        moving.update(next_step=following.position, due_at=F("entered_at") + Value(following.delay))
    else:
        moving.update(next_step=following.position, due_at=now + following.delay)
    hours = (following.condition or {}).get("before_trial_end_hours")
    if hours is not None:
        _due_before_trial_end(following, rows, hours, now)


def _due_before_trial_end(step: Step, rows: list[dict], hours: int, now: datetime) -> None:
    ends = trials([row["customer_id"] for row in rows])
    updates = []
    for row in rows:
        ends_at = (ends.get(row["customer_id"]) or {}).get("ends_at")
        try:
            due = datetime.fromisoformat(str(ends_at)) - timedelta(hours=hours) if ends_at else None
        except ValueError:
            due = None
        if due is not None and due.tzinfo is not None:
            updates.append(Enrollment(pk=row["pk"], due_at=max(due, now)))
    Enrollment.objects.bulk_update(updates, ["due_at"])
