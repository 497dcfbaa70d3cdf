"""Campaigns' rows on the customer timeline: every email, with its campaign and what became of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse

from campaigns.models import Message, MessageStatus
from customers.labels import register_consent_sources
from customers.timeline import TimelineEntry, TimelineLink, register_timeline_reference, register_timeline_source

_TITLES = {
    MessageStatus.SENT: "Sent {subject}",
    MessageStatus.QUEUED: "Waiting to send {subject}",
    MessageStatus.SENDING: "Sending {subject}",
    MessageStatus.FAILED: "Could not send {subject}",
    MessageStatus.SUPPRESSED: "Not sent (address suppressed): {subject}",
    MessageStatus.SKIPPED: "Not sent (skipped): {subject}",
    MessageStatus.UNKNOWN: "Sending outcome unknown: {subject}",
}


def _subject(message: Message) -> str:
    if message.subject:
        return f"“{message.subject}”"
    if message.step_id and message.step.template_id:
        return f"“{message.step.template.name}” (template)"
    return "an email"


def message_label(message: Message) -> str:
    label = _subject(message)
    if message.campaign_id:
        label += f" from {message.campaign.name}"
        if message.step_id:
            label += f", step {message.step.position}"
    return label


def message_entries(customer_id: int, until: datetime | None, limit: int) -> Iterator[TimelineEntry]:
    messages = Message.objects.filter(customer_id=customer_id).annotate(
        at=Coalesce(F("sent_at"), F("failed_at"), F("created_at"))
    )
    if until is not None:
        messages = messages.filter(at__lte=until)
    messages = messages.select_related("campaign", "step__template").order_by("-at", "-pk")[:limit]
    for message in messages:
        title = _TITLES.get(message.status, "{subject}").format(subject=_subject(message))
        detail = []
        if message.campaign_id:
            detail.append(message.campaign.name + (f", step {message.step.position}" if message.step_id else ""))
        if message.is_test:
            detail.append("test send")
        if message.error and message.status != MessageStatus.SENT:
            detail.append(message.error[:200])
        links = [TimelineLink("Email", reverse("admin:campaigns_message_change", args=[message.pk]))]
        if message.campaign_id:
            url = reverse("admin:campaigns_campaign_change", args=[message.campaign_id])
            links.append(TimelineLink(f"Campaign: {message.campaign.name}", url))
        yield TimelineEntry(
            when=message.at,
            kind="message",
            title=title,
            detail=" · ".join(detail),
            links=tuple(links),
            key=message.pk,
        )


def message_links(ids: set[int]) -> dict[int, TimelineLink]:
    """For "message:12" in a consent change: the email that caused it, in words."""
    messages = Message.objects.filter(pk__in=ids).select_related("campaign", "step__template")
    return {
        m.pk: TimelineLink(f"From {message_label(m)}", reverse("admin:campaigns_message_change", args=[m.pk]))
        for m in messages
    }


def register() -> None:
    register_timeline_source("campaigns.messages", message_entries)
    register_timeline_reference("message", message_links)
    register_consent_sources({"esp_reject": "Rejected by the email provider when sending"})
