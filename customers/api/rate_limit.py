"""Requests per API key per minute, counted in the Django cache (Redis when REDIS_URL is set).

When the cache cannot be reached (Redis down), each web process counts on its own: the shop
keeps being served, at worst at the limit times the number of processes, and a warning is
logged (at most once a minute per process) until the cache answers again.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
_WARN_EVERY_SECONDS = 60

_local_lock = threading.Lock()
_local_window = 0
_local_counts: dict[str, int] = {}
_last_warning = 0.0


def _shared_count(key: str) -> int:
    """One more request in the shared window; raises when the cache is unreachable."""
    cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS + 5)
        return 1


def _local_count(key: str, window_start: int) -> int:
    """The same count kept in this process only (a fixed window too)."""
    global _local_window
    with _local_lock:
        if window_start != _local_window:
            _local_counts.clear()
            _local_window = window_start
        _local_counts[key] = _local_counts.get(key, 0) + 1
        return _local_counts[key]


def _warn_degraded(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY_SECONDS or _last_warning == 0.0:
        _last_warning = now
        logger.warning(
            "event API rate limit: the cache is unreachable (%s); counting per process until it answers",
            type(exc).__name__,
        )


def rate_limit_retry_after(*, bucket: str, limit: int) -> int | None:
    """Count one request in the current minute; return seconds to wait when over `limit`, else None.

    A fixed window with an atomic increment: several web processes share the count exactly.
    A limit of 0 or less turns the limit off.
    """
    if limit <= 0:
        return None
    now = time.time()
    window_start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    key = f"event-api:rate:{bucket}:{window_start}"
    try:
        count = _shared_count(key)
    except (RedisError, OSError) as exc:
        _warn_degraded(exc)
        count = _local_count(key, window_start)
    if count <= limit:
        return None
    return max(1, math.ceil(window_start + WINDOW_SECONDS - now))
