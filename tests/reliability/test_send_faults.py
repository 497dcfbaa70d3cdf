"""Faults on the send path with real workers, PostgreSQL, a real broker and the fake ESP over HTTP.

The ESP is down (429, then 500) for a window; a big campaign is paused and resumed; the Redis
broker is killed mid-campaign and started again. In each case: everyone mailed exactly once,
nobody lost, and nothing marked sent that the ESP did not accept.
"""

from __future__ import annotations

import time

import pytest
from django.db.models import Max
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, Message, MessageStatus
from tests.campaigns.test_sending_e2e import TOKEN, plan, wait_until_settled
from tests.fake_esp import FakeESP
from tests.reliability.support import RedisServer, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.needs_postgres, pytest.mark.django_db(transaction=True)]

# "The ESP is down for a minute", compressed: 5 s of 429 then 5 s of 500.
OUTAGE_SECONDS = 10.0
RETRY_BASE, RETRY_MAX, MAX_ATTEMPTS = 0.5, 3.0, 10


def assert_sent_exactly_what_the_esp_accepted(esp: FakeESP, campaign_id: int, emails: set[str]) -> None:
    accepted = {int(m["Metadata"]["message_id"]): m["MessageID"] for m in esp.messages()}
    rows = Message.objects.filter(campaign_id=campaign_id)
    sent = dict(rows.filter(status=MessageStatus.SENT).values_list("pk", "esp_message_id"))
    assert esp.stats()["recipients"] == dict.fromkeys(emails, 1), "somebody was mailed twice or not at all"
    assert sent == accepted, "a row is marked sent that the ESP did not accept (or the other way round)"
    assert not rows.exclude(status=MessageStatus.SENT).exists()


def test_esp_outage_window_then_recovery_sends_everyone_once_with_bounded_backoff(start_worker, customers_bulk):
    with FakeESP(token=TOKEN, latency_ms=5) as esp:
        worker = start_worker(
            esp,
            SEND_RETRY_BASE_SECONDS=str(RETRY_BASE),
            SEND_RETRY_MAX_SECONDS=str(RETRY_MAX),
            SEND_MAX_ATTEMPTS=str(MAX_ATTEMPTS),
        )
        emails = customers_bulk(200, prefix="outage")
        campaign_id = plan(200, "ESP outage")
        esp.fail_next(10**6, status=429)
        started = time.monotonic()
        worst_gap = 0.0
        while time.monotonic() - started < OUTAGE_SECONDS:
            if time.monotonic() - started > OUTAGE_SECONDS / 2 and esp.stats()["errors"].get("500") is None:
                esp.state.configure({"clear_faults": True})
                esp.fail_next(10**6, status=500)
            worker.send("campaigns.send_due_messages")
            # Every queued retry waits base * 2^(attempts-1) (capped), jittered to 50-100 %.
            for attempts, claimed_at, not_before in Message.objects.filter(
                campaign_id=campaign_id, status=MessageStatus.QUEUED, attempts__gt=0
            ).values_list("attempts", "claimed_at", "not_before"):
                ceiling = min(RETRY_MAX, RETRY_BASE * 2 ** (attempts - 1))
                gap = (not_before - claimed_at).total_seconds()
                assert ceiling / 2 <= gap <= ceiling + 2.0, (attempts, gap)
                worst_gap = max(worst_gap, gap)
            time.sleep(0.5)
        assert Message.objects.filter(campaign_id=campaign_id, status=MessageStatus.SENT).count() == 0
        esp.state.configure({"clear_faults": True})
        ended = timezone.now()
        waiting = Message.objects.filter(campaign_id=campaign_id, status=MessageStatus.QUEUED, attempts__gt=0)
        last_retry_at = waiting.aggregate(m=Max("not_before"))["m"]
        wait_until_settled(worker, campaign_id, timeout=30)
        recovered = time.monotonic() - started - OUTAGE_SECONDS

        errors = esp.stats()["errors"]
        assert errors.get("429", 0) > 0 and errors.get("500", 0) > 0
        # Soon after the outage: no retry was scheduled further out than the backoff cap (+ jitter slack).
        assert last_retry_at is not None and (last_retry_at - ended).total_seconds() <= RETRY_MAX + 2.0
        assert_sent_exactly_what_the_esp_accepted(esp, campaign_id, emails)
        top = Message.objects.filter(campaign_id=campaign_id).aggregate(m=Max("attempts"))["m"]
        assert 1 < top <= MAX_ATTEMPTS
        assert worst_gap <= RETRY_MAX + 2.0
        print(
            f"\n[reliability] ESP outage {OUTAGE_SECONDS:.0f}s: {sum(errors.values())} refused requests "
            f"({errors}), max attempts {top}, widest retry gap {worst_gap:.1f}s, all sent {recovered:.1f}s after"
        )


def _status_counts(campaign_id: int) -> dict[str, int]:
    rows = Message.objects.filter(campaign_id=campaign_id)
    return {s: rows.filter(status=s).count() for s in (MessageStatus.SENT, MessageStatus.SENDING, MessageStatus.QUEUED)}


def test_pause_then_resume_a_large_campaign_continues_where_it_stopped(start_worker, customers_bulk):
    n, batch, processes = 2000, 25, 2
    with FakeESP(token=TOKEN, latency_ms=10) as esp:
        worker = start_worker(esp, SEND_BATCH_SIZE=str(batch))
        emails = customers_bulk(n, prefix="pause")
        campaign_id = plan(n, "Big newsletter")
        for _ in range(4):
            worker.send("campaigns.send_due_messages")
        wait_for(lambda: _status_counts(campaign_id)["sent"] >= n // 5, timeout=30, what="a fifth sent")

        Campaign.objects.filter(pk=campaign_id).update(status=CampaignStatus.PAUSED)
        sent_when_paused = _status_counts(campaign_id)["sent"]
        wait_for(lambda: _status_counts(campaign_id)["sending"] == 0, timeout=15, what="in-flight batches")
        settled = _status_counts(campaign_id)
        accepted = esp.stats()["accepted"]
        # A worker holds one batch plus the unsent tail of the previous one (at most 16 rows here).
        in_flight = processes * 2 * batch
        assert settled["sent"] - sent_when_paused <= in_flight, "more than the in-flight batches went out"
        for _ in range(4):
            worker.send("campaigns.send_due_messages")
        time.sleep(1.5)
        assert _status_counts(campaign_id) == settled, "a paused campaign kept sending"
        assert esp.stats()["accepted"] == accepted
        left = set(
            Message.objects.filter(campaign_id=campaign_id, status=MessageStatus.QUEUED).values_list("pk", flat=True)
        )
        assert len(left) == n - settled["sent"] > 0

        Campaign.objects.filter(pk=campaign_id).update(status=CampaignStatus.ACTIVE)
        wait_until_settled(worker, campaign_id, timeout=40)
        after_resume = {int(m["Metadata"]["message_id"]) for m in esp.messages()[accepted:]}
        assert after_resume == left, "resume sent exactly the rows left at the pause: no restart, no gap"
        assert_sent_exactly_what_the_esp_accepted(esp, campaign_id, emails)
        print(
            f"\n[reliability] pause at {sent_when_paused}/{n} sent, {settled['sent'] - sent_when_paused} in flight "
            f"finished, 0 sent while paused, {len(left)} sent after resume, 0 twice"
        )


@pytest.mark.needs_redis_server
def test_redis_broker_killed_mid_campaign_and_restarted(start_worker, customers_bulk, tmp_path, settings):
    n = 400
    server = RedisServer(tmp_path)
    server.start()
    settings.REDIS_URL = server.url(0)  # the worker's broker (and its client here)
    try:
        with FakeESP(token=TOKEN, latency_ms=30) as esp:
            # Short tasks, so progress after the crash needs new tasks through the broker.
            worker = start_worker(esp, SEND_CONCURRENCY="2", SEND_TASK_BUDGET_SECONDS="1")
            emails = customers_bulk(n, prefix="broker")
            campaign_id = plan(n, "Broker crash")

            def a_sixth_sent() -> bool:
                # Beat's kick every few seconds: a cold worker may spend a whole 1 s budget starting up.
                worker.send("campaigns.send_due_messages")
                return _status_counts(campaign_id)["sent"] >= n // 6

            wait_for(a_sixth_sent, timeout=30, interval=0.5, what="a sixth sent")
            server.kill()
            at_kill = _status_counts(campaign_id)["sent"]
            time.sleep(1.5)  # tasks in progress finish their budget; nothing new can be delivered
            during = _status_counts(campaign_id)["sent"]
            assert during < n, "the campaign finished before the broker came back: the test proves nothing"
            server.start()  # empty: every queued task and the unacked ones died with it
            wait_until_settled(worker, campaign_id, timeout=90)  # 1 s tasks crawl on a busy machine
        assert_sent_exactly_what_the_esp_accepted(esp, campaign_id, emails)
        print(
            f"\n[reliability] broker SIGKILLed at {at_kill}/{n} sent, {during} sent while it was down, "
            f"restarted empty: {n} sent, 0 twice, 0 lost"
        )
    finally:
        server.stop()
