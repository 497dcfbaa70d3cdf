"""Journeys on the customer timeline: when the customer entered a journey, and when and why they left it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.urls import reverse

from campaigns.models import Enrollment, EnrollmentStatus
from customers.models import ActivityType
from customers.timeline import TimelineEntry, TimelineLink, register_timeline_source

GOAL_WORDS = {
    "order_placed": "placed an order",
    ActivityType.CART_UPDATED.value: "updated their cart",
    ActivityType.CHECKOUT_STARTED.value: "started checkout",
    ActivityType.PRODUCT_VIEWED.value: "viewed a product",
    ActivityType.TRIAL_STARTED.value: "started a trial",
    ActivityType.TRIAL_CONVERTED.value: "converted their trial",
}


def exit_reason_words(reason: str) -> str:
    """Turn "goal: order_placed" into "reached the goal: placed an order"."""
    kind, _, rest = reason.partition(":")
    if kind == "goal" and rest:
        event = rest.strip()
        return f"reached the goal: {GOAL_WORDS.get(event, event.replace('_', ' '))}"
    return reason.replace("_", " ") if reason else "reason not recorded"


def _links(enrollment: Enrollment) -> tuple[TimelineLink, ...]:
    campaign_url = reverse("admin:campaigns_campaign_change", args=[enrollment.campaign_id])
    return (
        TimelineLink(f"Campaign: {enrollment.campaign.name}", campaign_url),
        TimelineLink("Enrollment", reverse("admin:campaigns_enrollment_change", args=[enrollment.pk])),
    )


def enrollment_entries(customer_id: int, until: datetime | None, limit: int) -> Iterator[TimelineEntry]:
    enrollments = Enrollment.objects.filter(customer_id=customer_id).select_related("campaign")
    entered, ended = enrollments, enrollments.filter(ended_at__isnull=False)
    if until is not None:
        entered, ended = entered.filter(entered_at__lte=until), ended.filter(ended_at__lte=until)
    for enrollment in entered.order_by("-entered_at", "-pk")[:limit]:
        detail = "held out: gets no mail, so the campaign's lift can be measured" if enrollment.is_holdout else ""
        yield TimelineEntry(
            when=enrollment.entered_at,
            kind="journey",
            title=f"Entered the journey {enrollment.campaign.name}",
            detail=detail,
            links=_links(enrollment),
            key=enrollment.pk * 2,
        )
    for enrollment in ended.order_by("-ended_at", "-pk")[:limit]:
        if enrollment.status == EnrollmentStatus.EXITED:
            title = f"Left the journey {enrollment.campaign.name}: {exit_reason_words(enrollment.exit_reason)}"
        else:
            title = f"Finished the journey {enrollment.campaign.name}: every step done"
        yield TimelineEntry(
            when=enrollment.ended_at,
            kind="journey",
            title=title,
            links=_links(enrollment),
            key=enrollment.pk * 2 + 1,
        )


def register() -> None:
    register_timeline_source("journeys.enrollments", enrollment_entries)
