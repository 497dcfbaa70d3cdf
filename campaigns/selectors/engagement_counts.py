"""Delivery and engagement counts for many messages at once, aggregated from the event side.

Same meaning as tracking.selectors.stats (unique messages: human opens include human clicks,
Gmail proxy opens are human, Apple MPP and scanners are not; "all" includes machines), but
instead of probing each message with EXISTS subqueries it groups the event tables joined to
their messages, so the cost follows the number of events rather than messages × flags. Used
where the message set is large: the dashboard over 90 days.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate

from campaigns.models import Message
from customers.models import ConsentChange, EmailStatus
from tracking.models import EspEvent, EventKind, TrackingEvent, Verdict

COUNTS = (
    "sent",
    "delivered",
    "bounced",
    "opened_human",
    "clicked_human",
    "opened_all",
    "clicked_all",
    "unsubscribed",
    "complained",
)


def _keys(fields: list[str], by_day: bool, prefix: str) -> dict:
    keys = {f"k_{name}": F(prefix + name) for name in fields}
    if by_day:
        keys["k_day"] = TruncDate(prefix + "sent_at")
    return keys


def _add(found: dict, rows, names: list[str], keys: list[str]) -> None:
    for row in rows:
        key = tuple(row[k] for k in keys)
        bucket = found.setdefault(key, dict.fromkeys(COUNTS, 0))
        for name in names:
            bucket[name] += row[name]


def engagement_counts(
    *, where: dict[str, Any], fields: list[str], by_day: bool = False, since: datetime | None = None
) -> dict[tuple, dict[str, int]]:
    """Counts per group of the messages matching `where` (Message lookups, e.g. {"campaign_id": 3}),
    keyed by (field values..., [day sent]).

    The lookups are applied through the event tables' message join (no IN over message ids).
    `since`, when given, bounds the unsubscribe lookup (unsubscribes happen after the send).
    """
    keys = _keys(fields, by_day, "")
    names = list(keys)
    found: dict[tuple, dict[str, int]] = {}
    messages = Message.objects.filter(**where)
    through = {f"message__{lookup}": value for lookup, value in where.items()}
    rows = (
        messages.order_by()
        .annotate(**keys)
        .values(*names)
        .annotate(
            sent=Count("pk", filter=Q(sent_at__isnull=False)),
            delivered=Count("pk", filter=Q(delivered_at__isnull=False)),
        )
    )
    _add(found, rows, ["sent", "delivered"], names)
    human = Q(counts_as_human=True)
    click = Q(kind=EventKind.CLICK)
    rows = (
        TrackingEvent.objects.filter(**through)
        .exclude(verdict=Verdict.PENDING)
        .order_by()
        .annotate(**_keys(fields, by_day, "message__"))
        .values(*names)
        .annotate(
            opened_human=Count("message_id", distinct=True, filter=human),
            clicked_human=Count("message_id", distinct=True, filter=human & click),
            opened_all=Count("message_id", distinct=True),
            clicked_all=Count("message_id", distinct=True, filter=click),
        )
    )
    _add(found, rows, ["opened_human", "clicked_human", "opened_all", "clicked_all"], names)
    # "delivered" also counts a delivery webhook whose timestamp was not copied onto the message.
    rows = (
        EspEvent.objects.filter(**through)
        .order_by()
        .annotate(**_keys(fields, by_day, "message__"))
        .values(*names)
        .annotate(
            bounced=Count("message_id", distinct=True, filter=Q(event_type="bounced")),
            complained=Count("message_id", distinct=True, filter=Q(event_type="complained")),
            delivered=Count(
                "message_id", distinct=True, filter=Q(event_type="delivered", message__delivered_at__isnull=True)
            ),
        )
    )
    _add(found, rows, ["bounced", "complained", "delivered"], names)
    _add(found, _unsubscribed(messages, keys, names, since), ["unsubscribed"], names)
    return found


def _unsubscribed(messages: QuerySet[Message], keys: dict, names: list[str], since: datetime | None) -> list[dict]:
    changes = ConsentChange.objects.filter(
        field="email_status", new_value=EmailStatus.UNSUBSCRIBED, detail__startswith="message:"
    )
    if since is not None:
        changes = changes.filter(created_at__gte=since)
    pairs = {}
    for customer_id, detail in changes.values_list("customer_id", "detail"):
        raw = detail.removeprefix("message:")
        if raw.isdigit():
            pairs[int(raw)] = customer_id
    if not pairs:
        return []
    rows = messages.filter(pk__in=list(pairs)).order_by().annotate(**keys).values("pk", "customer_id", *names)
    return [{**row, "unsubscribed": 1} for row in rows if pairs.get(row["pk"]) == row["customer_id"]]
