"""The scheduler tick: enrolment, exits, then advancing due steps in campaign priority order."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from campaigns.journeys.rules import RuleError
from campaigns.journeys.services.advance import due_steps, enrollments_advance
from campaigns.journeys.services.enrollment import enrollments_create
from campaigns.journeys.services.exits import enrollments_exit_on_goals
from campaigns.models import Campaign, CampaignKind, CampaignStatus, Trigger

logger = logging.getLogger(__name__)


def _lock_journeys() -> None:
    """Serialise ticks: the second of two concurrent ticks waits, then sees the first one's rows.

    On PostgreSQL the active campaign rows are locked (always in key order, so no deadlock);
    SQLite runs write transactions one at a time (BEGIN IMMEDIATE in settings).
    """
    list(Campaign.objects.select_for_update().filter(status=CampaignStatus.ACTIVE).order_by("pk").values_list("pk"))


def journeys_tick(*, now: datetime | None = None) -> Counter:
    now = now or timezone.now()
    counts: Counter = Counter()
    campaigns = list(
        Campaign.objects.filter(status=CampaignStatus.ACTIVE)
        .exclude(trigger=Trigger.MANUAL)
        .exclude(kind=CampaignKind.ONE_OFF)
        .order_by("-priority", "pk")
    )
    for campaign in campaigns:
        with transaction.atomic():
            _lock_journeys()
            try:
                with transaction.atomic():
                    counts["enrolled"] += enrollments_create(campaign=campaign, now=now)
            except RuleError as exc:  # one broken segment must not stop the other journeys
                counts["invalid_segments"] += 1
                logger.error("campaign %s not enrolling: invalid segment rules: %s", campaign.pk, exc)
            # Exits after enrolment: an event that arrived late (a cart abandoned two hours ago, and
            # the order placed since) enrols someone who already reached the goal, due at once.
            counts["exited"] += enrollments_exit_on_goals(campaign=campaign, now=now)
    due = due_steps(campaign_ids=[campaign.pk for campaign in campaigns], now=now)
    for campaign in campaigns:
        if campaign.pk not in due:
            continue
        with transaction.atomic():
            _lock_journeys()
            counts.update(enrollments_advance(campaign=campaign, now=now, due_positions=due[campaign.pk]))
    logger.info("journeys tick: %s", dict(counts))
    return counts
