"""Ingest a batch of shop events: validate each one, apply it in its own savepoint, report per event."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import DataError, IntegrityError, OperationalError, transaction
from django.utils import timezone
from pydantic import ValidationError

from customers.models import ApiKey, IngestedEvent
from customers.services.events.activity_record import (
    activity_record_cart,
    activity_record_product_view,
    activity_record_trial,
)
from customers.services.events.customer_upsert import customer_upsert
from customers.services.events.errors import EventRejected
from customers.services.events.order_record import order_record
from customers.services.events.schemas import EVENT_MODELS
from customers.services.order_aggregates import customer_order_aggregates_refresh
from customers.signals import shop_event_recorded

logger = logging.getLogger(__name__)

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
# Events committed together: one commit per event would cost most of the time of a batch.
CHUNK_SIZE = 100


@dataclass
class EventResult:
    id: str | None
    status: str
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass
class BatchResult:
    results: list[EventResult]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    def as_dict(self) -> dict[str, Any]:
        return {
            "results": [{"id": r.id, "status": r.status, "errors": r.errors} for r in self.results],
            "accepted": self.count(ACCEPTED),
            "duplicates": self.count(DUPLICATE),
            "rejected": self.count(REJECTED),
        }


def _validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        errors.append({"field": ".".join(str(part) for part in error["loc"]), "message": message})
    return errors


def _client_id(raw: Any) -> str | None:
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 128 and "\x00" not in value else None


def _has_nul(value: Any) -> bool:
    """NUL characters are valid JSON but no database text column takes them."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _send_signal(*, customer_id: int, event_type: str, occurred_at: datetime) -> None:
    for receiver, response in shop_event_recorded.send_robust(
        sender="event_api", customer_id=customer_id, event_type=event_type, occurred_at=occurred_at
    ):
        if isinstance(response, Exception):
            logger.error("shop_event_recorded receiver %r failed", receiver, exc_info=response)


def _apply(event: Any, *, occurred_at: datetime, api_key: ApiKey | None, refresh_aggregates: bool) -> dict[str, Any]:
    """Run the effect of one validated event; returns what it touched (kept on IngestedEvent)."""
    actor = api_key.name if api_key else ""
    customer = customer_upsert(data=event.customer, occurred_at=occurred_at, actor=actor, detail=f"event {event.id}")
    touched: dict[str, Any] = {"customer_id": customer.pk}
    if event.type == "order_placed":
        order = order_record(
            customer=customer, event=event, occurred_at=occurred_at, refresh_aggregates=refresh_aggregates
        )
        touched["order_id"] = order.pk
    elif event.type in ("cart_updated", "checkout_started"):
        touched["activity_id"] = activity_record_cart(customer=customer, event=event, occurred_at=occurred_at).pk
    elif event.type == "product_viewed":
        activity = activity_record_product_view(customer=customer, event=event, occurred_at=occurred_at)
        touched["activity_id"] = activity.pk
    elif event.type in ("trial_started", "trial_converted"):
        touched["activity_id"] = activity_record_trial(customer=customer, event=event, occurred_at=occurred_at).pk
    return touched


class _Duplicate(Exception):
    pass


def _validate(raw: Any) -> tuple[Any, EventResult | None]:
    client_id = _client_id(raw)
    if not isinstance(raw, dict):
        return None, EventResult(None, REJECTED, [{"field": "", "message": "an event must be a JSON object"}])
    if _has_nul(raw):
        message = "text must not contain NUL characters"
        return None, EventResult(client_id, REJECTED, [{"field": "", "message": message}])
    event_type = raw.get("type")
    model = EVENT_MODELS.get(event_type) if isinstance(event_type, str) else None
    if model is None:
        message = "must be one of " + ", ".join(EVENT_MODELS)
        return None, EventResult(client_id, REJECTED, [{"field": "type", "message": message}])
    try:
        return model.model_validate(raw), None
    except ValidationError as exc:
        return None, EventResult(client_id, REJECTED, _validation_errors(exc))


def event_ingest(
    *,
    raw: Any,
    api_key: ApiKey | None,
    known_ids: set[str] | None = None,
    order_customers: set[int] | None = None,
) -> EventResult:
    """Validate and apply one event in its own savepoint. A client id stored before makes it a duplicate.

    `known_ids` (ids already stored) saves a failing insert for the common retry; the unique
    event_id column decides in a race: the loser's effects are rolled back. With
    `order_customers`, order figures are left for the caller to refresh for those customers.
    """
    event, failure = _validate(raw)
    if failure is not None:
        return failure
    if known_ids is not None and event.id in known_ids:
        return EventResult(event.id, DUPLICATE)

    occurred_at = event.occurred_at or timezone.now()
    try:
        with transaction.atomic():
            refresh = order_customers is None
            touched = _apply(event, occurred_at=occurred_at, api_key=api_key, refresh_aggregates=refresh)
            try:
                IngestedEvent.objects.create(event_id=event.id, type=event.type, api_key=api_key, result=touched)
            except IntegrityError as exc:
                raise _Duplicate from exc  # leaving the block rolls this event back
            transaction.on_commit(
                lambda: _send_signal(customer_id=touched["customer_id"], event_type=event.type, occurred_at=occurred_at)
            )
    except _Duplicate:
        return EventResult(event.id, DUPLICATE)
    except EventRejected as exc:
        return EventResult(event.id, REJECTED, [{"field": exc.field, "message": exc.message}])
    except (IntegrityError, DataError) as exc:
        logger.warning("event %s of type %s rejected by the database: %s", event.id, event.type, type(exc).__name__)
        return EventResult(event.id, REJECTED, [{"field": "", "message": "conflicts with stored data"}])
    except OperationalError:
        raise  # a lock conflict with another batch: the caller redoes the chunk event by event
    except Exception:
        # Whatever went wrong, this event's savepoint is rolled back: it alone is rejected,
        # as the API promises, and the rest of the batch is applied.
        logger.exception("event %s of type %s could not be stored", event.id, event.type)
        return EventResult(event.id, REJECTED, [{"field": "", "message": "could not be stored; send it again"}])
    if known_ids is not None:
        known_ids.add(event.id)
    if order_customers is not None and "order_id" in touched:
        order_customers.add(touched["customer_id"])
    return EventResult(event.id, ACCEPTED)


def _ingest_chunk(raws: list[Any], *, api_key: ApiKey | None, known_ids: set[str]) -> list[EventResult]:
    """One transaction for many events (a commit per event is what costs most), a savepoint each."""
    order_customers: set[int] = set()
    with transaction.atomic():
        results = [
            event_ingest(raw=raw, api_key=api_key, known_ids=known_ids, order_customers=order_customers) for raw in raws
        ]
        customer_order_aggregates_refresh(customer_ids=order_customers)
    return results


def event_batch_ingest(*, events: list[Any], api_key: ApiKey | None) -> BatchResult:
    """Apply every event of a batch on its own: valid events land even when others fail."""
    ids = [i for i in (_client_id(raw) for raw in events) if i]
    known_ids = set(IngestedEvent.objects.filter(event_id__in=ids).values_list("event_id", flat=True)) if ids else set()
    results: list[EventResult] = []
    for start in range(0, len(events), CHUNK_SIZE):
        chunk = events[start : start + CHUNK_SIZE]
        before = set(known_ids)
        try:
            results += _ingest_chunk(chunk, api_key=api_key, known_ids=known_ids)
        except OperationalError:
            # A deadlock or lock timeout with a concurrent batch: redo these events one transaction each.
            logger.warning("event batch chunk failed on a lock; retrying its events one by one", exc_info=True)
            known_ids.clear()
            known_ids.update(before)
            for raw in chunk:
                results += _ingest_chunk([raw], api_key=api_key, known_ids=known_ids)
    return BatchResult(results)
