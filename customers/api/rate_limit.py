"""Requests per API key per minute, counted in the Django cache (Redis when REDIS_URL is set)."""

from __future__ import annotations

import math
import time

from django.core.cache import cache

WINDOW_SECONDS = 60


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
    cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS + 5)
        count = 1
    if count <= limit:
        return None
    return max(1, math.ceil(window_start + WINDOW_SECONDS - now))
