"""Opens and clicks reported by the ESP's webhooks (anymail's tracking signal).

Stored as pending tracking events with the ESP's machine flags (SendGrid sg_machine_open,
Brevo proxy_open, Mailgun client-info.bot); the periodic task judges them like our own hits.
A replayed webhook (same ESP event id) is stored once.
"""

from __future__ import annotations

import hashlib
from typing import Any

from anymail.signals import tracking
from django.dispatch import receiver

from campaigns.models import Message
from customers.signals import shop_event_recorded
from tracking.services.engagement import customer_engagement_add
from tracking.services.tracking_events import tracking_event_record_from_esp
from tracking.verdicts import esp_flags_from_event

_KINDS = {"opened": "open", "clicked": "click"}


def _message_id(event: Any) -> int | None:
    raw_id = str((event.metadata or {}).get("message_id", "")).strip()
    if raw_id.isdigit() and Message.objects.filter(pk=int(raw_id)).exists():
        return int(raw_id)
    if event.message_id:
        return (
            Message.objects.filter(esp_message_id=str(event.message_id)[:128])
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
        )
    return None


def _event_id(event: Any, esp_name: str) -> str:
    if event.event_id:
        return str(event.event_id)
    stamp = event.timestamp.isoformat() if event.timestamp else ""
    basis = "|".join([esp_name, str(event.message_id or ""), str(event.event_type), stamp, str(event.click_url or "")])
    return "derived:" + hashlib.sha256(basis.encode()).hexdigest()


@receiver(tracking, dispatch_uid="tracking.esp_opens_clicks")
def on_esp_open_or_click(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    kind = _KINDS.get(str(event.event_type))
    if kind is None:
        return
    message_id = _message_id(event)
    if message_id is None:
        return
    tracking_event_record_from_esp(
        esp=esp_name.lower(),
        event_id=_event_id(event, esp_name.lower()),
        kind=kind,
        message_id=message_id,
        occurred_at=event.timestamp,
        user_agent=str(event.user_agent or ""),
        url=str(event.click_url or "") if kind == "click" else "",
        esp_flags=esp_flags_from_event(event.esp_event),
    )


_SCORED_SHOP_EVENTS = {
    "order_placed": "order",
    "cart_updated": "activity",
    "checkout_started": "activity",
    "product_viewed": "activity",
    "trial_started": "activity",
    "trial_converted": "activity",
}


@receiver(shop_event_recorded)
def on_shop_event(sender: Any, *, customer_id: int, event_type: str, occurred_at: Any, **kwargs: Any) -> None:
    """Site activity and purchases raise the engagement score as they arrive (the nightly
    recompute rebuilds it from the same rows)."""
    kind = _SCORED_SHOP_EVENTS.get(event_type)
    if kind is not None:
        customer_engagement_add(customer_id=customer_id, kind=kind, occurred_at=occurred_at)
