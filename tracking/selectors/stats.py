"""Per message, step and campaign: delivery, human and machine engagement, unsubscribes, complaints.

One aggregate query per level: each message row is judged once through EXISTS subqueries
(no join fan-out), then counted per group.

- "opened (human)": a human open, or a human click (a click implies the mail was opened;
  images are often blocked). Gmail image-proxy opens count as human, Apple MPP ones do not.
- "... (all)": the same with proxy and scanner hits included, so staff see the difference.
- unsubscribes: ConsentChange rows to "unsubscribed" whose detail is "message:<id>".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

from campaigns.models import Message
from customers.models import ConsentChange, EmailStatus
from tracking.models import EspEvent, EventKind, TrackingEvent, Verdict


@dataclass(frozen=True)
class Stats:
    key: int | None
    sent: int
    delivered: int
    bounced: int
    opened_human: int
    clicked_human: int
    opened_all: int
    clicked_all: int
    unsubscribed: int
    complained: int

    @property
    def click_to_open_rate(self) -> float | None:
        return self.clicked_human / self.opened_human if self.opened_human else None

    @property
    def click_to_open_rate_all(self) -> float | None:
        return self.clicked_all / self.opened_all if self.opened_all else None

    def as_dict(self) -> dict:
        return asdict(self) | {
            "click_to_open_rate": self.click_to_open_rate,
            "click_to_open_rate_all": self.click_to_open_rate_all,
        }


def _flags() -> dict[str, Q]:
    events = TrackingEvent.objects.filter(message_id=OuterRef("pk")).exclude(verdict=Verdict.PENDING)
    esp = EspEvent.objects.filter(message_id=OuterRef("pk"))
    human_click = Exists(events.filter(kind=EventKind.CLICK, counts_as_human=True))
    any_click = Exists(events.filter(kind=EventKind.CLICK))
    unsubscribed = ConsentChange.objects.filter(
        customer_id=OuterRef("customer_id"),
        field="email_status",
        new_value=EmailStatus.UNSUBSCRIBED,
        detail=Concat(Value("message:"), Cast(OuterRef("pk"), CharField())),
    )
    return {
        "sent": Q(sent_at__isnull=False),
        "delivered": Q(delivered_at__isnull=False) | Q(Exists(esp.filter(event_type="delivered"))),
        "bounced": Q(Exists(esp.filter(event_type="bounced"))),
        "opened_human": Q(Exists(events.filter(kind=EventKind.OPEN, counts_as_human=True))) | Q(human_click),
        "clicked_human": Q(human_click),
        "opened_all": Q(Exists(events.filter(kind=EventKind.OPEN))) | Q(any_click),
        "clicked_all": Q(any_click),
        "unsubscribed": Q(Exists(unsubscribed)),
        "complained": Q(Exists(esp.filter(event_type="complained"))),
    }


def _grouped(messages: QuerySet[Message], group_by: str) -> dict[int | None, Stats]:
    counts = {name: Count("pk", filter=condition) for name, condition in _flags().items()}
    rows = messages.order_by().values(group_by).annotate(**counts)
    return {row[group_by]: Stats(key=row.pop(group_by), **row) for row in rows}


def message_stats(*, message_ids: list[int]) -> dict[int, Stats]:
    return _grouped(Message.objects.filter(pk__in=message_ids), "id")


def step_stats(*, campaign_id: int) -> dict[int | None, Stats]:
    """Keyed by step id (None: messages sent outside a step)."""
    return _grouped(Message.objects.filter(campaign_id=campaign_id, is_test=False), "step_id")


def campaign_stats(*, campaign_ids: list[int] | None = None) -> dict[int | None, Stats]:
    messages = Message.objects.filter(is_test=False, campaign__isnull=False)
    if campaign_ids is not None:
        messages = messages.filter(campaign_id__in=campaign_ids)
    return _grouped(messages, "campaign_id")
