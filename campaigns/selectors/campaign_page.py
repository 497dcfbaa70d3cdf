"""Reads for the campaign page: the journey in words, the per-step funnel, A/B arms, waits and skips.

Live progress is in campaign_progress.py, results over time in campaign_results.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When
from django.db.models.functions import Left, StrIndex

from campaigns.journeys.models import ABTest, Deferral
from campaigns.journeys.rules import RuleError
from campaigns.journeys.selectors.results import campaign_attributed_revenue, campaign_incrementality
from campaigns.journeys.selectors.segments import segment_count
from campaigns.journeys.services.arbitration import SUNSET_WIN_BACK_EXCEPTION
from campaigns.models import Campaign, CampaignKind, CampaignStatus, Message, MessageStatus, Segment, Step
from campaigns.selectors.campaign_progress import cap_reason_words, progress_by_step
from campaigns.selectors.campaign_results import campaign_results_by_day
from campaigns.selectors.engagement_counts import engagement_counts
from tracking.selectors.stats import Stats


def duration_words(value: timedelta) -> str:
    """3 days 4 hours, 30 minutes, immediately."""
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "immediately"
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts[:2]) or "under a minute"


def _condition_words(condition: dict) -> str:
    if not condition:
        return "everyone still in the journey"
    words = []
    for key, value in condition.items():
        label = key.replace("_", " ")
        words.append(f"{label} {value} hours" if isinstance(value, int) and not isinstance(value, bool) else label)
        if value is False:
            words[-1] = f"not ({label})"
    return "only if " + " and ".join(words)


def _offer_words(offer: dict) -> str:
    if not offer:
        return ""
    source = f"pool “{offer['pool']}”" if offer.get("pool") else f"codes {offer.get('code_prefix', '')}-…"
    return offer.get("description") or f"{offer.get('type')} {offer.get('value', '')} ({source})".strip()


@dataclass(frozen=True)
class FunnelRow:
    step: Step
    delay_words: str
    condition_words: str
    offer_words: str
    planned: int
    queued: int
    waiting: int
    skipped: int
    suppressed: int
    failed: int
    stats: Stats | None
    conversions: int
    revenue: Decimal
    ab_test: ABTest | None = None

    def rate(self, name: str) -> float | None:
        """Human opens and clicks per delivered message (per sent while no delivery is reported)."""
        if self.stats is None:
            return None
        base = self.stats.delivered or self.stats.sent
        return getattr(self.stats, name) / base if base else None

    @property
    def delivered_rate(self) -> float | None:
        return self.stats.delivered / self.stats.sent if self.stats and self.stats.sent else None

    @property
    def open_rate(self) -> float | None:
        return self.rate("opened_human")

    @property
    def click_rate(self) -> float | None:
        return self.rate("clicked_human")


def campaign_funnel(*, campaign: Campaign) -> list[FunnelRow]:
    """One row per step: the journey in words and its funnel, planned → sent → delivered → human
    opens → human clicks → attributed orders and revenue."""
    steps = list(campaign.steps.select_related("template", "ab_test").order_by("position"))
    statuses = {
        row["step_id"]: row
        for row in Message.objects.filter(campaign=campaign, is_test=False)
        .order_by()
        .values("step_id")
        .annotate(
            planned=Count("pk", filter=~Q(status=MessageStatus.SKIPPED)),
            skipped=Count("pk", filter=Q(status=MessageStatus.SKIPPED)),
            suppressed=Count("pk", filter=Q(status=MessageStatus.SUPPRESSED)),
            failed=Count("pk", filter=Q(status=MessageStatus.FAILED)),
        )
    }
    waiting = progress_by_step(campaign=campaign)
    # Same figures as tracking's step_stats, grouped from the event side (fast on big campaigns).
    engagement = engagement_counts(where={"campaign_id": campaign.pk, "is_test": False}, fields=["step_id"])
    stats = {key[0]: Stats(key[0], **row) for key, row in engagement.items()}
    revenue = {row["step_id"]: row for row in campaign_attributed_revenue(campaign)["steps"]}
    rows = []
    for step in steps:
        count, money, wait = statuses.get(step.pk, {}), revenue.get(step.pk, {}), waiting.get(step.pk, {})
        anchor = "after entering" if step.delay_from == "entry" else "after the previous step"
        delay = duration_words(step.delay)
        rows.append(
            FunnelRow(
                step=step,
                delay_words=delay if delay == "immediately" else f"{delay} {anchor}",
                condition_words=_condition_words(step.condition),
                offer_words=_offer_words(step.offer),
                planned=count.get("planned", 0),
                queued=wait.get("queued", 0),
                waiting=wait.get("waiting", 0),
                skipped=count.get("skipped", 0),
                suppressed=count.get("suppressed", 0),
                failed=count.get("failed", 0),
                stats=stats.get(step.pk),
                conversions=money.get("orders", 0),
                revenue=money.get("revenue") or Decimal("0"),
                ab_test=getattr(step, "ab_test", None),
            )
        )
    return rows


def campaign_ab_results(*, campaign: Campaign) -> list[dict]:
    """Per A/B-tested step, every arm (listed from the moment the test exists) with its sent, human
    opens and clicks. Only messages sent as part of the test count: those queued before it started
    belong to no arm."""
    tests = (
        ABTest.objects.filter(step__campaign=campaign)
        .select_related("step__template", "winner")
        .prefetch_related("variants__template")
        .order_by("step__position")
    )
    results = []
    for test in tests:
        arms_templates = [test.step.template, *(v.template for v in test.variants.all())]
        counted: dict = {}
        if test.started_at is not None:
            where = {
                "step_id": test.step_id,
                "is_test": False,
                "template_version__isnull": False,
                "created_at__gte": test.started_at,
            }
            counts = engagement_counts(where=where, fields=["template_version__template_id"])
            counted = {key[0]: Stats(key[0], **row) for key, row in counts.items()}
        arms = []
        for index, template in enumerate(arms_templates):
            row = counted.get(template.pk)
            sent = row.sent if row else 0
            clicks = row.clicked_human if row else 0
            base = (row.delivered or row.sent) if row else 0
            arms.append(
                {
                    "label": f"Arm {chr(ord('A') + index)}",
                    "template": template,
                    "subject": template.subject,
                    "sent": sent,
                    "opened_human": row.opened_human if row else 0,
                    "clicked_human": clicks,
                    "click_rate": clicks / base if base else None,
                    "winner": test.winner_id == template.pk,
                }
            )
        results.append({"test": test, "arms": arms})
    return results


SKIP_REASONS = {
    "holdout": "In the holdout group (not mailed, to measure lift)",
    "condition not met": "Step condition not met",
    "sunset": "Sunset: not engaged for a long time",
    "frequency cap": "Frequency cap: waited too long, expired",
    "frequency_cap": "Frequency cap: waited too long, expired",
    "offer": "No coupon code left in the pool",
    "invalid step settings": "Step settings are invalid",
    "no reason recorded": "No reason recorded",
}
DEFERRAL_OUTCOMES = {"": "Still waiting", "sent": "Sent later", "expired": "Expired (skipped)", "preempted": "Moved"}


def skip_reason_words(reason: str) -> str:
    """The short reason code before ':' in Message.error, in staff's words."""
    return SKIP_REASONS.get(reason, reason[:1].upper() + reason[1:].replace("_", " "))


def campaign_waits_and_skips(*, campaign: Campaign) -> dict[str, list[dict]]:
    """Frequency-cap deferrals (by reason and outcome) and skipped messages (by the reason before ':')."""
    deferrals = [
        {
            **row,
            "reason_label": cap_reason_words(row["reason"]),
            "outcome_label": DEFERRAL_OUTCOMES.get(row["outcome"], row["outcome"]),
        }
        for row in Deferral.objects.filter(step__campaign=campaign)
        .values("reason", "outcome")
        .annotate(enrollments=Count("pk"), times=Sum("times"))
        .order_by("-enrollments")
    ]
    colon = StrIndex("error", Value(":"))
    reason = Case(
        When(error="", then=Value("no reason recorded")),
        When(Q(error__contains=":"), then=Left("error", colon - 1)),
        default=F("error"),
        output_field=CharField(),
    )
    skipped = [
        {**row, "label": skip_reason_words(row["reason"])}
        for row in Message.objects.filter(campaign=campaign, status=MessageStatus.SKIPPED, is_test=False)
        .annotate(reason=reason)
        .values("reason")
        .annotate(messages=Count("pk"))
        .order_by("-messages")
    ]
    return {"deferrals": deferrals, "skipped": skipped}


def campaign_sunset_exceptions(*, campaign: Campaign) -> int:
    """Messages of this campaign that went to sunset customers under the win-back exception (once per lapse)."""
    if campaign.kind != CampaignKind.WIN_BACK:
        return 0
    return Message.objects.filter(
        campaign=campaign, is_test=False, context__sunset_exception=SUNSET_WIN_BACK_EXCEPTION
    ).count()


def campaign_report(*, campaign: Campaign, fresh: bool = False) -> dict:
    """Funnel, holdout comparison, A/B arms, waits and skips: cached per campaign, recomputed by beat."""
    # Saving the campaign (its form with the steps inline, or an action) bumps updated_at: a new key.
    key = f"campaign-report:v2:{campaign.pk}:{campaign.updated_at.timestamp()}"
    report = None if fresh else cache.get(key)
    if report is None:
        report = {
            "funnel": campaign_funnel(campaign=campaign),
            "lift": campaign_incrementality(campaign),
            "ab_results": campaign_ab_results(campaign=campaign),
            "waits": campaign_waits_and_skips(campaign=campaign),
            "by_day": campaign_results_by_day(campaign=campaign),
            "revenue_total": campaign_attributed_revenue(campaign),
        }
        cache.set(key, report, settings.ADMIN_DASHBOARD_CACHE_SECONDS)
    return report


def campaign_reports_warm() -> int:
    """Recompute the reports of running campaigns, so their pages open from the cache."""
    running = Campaign.objects.filter(status__in=[CampaignStatus.ACTIVE, CampaignStatus.PAUSED])
    for campaign in running:
        campaign_report(campaign=campaign, fresh=True)
    return running.count()


def segment_audience_count(*, segment: Segment) -> int | None:
    """How many customers match the segment now (cached briefly; None when its rules are invalid)."""
    key = f"segment-audience:{segment.pk}:{segment.updated_at.timestamp()}"
    found = cache.get(key)
    if found is None:
        try:
            found = segment_count(segment.rules)
        except RuleError:
            return None
        cache.set(key, found, settings.ADMIN_DASHBOARD_CACHE_SECONDS)
    return found


def campaign_audience_count(*, campaign: Campaign) -> int | None:
    """The campaign's audience now (None without a segment)."""
    return segment_audience_count(segment=campaign.segment) if campaign.segment_id else None


def campaign_status_counts(*, campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Messages per status for a page of campaigns: one grouped query, cached briefly per page."""
    if not campaign_ids:
        return {}
    key = "campaign-status-counts:" + ",".join(map(str, sorted(campaign_ids)))
    found = cache.get(key)
    if found is None:
        found = {pk: {} for pk in campaign_ids}
        rows = (
            Message.objects.filter(campaign_id__in=campaign_ids, is_test=False)
            .order_by()
            .values_list("campaign_id", "status")
            .annotate(n=Count("pk"))
        )
        for campaign_id, status, n in rows:
            found[campaign_id][status] = n
        cache.set(key, found, settings.ADMIN_DASHBOARD_CACHE_SECONDS)
    return found


def campaign_history(*, campaign: Campaign, limit: int = 20) -> list[LogEntry]:
    """The campaign's audit trail, newest first: who activated, paused, resumed, archived, edited it."""
    content_type = ContentType.objects.get_for_model(Campaign, for_concrete_model=False)
    return list(
        LogEntry.objects.filter(content_type=content_type, object_id=str(campaign.pk))
        .select_related("user")
        .order_by("-action_time")[:limit]
    )
