"""ESP webhook events: record fast in the request, apply the effects later in a worker.

Recording is deduplicated by the ESP's event id (or a stable derived id when the ESP
gives none), so a replayed webhook changes nothing. Applying an event is idempotent too:
it runs once per EspEvent row (guarded by `processed_at` under a row lock) and every
effect is itself a no-op when already applied.

Effects:
- delivered → Message.delivered_at (first delivery wins).
- bounced (hard) → customer bounced and address suppressed. The Message keeps its
  status "sent" (the ESP accepted it); the EspEvent row linked to it is the bounce record.
- deferred, and Postmark's "SoftBounce" (which anymail reports as bounced) → nothing.
- temporary block → nothing but the record (counted on the dashboard's deliverability panel):
  the receiving server refused the mail for a while because of the sender's reputation or
  content (SendGrid `bounce` with `type: "blocked"`, Postmark `Blocked`). The address is
  fine: suppressing it would lose a good subscriber for the sender's problem.
- complained → customer complained and address suppressed.
- rejected → address suppressed (reason "rejected"), and the customer's status follows
  the reject reason (spam → complained, unsubscribed → unsubscribed, others → bounced).
- unsubscribed (at the ESP) → customer unsubscribed.
- subscribed (at the ESP) → nothing: resubscribing is done by the recipient on our page.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import Message
from customers.models import Customer, EmailStatus, SuppressedAddress, normalise_email
from customers.services.suppression import address_suppress, customer_set_email_status, email_hash
from tracking.models import EspEvent

logger = logging.getLogger(__name__)

SOFT_BOUNCE = "deferred"
TEMPORARY_BLOCK = "temporary_block"
_STATUS_FOR_EVENT = {
    "bounced": EmailStatus.BOUNCED,
    "complained": EmailStatus.COMPLAINED,
    "unsubscribed": EmailStatus.UNSUBSCRIBED,
}
_STATUS_FOR_REJECT_REASON = {
    "spam": EmailStatus.COMPLAINED,
    "unsubscribed": EmailStatus.UNSUBSCRIBED,
}
# A worse status is never downgraded by a later, milder event.
_SEVERITY = {
    EmailStatus.SUBSCRIBED: 0,
    EmailStatus.UNSUBSCRIBED: 1,
    EmailStatus.BOUNCED: 2,
    EmailStatus.COMPLAINED: 3,
}


def esp_event_record(*, event: Any, esp_name: str) -> EspEvent | None:
    """Store one anymail tracking event. Returns None for a replay of an event already stored.

    `event` is an anymail AnymailTrackingEvent. The recipient is stored only as a hash;
    the raw payload is kept as the ESP sent it (it is never logged).
    """
    esp = esp_name.lower()
    recipient = normalise_email(event.recipient or "")
    recipient_hash = email_hash(recipient) if recipient else ""
    esp_message_id = str(event.message_id or "")[:128]
    event_type = _normalised_type(esp, event)
    row = EspEvent(
        event_id=_event_id(esp, event, recipient_hash),
        esp=esp[:32],
        event_type=event_type[:32],
        message=_message_for(metadata=event.metadata or {}, esp_message_id=esp_message_id),
        esp_message_id=esp_message_id,
        recipient_hash=recipient_hash,
        reject_reason=str(event.reject_reason or "")[:64],
        description=str(event.description or event.mta_response or ""),
        occurred_at=event.timestamp,
        raw=_json_safe(event.esp_event),
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return None
    return row


@transaction.atomic
def esp_event_process(*, esp_event_id: int) -> bool:
    """Apply one recorded event's effects. Returns False when already processed (or gone)."""
    event = EspEvent.objects.select_for_update().filter(pk=esp_event_id).first()
    if event is None or event.processed_at is not None:
        return False
    handler = _HANDLERS.get(event.event_type)
    if handler is not None:
        handler(event)
    event.processed_at = timezone.now()
    event.save(update_fields=["processed_at"])
    return True


def _on_delivered(event: EspEvent) -> None:
    if event.message_id is None:
        return
    Message.objects.filter(pk=event.message_id, delivered_at__isnull=True).update(
        delivered_at=event.occurred_at or event.received_at
    )


def _on_suppressing(event: EspEvent) -> None:
    status = _STATUS_FOR_EVENT[event.event_type]
    _customer_worsen_status(event, status)


def _on_rejected(event: EspEvent) -> None:
    customer = _customer_for(event)
    if customer is not None:
        address_suppress(email=customer.email, reason="rejected")
    elif event.recipient_hash:
        _suppress_hash(event.recipient_hash, reason="rejected")
    status = _STATUS_FOR_REJECT_REASON.get(event.reject_reason, EmailStatus.BOUNCED)
    _customer_worsen_status(event, status, customer=customer)


_HANDLERS: dict[str, Callable[[EspEvent], None]] = {
    "delivered": _on_delivered,
    "bounced": _on_suppressing,
    "complained": _on_suppressing,
    "unsubscribed": _on_suppressing,
    "rejected": _on_rejected,
}


def _customer_worsen_status(event: EspEvent, status: str, *, customer: Customer | None = None) -> None:
    customer = customer or _customer_for(event)
    if customer is None:
        # Not (or no longer) a customer: still make sure the address is never mailed.
        if event.recipient_hash:
            _suppress_hash(event.recipient_hash, reason=status)
        return
    if _SEVERITY.get(customer.email_status, 0) >= _SEVERITY[status]:
        return
    customer_set_email_status(
        customer=customer,
        status=status,
        source=f"webhook:{event.esp}",
        actor=event.esp,
        detail=f"message:{event.message_id}" if event.message_id else f"esp_event:{event.pk}",
    )


def _customer_for(event: EspEvent) -> Customer | None:
    if event.message_id is not None:
        customer = Customer.objects.filter(messages__pk=event.message_id).first()
        if customer is not None:
            return customer
    if not event.recipient_hash:
        return None
    # The hash is the only recipient we keep; match it against the one address the raw names.
    for email in _raw_addresses(event.raw):
        if email_hash(email) == event.recipient_hash:
            return Customer.objects.filter(email=normalise_email(email)).first()
    return None


def _suppress_hash(recipient_hash: str, *, reason: str) -> None:
    SuppressedAddress.objects.get_or_create(email_hash=recipient_hash, defaults={"reason": reason})


def _message_for(*, metadata: dict, esp_message_id: str) -> Message | None:
    raw_id = str(metadata.get("message_id", "")).strip()
    if raw_id.isdigit():
        message = Message.objects.filter(pk=int(raw_id)).first()
        if message is not None:
            return message
    if esp_message_id:
        return Message.objects.filter(esp_message_id=esp_message_id).order_by("-pk").first()
    return None


def _normalised_type(esp: str, event: Any) -> str:
    event_type = str(event.event_type or "unknown")
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    if esp == "postmark" and event_type == "bounced" and raw.get("Type") == "SoftBounce":
        return SOFT_BOUNCE
    if _is_temporary_block(esp, raw):
        return TEMPORARY_BLOCK
    return event_type


def _is_temporary_block(esp: str, raw: dict) -> bool:
    """A block by the receiving server (reputation, content, rate), not a fault of the address.

    anymail reports SendGrid's blocks as "bounced" and Postmark's as "rejected"; both ESPs
    send the recipient's own failures (unknown mailbox) under other types.
    """
    if esp == "sendgrid":
        return raw.get("event") == "bounce" and str(raw.get("type", "")).lower() == "blocked"
    if esp == "postmark":
        return raw.get("RecordType") == "Bounce" and (raw.get("Type") == "Blocked" or raw.get("TypeCode") == 100006)
    return False


def _event_id(esp: str, event: Any, recipient_hash: str) -> str:
    if event.event_id:
        value = f"{esp}:{event.event_id}"
        if len(value) <= 255:
            return value
        return f"{esp}:sha256:{hashlib.sha256(value.encode()).hexdigest()}"
    timestamp = event.timestamp.isoformat() if event.timestamp else ""
    basis = "|".join([esp, str(event.message_id or ""), str(event.event_type or ""), timestamp, recipient_hash])
    return f"{esp}:derived:{hashlib.sha256(basis.encode()).hexdigest()}"


def _json_safe(value: Any) -> Any:
    if hasattr(value, "lists"):  # QueryDict from form-encoded webhooks
        value = {key: values if len(values) > 1 else values[0] for key, values in value.lists()}
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return {"unparsed": str(value)}


def _raw_addresses(raw: Any) -> list[str]:
    """Email-looking strings anywhere in the raw payload (to re-find the recipient by hash)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str) and "@" in node and len(node) <= 254:
            found.append(node)

    walk(raw)
    return found
