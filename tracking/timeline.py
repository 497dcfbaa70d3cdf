"""Tracking's rows on the customer timeline: opens and clicks with their verdict, and delivery problems."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.urls import reverse

from customers.labels import register_consent_sources
from customers.timeline import TimelineEntry, TimelineLink, register_timeline_source
from tracking.labels import UNSUBSCRIBE_METHODS, esp_event_type_label, reject_reason_label, verdict_label
from tracking.models import EspEvent, EventKind, TrackingEvent

# Delivered is already told by the email's own row; opens and clicks come from TrackingEvent.
_ESP_TYPES_SHOWN = ("bounced", "deferred", "rejected", "failed", "complained", "unsubscribed")


def _message_title(message) -> str:
    subject = message.subject or "(no subject yet)"
    return f"“{subject}”" + (f" ({message.campaign.name})" if message.campaign_id else "")


def _message_link(message_id: int) -> TimelineLink:
    return TimelineLink("Email", reverse("admin:campaigns_message_change", args=[message_id]))


def hit_entries(customer_id: int, until: datetime | None, limit: int) -> Iterator[TimelineEntry]:
    # By the message's customer: a hit not judged yet has no customer of its own.
    events = TrackingEvent.objects.filter(message__customer_id=customer_id)
    if until is not None:
        events = events.filter(occurred_at__lte=until)
    events = events.select_related("message__campaign", "url").order_by("-occurred_at", "-pk")[:limit]
    for event in events:
        links = [_message_link(event.message_id)]
        if event.kind == EventKind.CLICK:
            title = f"Clicked a link in {_message_title(event.message)}"
            if event.is_honeypot:
                title = f"Followed the hidden trap link in {_message_title(event.message)}"
            elif event.url is not None:
                links.insert(0, TimelineLink(event.url.url[:120], event.url.url, external=True))
        else:
            title = f"Opened {_message_title(event.message)}"
        yield TimelineEntry(
            when=event.occurred_at,
            kind=event.kind,
            title=title,
            detail="reported by the email provider" if event.source == "esp" else "",
            links=tuple(links),
            verdict=verdict_label(verdict=event.verdict, reason=event.reason, proxy_kind=event.proxy_kind),
            counts_as_human=event.counts_as_human if event.verdict != "pending" else None,
            key=event.pk,
        )


def esp_entries(customer_id: int, until: datetime | None, limit: int) -> Iterator[TimelineEntry]:
    events = EspEvent.objects.filter(message__customer_id=customer_id, event_type__in=_ESP_TYPES_SHOWN)
    if until is not None:
        events = events.filter(received_at__lte=until)
    for event in events.select_related("message__campaign").order_by("-received_at", "-pk")[:limit]:
        detail = [f"{event.esp.capitalize()}"]
        if event.reject_reason:
            detail.append(reject_reason_label(event.reject_reason))
        if event.description:
            detail.append(event.description[:200])
        links = [_message_link(event.message_id)]
        links.append(TimelineLink("Provider event", reverse("admin:tracking_espevent_change", args=[event.pk])))
        yield TimelineEntry(
            when=event.received_at,
            kind="esp",
            title=f"{esp_event_type_label(event.event_type)}: {_message_title(event.message)}",
            detail=" · ".join(detail),
            links=tuple(links),
            key=event.pk,
        )


def register() -> None:
    register_timeline_source("tracking.hits", hit_entries)
    register_timeline_source("tracking.esp", esp_entries)
    register_consent_sources(UNSUBSCRIBE_METHODS)
    register_consent_sources({"webhook:": "Email provider webhook ({detail})"})
