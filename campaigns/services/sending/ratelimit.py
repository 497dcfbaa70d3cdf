"""Messages per second towards the ESP, shared by every worker.

A token bucket with reservations: each send takes a token and, when the bucket is empty, is
told how long to wait for its slot. With REDIS_URL the bucket lives in Redis (one Lua script,
atomic, clocked by the Redis server), so all worker processes share it; otherwise it is
per process.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache

from django.conf import settings

_RESERVE_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or burst)
local ts = tonumber(redis.call('HGET', KEYS[1], 'ts') or now)
tokens = math.min(burst, tokens + (now - ts) * rate) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 60)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


class LocalBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()
        self.lock = threading.Lock()

    def reserve(self) -> float:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate) - 1
            self.stamp = now
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def refund(self) -> None:
        with self.lock:
            self.tokens = min(self.burst, self.tokens + 1)


class RedisBucket:
    def __init__(self, url: str, key: str, rate: float, burst: float) -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.script = self.client.register_script(_RESERVE_LUA)
        self.key, self.rate, self.burst = key, rate, burst

    def reserve(self) -> float:
        return float(self.script(keys=[self.key], args=[self.rate, self.burst]))

    def refund(self) -> None:
        self.client.hincrbyfloat(self.key, "tokens", 1)


@lru_cache(maxsize=8)
def _bucket(rate: float, backend: str, redis_url: str) -> LocalBucket | RedisBucket:
    burst = max(1.0, rate)  # at most one second's worth at once
    if redis_url:
        return RedisBucket(redis_url, f"remarketing:send-rate:{backend}", rate, burst)
    return LocalBucket(rate, burst)


def send_slot_wait(*, deadline: float | None = None) -> bool:
    """Block until this process may make one more ESP call. False if the slot would come after
    `deadline` (time.monotonic()); the slot is then given up, not used."""
    rate = float(settings.SEND_RATE_PER_SECOND or 0)
    if rate <= 0:
        return True
    bucket = _bucket(rate, settings.EMAIL_BACKEND, settings.REDIS_URL or "")
    wait = bucket.reserve()
    if deadline is not None and time.monotonic() + wait > deadline:
        bucket.refund()  # the slot is handed back, so giving up never starves the other senders
        return False
    if wait > 0:
        time.sleep(wait)
    return True
