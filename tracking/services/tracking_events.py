"""Open/click hits: record them cheaply, store them in bulk, then judge them.

A hit goes to the Redis buffer (or, when Redis is unavailable, straight into the database as
one INSERT). `tracking_hits_store` bulk-inserts buffered hits as *pending* events;
`tracking_events_classify` later gives pending events their verdict, fills the customer and
updates engagement scores. The privacy-reduced IP and the proxy-network tag are computed in
the request, so the raw IP is never stored, not even in the buffer.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import uuid
from datetime import UTC, datetime
from functools import cache

import redis
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from campaigns.models import Message
from tracking import buffer
from tracking.models import EventSource, TrackingEvent

logger = logging.getLogger(__name__)

UA_MAX = 512
_ESP_NAMESPACE = uuid.UUID("5b0f3c4e-8d7a-4e55-9a57-2f4f8a0c61d2")


def ip_for_storage(ip: str) -> str:
    """The client IP reduced per TRACKING_IP_MODE: truncate (/24 or /48), hash (keyed) or none."""
    mode = settings.TRACKING_IP_MODE
    if mode == "none" or not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if mode == "hash":
        digest = hmac.new(settings.SECRET_KEY.encode(), address.packed, hashlib.sha256).hexdigest()
        return f"h:{digest[:40]}"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def hit_build(
    *,
    kind: str,
    message_id: int,
    method: str,
    user_agent: str,
    ip: str,
    network: str,
    url_id: int | None = None,
    honeypot: bool = False,
) -> dict:
    """A compact, JSON-ready hit; the field names are short because it crosses Redis."""
    return {
        "u": uuid.uuid4().hex,
        "k": kind,
        "m": message_id,
        "l": url_id,
        "h": 1 if honeypot else 0,
        "t": timezone.now().timestamp(),
        "x": method[:8],
        "a": user_agent.replace("\x00", "")[:UA_MAX],  # PostgreSQL text cannot hold NUL
        "i": ip_for_storage(ip),
        "n": network,
    }


def _event_from_hit(hit: dict) -> TrackingEvent:
    return TrackingEvent(
        event_uuid=uuid.UUID(hit["u"]),
        message_id=int(hit["m"]),
        kind=hit["k"],
        url_id=hit.get("l"),
        is_honeypot=bool(hit.get("h")),
        occurred_at=datetime.fromtimestamp(float(hit["t"]), tz=UTC),
        method=hit.get("x", ""),
        user_agent=hit.get("a", ""),
        ip=hit.get("i", ""),
        network=hit.get("n", ""),
        source=hit.get("s", EventSource.ENDPOINT),
        esp_flags=hit.get("f") or {},
    )


def hit_record(*, hit: dict) -> None:
    """Called in the request: buffer the hit, or insert it; never raises."""
    if buffer.hit_push(hit):
        return
    try:
        event = _event_from_hit(hit)
        if connection.vendor == "postgresql" and connection.get_autocommit():
            _insert_unflushed(event)
        else:
            with transaction.atomic():  # a savepoint inside a caller's transaction
                event.save(force_insert=True)
    except IntegrityError:
        # A hit for a message deleted since it was sent (e.g. an erased customer): nothing to keep.
        logger.info("tracking hit for a message that no longer exists: not recorded")
    except DatabaseError:
        logger.exception("could not record a tracking hit")


_INSERT_FIELDS = [f for f in TrackingEvent._meta.concrete_fields if not f.primary_key]


@cache
def _insert_unflushed_sql() -> str:
    """Built once per process: the statement only depends on the model."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in _INSERT_FIELDS)
    marks = ", ".join(["%s"] * len(_INSERT_FIELDS))
    return (
        f"INSERT INTO {quote(TrackingEvent._meta.db_table)} ({columns}) VALUES ({marks}) "  # noqa: S608
        "RETURNING set_config('synchronous_commit', 'off', true)"
    )


def _insert_unflushed(event: TrackingEvent) -> None:
    """One INSERT, one round trip, whose commit does not wait for the WAL flush.

    set_config(..., true) lasts for the statement's own (autocommit) transaction only, so no
    other write on this connection is affected. A PostgreSQL crash could lose the last fraction
    of a second of hits, as a Redis crash can lose buffered ones; the database stays consistent.
    """
    values = [f.get_db_prep_save(f.pre_save(event, True), connection) for f in _INSERT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_insert_unflushed_sql(), values)


def tracking_hits_store(hits: list[dict]) -> int:
    """Bulk-insert hits as pending events, skipping UUIDs already stored. Returns rows inserted."""
    events = {}
    for hit in hits:
        try:
            event = _event_from_hit(hit)
        except (KeyError, TypeError, ValueError):
            logger.warning("dropping a malformed tracking hit")
            continue
        events[event.event_uuid] = event
    if not events:
        return 0
    existing = set(TrackingEvent.objects.filter(event_uuid__in=list(events)).values_list("event_uuid", flat=True))
    message_ids = {e.message_id for e in events.values()}
    known = set(Message.objects.filter(pk__in=message_ids).values_list("pk", flat=True))
    fresh = [e for key, e in events.items() if key not in existing and e.message_id in known]
    TrackingEvent.objects.bulk_create(fresh, batch_size=500, ignore_conflicts=True)
    return len(fresh)


def tracking_buffer_drain() -> int:
    """Move everything buffered in Redis into the database (hits handed over, -1 if busy).

    A Redis outage is logged and skipped: the hits stay in Redis for the next run."""
    try:
        return buffer.buffer_drain(store=tracking_hits_store, batch_size=settings.TRACKING_DRAIN_BATCH)
    except redis.RedisError as exc:
        logger.warning("tracking buffer not drained: %s", type(exc).__name__)
        return 0


def tracking_event_record_from_esp(
    *,
    esp: str,
    event_id: str,
    kind: str,
    message_id: int,
    occurred_at: datetime | None,
    user_agent: str = "",
    url: str = "",
    esp_flags: dict | None = None,
) -> bool:
    """Store an open/click reported by the ESP's webhook; a replay with the same event id is ignored."""
    from tracking.link_rewriting import tracked_url_ids

    event_uuid = uuid.uuid5(_ESP_NAMESPACE, f"{esp}:{event_id}")
    if TrackingEvent.objects.filter(event_uuid=event_uuid).exists():
        return False
    url_id = tracked_url_ids([url])[url] if url and kind == "click" else None
    TrackingEvent.objects.bulk_create(
        [
            TrackingEvent(
                event_uuid=event_uuid,
                message_id=message_id,
                kind=kind,
                url_id=url_id,
                occurred_at=occurred_at or timezone.now(),
                user_agent=(user_agent or "")[:UA_MAX],
                source=EventSource.ESP,
                esp_flags=esp_flags or {},
            )
        ],
        ignore_conflicts=True,
    )
    return True
