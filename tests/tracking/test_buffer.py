"""The Redis buffer: hits are answered at once, stored in bulk later, and none is lost or doubled."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.utils import timezone

from tests.tracking.engagement_support import TEST_REDIS_URL, _fresh_url_caches, make_message  # noqa: F401
from tracking import buffer
from tracking.link_rewriting import html_add_tracking
from tracking.models import TrackingEvent
from tracking.services.classification import tracking_events_classify
from tracking.services.tracking_events import tracking_buffer_drain, tracking_hits_store

pytestmark = pytest.mark.django_db
SITE = "http://127.0.0.1:8000"
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


@pytest.fixture
def buffered(settings):
    assert TEST_REDIS_URL, "a test using the Redis buffer is marked needs_redis"
    key = f"test:tracking:{uuid.uuid4().hex}"
    settings.REDIS_URL = TEST_REDIS_URL
    settings.TRACKING_BUFFER = True
    settings.TRACKING_BUFFER_KEY = key
    settings.SITE_URL = SITE
    buffer._down_until.clear()
    client = redis.Redis.from_url(TEST_REDIS_URL)
    yield client
    client.delete(key, f"{key}:processing", f"{key}:lock")
    buffer._down_until.clear()


def _tracked_paths(message_id: int) -> tuple[str, list[str]]:
    html = html_add_tracking(
        '<body><a href="https://shop.example/a">A</a><a href="https://shop.example/b">B</a></body>',
        message_id=message_id,
    )
    pixel = re.search(r'<img src="([^"]+)"', html).group(1).removeprefix(SITE)
    clicks = [u.removeprefix(SITE) for u in re.findall(r'href="([^"]+)"', html)][:2]
    return pixel, clicks


def _send_requests(client, messages, rounds: int) -> int:
    sent = 0
    for message in messages:
        pixel, clicks = _tracked_paths(message.pk)
        for _ in range(rounds):
            assert client.get(pixel, HTTP_USER_AGENT=BROWSER).status_code == 200
            for path in clicks:
                assert client.get(path, HTTP_USER_AGENT=BROWSER).status_code == 302
            sent += 1 + len(clicks)
    return sent


@pytest.mark.needs_redis
def test_hits_are_buffered_then_drained_one_row_per_request(client, buffered, settings):
    messages = [make_message(delivered_at=timezone.now() - timedelta(hours=1)) for _ in range(3)]
    sent = _send_requests(client, messages, rounds=4)
    assert TrackingEvent.objects.count() == 0  # the request did not write to the database
    assert buffer.buffer_length() == sent

    settings.TRACKING_DRAIN_BATCH = 7  # several batches
    assert tracking_buffer_drain() == sent
    assert TrackingEvent.objects.count() == sent
    assert buffer.buffer_length() == 0
    assert tracking_events_classify() == sent
    assert not TrackingEvent.objects.filter(verdict="pending").exists()


@pytest.mark.needs_redis
def test_drain_interrupted_after_moving_loses_nothing(client, buffered):
    messages = [make_message() for _ in range(2)]
    first = _send_requests(client, messages, rounds=2)
    # A drainer moves the hits to its processing list and dies before storing them.
    assert buffer.buffer_move_batch(batch_size=1000) == first
    later = _send_requests(client, messages, rounds=1)
    assert tracking_buffer_drain() == first + later
    assert TrackingEvent.objects.count() == first + later


@pytest.mark.needs_redis
def test_drain_interrupted_after_storing_does_not_duplicate(client, buffered):
    message = make_message()
    sent = _send_requests(client, [message], rounds=5)

    def store_then_die(hits):
        tracking_hits_store(hits)
        raise SystemExit("worker killed before it could clear the processing list")

    with pytest.raises(SystemExit):
        buffer.buffer_drain(store=store_then_die, batch_size=1000)
    assert TrackingEvent.objects.count() == sent
    assert buffered.llen(f"{buffer._keys()[1]}") == sent  # still there: the next drain recovers it
    assert tracking_buffer_drain() == sent
    assert TrackingEvent.objects.count() == sent
    assert len(set(TrackingEvent.objects.values_list("event_uuid", flat=True))) == sent


@pytest.mark.needs_redis
def test_only_one_drainer_at_a_time(client, buffered):
    _send_requests(client, [make_message()], rounds=1)
    lock = buffered.lock(buffer._keys()[2], timeout=30)
    assert lock.acquire(blocking=False)
    try:
        assert tracking_buffer_drain() == -1
        assert TrackingEvent.objects.count() == 0
    finally:
        lock.release()
    assert tracking_buffer_drain() == 3


def test_redis_down_still_answers_and_records(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.TRACKING_BUFFER = True
    settings.SITE_URL = SITE
    buffer._down_until.clear()
    try:
        sent = _send_requests(client, [make_message()], rounds=3)
    finally:
        buffer._down_until.clear()
    assert TrackingEvent.objects.count() == sent


_KILLED_DRAINER = """
import sys, time
import django
django.setup()
from tracking import buffer
from tracking.services.tracking_events import tracking_hits_store

def store_then_hang(hits):
    tracking_hits_store(hits)
    open(sys.argv[1], "w").write(str(len(hits)))
    time.sleep(60)  # killed here: stored, but the processing list was never cleared

buffer.buffer_drain(store=store_then_hang, batch_size=1000)
"""


@pytest.mark.needs_redis
@pytest.mark.needs_postgres  # the drainer subprocess shares the test database
@pytest.mark.django_db(transaction=True)
def test_a_drainer_process_killed_mid_drain_loses_and_doubles_nothing(client, buffered, settings, tmp_path):
    settings.TRACKING_DRAIN_LOCK_SECONDS = 1
    message = make_message()
    first = _send_requests(client, [message], rounds=4)
    marker = tmp_path / "stored"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
        "DATABASE_URL": f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
        f"{connection.settings_dict['PORT']}/{connection.settings_dict['NAME']}",
        "REDIS_URL": TEST_REDIS_URL,
        "TRACKING_BUFFER_KEY": settings.TRACKING_BUFFER_KEY,
        "TRACKING_DRAIN_LOCK_SECONDS": "1",
    }
    drainer = subprocess.Popen([sys.executable, "-c", _KILLED_DRAINER, str(marker)], env=env, cwd=settings.BASE_DIR)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline and drainer.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), "the drainer never stored its batch"
    finally:
        drainer.send_signal(signal.SIGKILL)
        drainer.wait(timeout=10)
    later = _send_requests(client, [message], rounds=1)  # traffic goes on meanwhile
    assert TrackingEvent.objects.count() == first
    time.sleep(1.2)  # the dead drainer's lock expires
    assert tracking_buffer_drain() == first + later  # the orphaned batch is replayed, then the new hits
    assert TrackingEvent.objects.count() == first + later
    assert buffer.buffer_length() == 0


@pytest.mark.needs_redis
def test_a_user_agent_with_a_nul_byte_does_not_block_the_drain(client, buffered):
    message = make_message(delivered_at=timezone.now() - timedelta(hours=1))
    pixel, _clicks = _tracked_paths(message.pk)
    assert client.get(pixel, HTTP_USER_AGENT="Mozilla/5.0\x00evil").status_code == 200
    assert client.get(pixel, HTTP_USER_AGENT=BROWSER).status_code == 200

    assert tracking_buffer_drain() == 2
    assert set(TrackingEvent.objects.values_list("user_agent", flat=True)) == {"Mozilla/5.0evil", BROWSER}
