"""A/B tests of a step's template (e.g. its subject line): split a sample, pick the winner, send it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from campaigns.journeys.models import ABTest, ABVariant
from campaigns.journeys.selectors.engagement import human_events
from campaigns.models import Campaign, Message, MessageStatus, Step, Template, TemplateVersion
from tracking.models import EventKind

SENT_STATUSES = [MessageStatus.SENT, MessageStatus.SENDING, MessageStatus.UNKNOWN]


@dataclass
class Split:
    versions: dict[int, TemplateVersion] = field(default_factory=dict)  # enrollment pk -> version
    held: set[int] = field(default_factory=set)
    hold_until: datetime | None = None


def _arms(test: ABTest) -> list[Template]:
    return [test.step.template, *(v.template for v in test.variants.select_related("template__current_version"))]


def _test_messages(test: ABTest) -> QuerySet[Message]:
    if test.started_at is None:
        return Message.objects.none()
    return Message.objects.filter(step=test.step, is_test=False, created_at__gte=test.started_at)


def ab_test_decide(*, test: ABTest, now: datetime) -> Template:
    """Pick the arm with the best human click rate among sent test messages (ties: the step's own)."""
    clicked = Exists(human_events([EventKind.CLICK]).filter(message=OuterRef("pk")))
    rows = (
        _test_messages(test)
        .filter(status__in=SENT_STATUSES, template_version__isnull=False)
        .values("template_version__template_id")
        .annotate(sent=Count("pk"), clicks=Count("pk", filter=Q(clicked)))
    )
    stats = {row["template_version__template_id"]: row for row in rows}
    results, best, best_rate = {}, None, -1.0
    for arm in _arms(test):
        row = stats.get(arm.pk, {"sent": 0, "clicks": 0})
        rate = row["clicks"] / row["sent"] if row["sent"] else 0.0
        results[arm.name] = {"sent": row["sent"], "human_clicks": row["clicks"], "click_rate": round(rate, 4)}
        if rate > best_rate:
            best, best_rate = arm, rate
    test.winner, test.decided_at, test.results = best, now, results
    test.save(update_fields=["winner", "decided_at", "results"])
    return best


def ab_split(*, step: Step, enrollment_ids: list[int], now: datetime) -> Split:
    """Which version each due enrollment gets; during the test, those beyond the sample wait."""
    test = ABTest.objects.filter(step=step).select_related("step__template", "winner__current_version").first()
    if test is None:
        return Split()
    if test.decided_at is None and test.started_at and now >= test.started_at + test.decide_after:
        ab_test_decide(test=test, now=now)
    if test.decided_at is not None:
        version = test.winner.current_version if test.winner else None
        return Split(versions={pk: version for pk in enrollment_ids if version is not None})
    if test.started_at is None:
        test.started_at = now
        test.save(update_fields=["started_at"])
    arms = [arm.current_version for arm in _arms(test) if arm.current_version is not None]
    # Only messages of the test fill the sample: those queued before it started belong to no arm.
    taken = _test_messages(test).exclude(status=MessageStatus.SKIPPED).count()
    room = max(0, test.sample_size - taken)
    split = Split(hold_until=test.started_at + test.decide_after)
    for index, pk in enumerate(enrollment_ids[:room]):
        split.versions[pk] = arms[(taken + index) % len(arms)]  # round robin: even arms
    split.held = set(enrollment_ids[room:])
    return split


@transaction.atomic
def ab_test_create(
    *,
    step: Step,
    variants: list[Template],
    sample_size: int,
    decide_after: timedelta,
    user: AbstractBaseUser | None,
) -> ABTest:
    """Test the step's template (arm A) against the variant templates (arms B, C, …).

    The test starts with the next message of the step; mail already queued is not part of it.
    """
    step = Step.objects.select_for_update().select_related("campaign", "template").get(pk=step.pk)
    problems = []
    if ABTest.objects.filter(step=step).exists():
        problems.append(f"Step {step.position} already has an A/B test.")
    arms = [template for template in variants if template.pk != step.template_id]
    if not arms:
        problems.append("Choose at least one variant template other than the step's own.")
    problems += [f"Template “{t.name}” has errors; fix it before testing it." for t in arms if not t.is_valid]
    if sample_size < 2 * (len(arms) + 1):
        problems.append(f"The sample needs at least {2 * (len(arms) + 1)} recipients (two per arm).")
    if decide_after <= timedelta(0):
        problems.append("Choose when to pick the winner.")
    if problems:
        raise ValidationError(problems)
    test = ABTest.objects.create(step=step, sample_size=sample_size, decide_after=decide_after)
    ABVariant.objects.bulk_create(ABVariant(test=test, template=template) for template in arms)
    names = ", ".join(f"“{t.name}”" for t in [step.template, *arms])
    Campaign.objects.filter(pk=step.campaign_id).update(updated_at=timezone.now())  # a fresh campaign report
    if user is not None:
        LogEntry.objects.log_actions(
            user_id=user.pk,
            queryset=[step.campaign],
            action_flag=CHANGE,
            change_message=f"A/B test of step {step.position} set up: {names}, sample of {sample_size}.",
            single_object=True,
        )
    return test
