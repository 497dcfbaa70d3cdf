"""Give pending open/click events their verdict and feed the human ones to engagement scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from campaigns.models import Message
from tracking.models import EventSource, TrackingEvent, Verdict
from tracking.services.engagement import Contribution, engagement_apply, weight_for
from tracking.verdicts import CLICK, OPEN, SCANNER, Hit, MessageHistory, Thresholds, judge_and_remember

_FIELDS = ["verdict", "reason", "proxy_kind", "counts_as_human", "customer"]


@dataclass
class _Click:
    at: datetime
    event: TrackingEvent | None  # pending event judged in this run
    event_id: int | None  # already-judged event in the database
    counts_as_human: bool


@dataclass
class _Context:
    customer_id: int | None
    history: MessageHistory
    clicks: list[_Click] = field(default_factory=list)


def _contexts(message_ids: set[int]) -> dict[int, _Context]:
    contexts = {
        row["id"]: _Context(row["customer_id"], MessageHistory(row["sent_at"], row["delivered_at"]))
        for row in Message.objects.filter(pk__in=message_ids).values("id", "customer_id", "sent_at", "delivered_at")
    }
    judged = (
        TrackingEvent.objects.filter(message_id__in=message_ids, is_honeypot=False)
        .exclude(verdict=Verdict.PENDING)
        .values_list("id", "message_id", "kind", "url_id", "occurred_at", "verdict", "counts_as_human")
        .order_by("occurred_at")
    )
    for event_id, message_id, kind, url_id, at, verdict, human in judged:
        ctx = contexts[message_id]
        if kind == OPEN and verdict != SCANNER:
            ctx.history.opens.append(at)
        elif kind == CLICK:
            ctx.history.clicks.append((at, url_id))
            ctx.clicks.append(_Click(at, None, event_id, human))
    return contexts


def _hit(event: TrackingEvent) -> Hit:
    return Hit(
        kind=event.kind,
        occurred_at=event.occurred_at,
        method=event.method or "GET",
        user_agent=event.user_agent,
        network=event.network,
        url_id=event.url_id,
        is_honeypot=event.is_honeypot,
        esp_flags=event.esp_flags or {},
        from_esp=event.source == EventSource.ESP,
    )


def _reclassify_burst(
    ctx: _Context, at: datetime, window: timedelta, withdrawn: list[Contribution], db_ids: list[int]
) -> None:
    """A burst was found: the earlier clicks inside it were the same scanner."""
    for click in ctx.clicks:
        if abs(click.at - at) > window:
            continue
        if click.event is not None:
            click.event.verdict, click.event.reason = SCANNER, "click_burst"
            click.event.proxy_kind, click.event.counts_as_human = "", False
        elif click.event_id is not None:
            db_ids.append(click.event_id)
            if click.counts_as_human:
                withdrawn.append((ctx.customer_id, click.at, -weight_for(CLICK)))
        click.counts_as_human = False


def tracking_events_classify(*, limit: int = 5000) -> int:
    """Judge up to `limit` pending events, oldest first. Returns how many were judged."""
    thresholds = Thresholds.from_settings()
    window = timedelta(seconds=thresholds.burst_seconds)
    with transaction.atomic():
        pending = list(
            TrackingEvent.objects.select_for_update(skip_locked=True)
            .filter(verdict=Verdict.PENDING)
            .order_by("occurred_at", "id")[:limit]
        )
        if not pending:
            return 0
        contexts = _contexts({e.message_id for e in pending})
        withdrawn: list[Contribution] = []
        burst_db_ids: list[int] = []
        for event in pending:
            ctx = contexts[event.message_id]
            judgement = judge_and_remember(_hit(event), ctx.history, thresholds)
            if judgement.reason == "click_burst":
                _reclassify_burst(ctx, event.occurred_at, window, withdrawn, burst_db_ids)
            event.verdict, event.reason = judgement.verdict, judgement.reason
            event.proxy_kind, event.counts_as_human = judgement.proxy_kind, judgement.counts_as_human
            event.customer_id = ctx.customer_id
            if event.kind == CLICK and not event.is_honeypot:
                ctx.clicks.append(_Click(event.occurred_at, event, None, judgement.counts_as_human))
        TrackingEvent.objects.bulk_update(pending, _FIELDS, batch_size=500)
        if burst_db_ids:
            TrackingEvent.objects.filter(pk__in=burst_db_ids).update(
                verdict=SCANNER, reason="click_burst", proxy_kind="", counts_as_human=False
            )
        gained = [(e.customer_id, e.occurred_at, weight_for(e.kind)) for e in pending if e.counts_as_human]
        engagement_apply(contributions=gained + withdrawn)
    return len(pending)
