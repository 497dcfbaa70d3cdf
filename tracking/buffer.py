"""A Redis list that absorbs open/click hits so the request never waits on the database.

Reliable-queue pattern: the drainer moves hits from the buffer list to a processing list
(LMOVE, atomic per item), inserts them, and only then deletes the processing list. A drainer
killed mid-way leaves its hits in the processing list; the next drain inserts them first.
Every hit carries a UUID and the insert skips UUIDs already stored, so a re-run never
duplicates. One drainer at a time (a Redis lock with expiry).

When Redis is not configured or does not answer, `hit_push` returns False and the caller
writes the hit straight to the database.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

_SOCKET_TIMEOUT = 0.25
_RETRY_AFTER_FAILURE = 5.0  # seconds to skip Redis after it failed, so a dead Redis costs nothing per request

_clients: dict[str, redis.Redis] = {}
_down_until: dict[str, float] = {}


def _client() -> redis.Redis | None:
    url = settings.REDIS_URL
    if not url or not settings.TRACKING_BUFFER:
        return None
    if _down_until.get(url, 0.0) > time.monotonic():
        return None
    client = _clients.get(url)
    if client is None:
        client = redis.Redis.from_url(
            url, socket_timeout=_SOCKET_TIMEOUT, socket_connect_timeout=_SOCKET_TIMEOUT, health_check_interval=30
        )
        _clients[url] = client
    return client


def _keys() -> tuple[str, str, str]:
    base = settings.TRACKING_BUFFER_KEY
    return base, f"{base}:processing", f"{base}:lock"


def hit_push(hit: dict) -> bool:
    """Append one hit to the buffer. False when the buffer is unavailable (caller stores it directly)."""
    client = _client()
    if client is None:
        return False
    try:
        client.lpush(_keys()[0], json.dumps(hit, separators=(",", ":")))
    except redis.RedisError as exc:
        _down_until[settings.REDIS_URL] = time.monotonic() + _RETRY_AFTER_FAILURE
        logger.warning("tracking buffer unavailable, storing hits directly: %s", type(exc).__name__)
        return False
    return True


def buffer_length() -> int:
    client = _client()
    if client is None:
        return 0
    buffer_key, processing_key, _lock = _keys()
    return int(client.llen(buffer_key)) + int(client.llen(processing_key))


def buffer_move_batch(*, batch_size: int) -> int:
    """Move up to `batch_size` oldest hits to the processing list; returns how many moved."""
    client = _client()
    if client is None:
        return 0
    buffer_key, processing_key, _lock = _keys()
    pipe = client.pipeline(transaction=False)
    for _ in range(batch_size):
        pipe.lmove(buffer_key, processing_key, "RIGHT", "LEFT")
    return sum(1 for item in pipe.execute() if item is not None)


def buffer_drain(*, store: Callable[[list[dict]], object], batch_size: int, max_batches: int = 50) -> int:
    """Store buffered hits with `store(hits)` (which must skip already-stored UUIDs).

    Returns the number of hits handed to `store`, or -1 when another drainer holds the lock.
    """
    client = _client()
    if client is None:
        return 0
    buffer_key, processing_key, lock_key = _keys()
    lock_seconds = settings.TRACKING_DRAIN_LOCK_SECONDS
    lock = client.lock(lock_key, timeout=lock_seconds, blocking=False)
    if not lock.acquire():
        return -1
    handled = 0
    try:
        for _ in range(max_batches):
            # Anything already in the processing list was left by a drainer that died: store it first.
            if not client.llen(processing_key) and not buffer_move_batch(batch_size=batch_size):
                break
            raw = client.lrange(processing_key, 0, -1)
            hits = []
            for item in raw:
                try:
                    hits.append(json.loads(item))
                except ValueError:
                    logger.warning("dropping an unreadable tracking hit")
            store(hits)
            client.delete(processing_key)
            handled += len(hits)
            lock.extend(lock_seconds, replace_ttl=True)
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            logger.warning("tracking drain lock expired before release")
    return handled
