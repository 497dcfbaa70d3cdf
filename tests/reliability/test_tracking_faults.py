"""Redis dies under tracking load: buffered hits survive (append-only file), new hits go straight
to the database while it is down, and the drain after the restart stores each hit exactly once.

Redis keeps buffered hits in memory only unless persistence is on: a deployment that must not
lose a buffered-but-undrained hit runs Redis with `appendonly yes` (`appendfsync always` here,
so even a SIGKILL loses nothing acknowledged). The endpoints never depend on Redis: with it down
they insert directly.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.reliability.support import RedisServer
from tests.tracking.engagement_support import make_message
from tests.tracking.test_buffer import SITE, _send_requests
from tracking import buffer
from tracking.models import TrackingEvent
from tracking.services.tracking_events import tracking_buffer_drain

pytestmark = [pytest.mark.e2e, pytest.mark.needs_redis_server, pytest.mark.django_db]


@pytest.fixture
def own_redis(tmp_path, settings):
    server = RedisServer(tmp_path, persistent=True)
    server.start()
    settings.REDIS_URL = server.url(1)
    settings.TRACKING_BUFFER = True
    settings.TRACKING_BUFFER_KEY = f"test:reliability:{uuid.uuid4().hex}"
    settings.SITE_URL = SITE
    buffer._down_until.clear()
    yield server
    buffer._down_until.clear()
    buffer._clients.pop(settings.REDIS_URL, None)
    server.stop()


def test_redis_killed_and_restarted_under_tracking_load_loses_and_doubles_nothing(client, own_redis):
    messages = [make_message(delivered_at=timezone.now() - timedelta(hours=1)) for _ in range(20)]

    buffered = _send_requests(client, messages, rounds=3)
    assert TrackingEvent.objects.count() == 0 and buffer.buffer_length() == buffered

    own_redis.kill()
    direct = _send_requests(client, messages, rounds=2)  # every request still answered...
    assert TrackingEvent.objects.count() == direct  # ...and recorded straight in the database
    assert tracking_buffer_drain() == 0  # a drain during the outage fails softly; nothing is dropped

    own_redis.start()  # replays its append-only file
    buffer._down_until.clear()  # the endpoints retry Redis 5 s after a failure; skip the wait
    after = _send_requests(client, messages, rounds=1)
    assert buffer.buffer_length() == buffered + after

    assert tracking_buffer_drain() == buffered + after
    total = buffered + direct + after
    assert TrackingEvent.objects.count() == total
    assert TrackingEvent.objects.values("event_uuid").distinct().count() == total
    assert tracking_buffer_drain() == 0 and TrackingEvent.objects.count() == total
    print(
        f"\n[reliability] tracking: {buffered} hits buffered before Redis was SIGKILLed, {direct} answered "
        f"while it was down (direct inserts), {after} after the restart: {total} stored, 0 lost, 0 twice"
    )
