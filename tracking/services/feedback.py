"""Unsubscribe and resubscribe from the link in a message.

Every change goes through `customer_set_email_status`, which records a ConsentChange
(who, when, how) and keeps the hashed suppression list in step. The ConsentChange
`detail` is exactly ``message:<id>`` so that unsubscribes can be attributed to the
message, its step and its campaign.
"""

from __future__ import annotations

import enum

from campaigns.models import Message
from customers.models import EmailStatus, SuppressedAddress
from customers.services.suppression import customer_set_email_status, email_hash
from tracking.tokens import read_token
from tracking.unsubscribe_links import UNSUBSCRIBE_PURPOSE

RECIPIENT_ACTOR = "recipient"
SOURCE_LINK = "unsubscribe_link"
SOURCE_ONE_CLICK = "one_click"
SOURCE_RESUBSCRIBE = "resubscribe_link"

# Suppression reasons a recipient may lift themselves by resubscribing.
_SELF_LIFTABLE_REASONS = {EmailStatus.UNSUBSCRIBED.value}


class SubscriptionState(enum.StrEnum):
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    # Bounced, complained or otherwise suppressed: not mailed, and not resubscribable here.
    BLOCKED = "blocked"


def consent_detail_for_message(message_id: int) -> str:
    """The ConsentChange.detail written for a change caused by a message."""
    return f"message:{message_id}"


def unsubscribe_message_from_token(*, token: str) -> Message | None:
    """The message an unsubscribe token names, or None for anything forged, truncated or stale."""
    values = read_token(UNSUBSCRIBE_PURPOSE, token, arity=1)
    if values is None:
        return None
    return Message.objects.select_related("customer").filter(pk=values[0]).first()


def subscription_state(*, message: Message) -> SubscriptionState:
    customer = message.customer
    if customer.email_status == EmailStatus.SUBSCRIBED:
        return SubscriptionState.SUBSCRIBED
    if customer.email_status == EmailStatus.UNSUBSCRIBED and _suppression_is_self_liftable(customer.email):
        return SubscriptionState.UNSUBSCRIBED
    return SubscriptionState.BLOCKED


def message_unsubscribe(*, message: Message, one_click: bool) -> bool:
    """Unsubscribe the recipient of `message`. Idempotent: returns False when nothing changed.

    Bounced or complained addresses are already never mailed; their status is kept as is
    so that a later resubscribe cannot lift the block.
    """
    customer = message.customer
    if customer.email_status != EmailStatus.SUBSCRIBED:
        return False
    return customer_set_email_status(
        customer=customer,
        status=EmailStatus.UNSUBSCRIBED,
        source=SOURCE_ONE_CLICK if one_click else SOURCE_LINK,
        actor=RECIPIENT_ACTOR,
        detail=consent_detail_for_message(message.pk),
    )


def message_resubscribe(*, message: Message) -> SubscriptionState:
    """Resubscribe the recipient of `message` if they unsubscribed themselves.

    Returns the resulting state; bounced, complained or otherwise suppressed addresses
    stay blocked.
    """
    state = subscription_state(message=message)
    if state == SubscriptionState.UNSUBSCRIBED:
        customer_set_email_status(
            customer=message.customer,
            status=EmailStatus.SUBSCRIBED,
            source=SOURCE_RESUBSCRIBE,
            actor=RECIPIENT_ACTOR,
            detail=consent_detail_for_message(message.pk),
        )
        return SubscriptionState.SUBSCRIBED
    return state


def _suppression_is_self_liftable(email: str) -> bool:
    reason = SuppressedAddress.objects.filter(email_hash=email_hash(email)).values_list("reason", flat=True).first()
    return reason is None or reason in _SELF_LIFTABLE_REASONS
