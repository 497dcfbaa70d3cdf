"""Reads for the send path: what can be claimed, what is in doubt, how a campaign is doing."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from campaigns.journeys.selectors.segments import segment_customers
from campaigns.models import Campaign, CampaignStatus, Message, MessageStatus
from customers.models import Customer
from customers.selectors import customers_mailable

# Rows of these campaigns stay queued until staff resume them.
HELD_CAMPAIGN_STATUSES = (CampaignStatus.PAUSED, CampaignStatus.ARCHIVED)


def campaign_send_audience(*, campaign: Campaign) -> QuerySet[Customer]:
    """Who "send now" mails: the campaign's segment (everyone without one), mailable now.
    Raises campaigns.journeys.rules.RuleError when the segment's rules are invalid."""
    return customers_mailable(segment_customers(campaign.segment))


def campaign_send_audience_new(*, campaign: Campaign) -> QuerySet[Customer]:
    """The part of the send-now audience this campaign has not planned yet: who pressing it again would add."""
    planned = Message.objects.filter(campaign=campaign, customer=OuterRef("pk"), is_test=False)
    return campaign_send_audience(campaign=campaign).exclude(Exists(planned))


def messages_claimable(*, now: datetime) -> QuerySet[Message]:
    """Queued messages that are due and whose campaign is not paused or archived, oldest first."""
    return (
        Message.objects.filter(status=MessageStatus.QUEUED)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .exclude(campaign__status__in=HELD_CAMPAIGN_STATUSES)
        .order_by("id")
    )


def messages_for_delivery(*, claim_token: str) -> QuerySet[Message]:
    """The rows one claim won, with everything rendering needs in one query."""
    return (
        Message.objects.filter(claim_token=claim_token, status=MessageStatus.SENDING)
        .select_related(
            "customer",
            "campaign",
            "step__template__current_version",
            "template_version",
        )
        .order_by("id")
    )


def messages_stuck_sending(*, claimed_before: datetime) -> QuerySet[Message]:
    """Claimed so long ago that the worker must have died: the ESP may or may not have the mail."""
    return Message.objects.filter(status=MessageStatus.SENDING, claimed_at__lt=claimed_before).order_by("id")


def messages_unknown_unchecked(*, claimed_before: datetime) -> QuerySet[Message]:
    """Unknown outcomes the ESP has not been asked about yet, or whose 'not found' awaits a second look."""
    return Message.objects.filter(
        Q(esp_checked_at__isnull=True) | Q(esp_not_found_at__isnull=False),
        status=MessageStatus.UNKNOWN,
        claimed_at__lt=claimed_before,
    ).order_by("id")


def messages_unknown(*, campaign: Campaign | None = None) -> QuerySet[Message]:
    qs = Message.objects.filter(status=MessageStatus.UNKNOWN)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    return qs.select_related("customer", "campaign").order_by("id")


def campaign_message_counts(*, campaign: Campaign) -> dict[str, int]:
    """Messages of a campaign by status, every status present (zero when none)."""
    counts = {status: 0 for status in MessageStatus.values}
    rows = Message.objects.filter(campaign=campaign).values("status").annotate(n=Count("id"))
    counts.update({row["status"]: row["n"] for row in rows})
    return counts
