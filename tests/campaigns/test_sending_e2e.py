"""End to end: a real Celery worker process sends a campaign through the fake ESP over HTTP.

Needs PostgreSQL (DATABASE_URL=postgres://...): the worker is a separate process and must see
the rows this test commits in the test database. The broker is Redis when REDIS_URL is set,
else a file-system broker in a temporary directory; the worker consumes a queue of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.db.models import F

from campaigns.models import Message, MessageStatus
from campaigns.services.sending import message_plan_one_off
from customers.models import Customer
from tests.campaigns.conftest import make_campaign_now
from tests.fake_esp import FakeESP

pytestmark = [pytest.mark.e2e, pytest.mark.needs_postgres, pytest.mark.django_db(transaction=True)]

N = 300
TOKEN = "e2e-token"


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A `celery -A config worker` subprocess on its own queue, killable like a crashed host."""

    def __init__(self, tmp: Path, esp: FakeESP) -> None:
        self.queue = f"e2e-{uuid.uuid4().hex[:8]}"
        self.log = tmp / "worker.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
            "DATABASE_URL": _database_url(),
            "VAR_DIR": str(tmp / "var"),
            "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
            "POSTMARK_API_URL": esp.url,
            "POSTMARK_SERVER_TOKEN": TOKEN,
            "SEND_BATCH_SIZE": "25",
            "SEND_CONCURRENCY": "4",
            "SEND_RETRY_BASE_SECONDS": "0.2",
            "SEND_RETRY_MAX_SECONDS": "1",
            "SEND_TASK_BUDGET_SECONDS": "20",
            "SEND_RATE_PER_SECOND": "0",
            "LOG_LEVEL": "WARNING",
        }
        if settings.REDIS_URL:
            self.env["REDIS_URL"] = settings.REDIS_URL
            self.client = Celery("e2e-client", broker=settings.REDIS_URL)
        else:
            self.env.pop("REDIS_URL", None)
            folder = str(tmp / "var" / "broker" / "queue")
            self.client = Celery("e2e-client", broker="filesystem://")
            control = str(tmp / "var" / "broker" / "control")
            self.client.conf.broker_transport_options = {
                "data_folder_in": folder,
                "data_folder_out": folder,
                "control_folder": control,
            }
            (tmp / "var" / "broker" / "control").mkdir(parents=True, exist_ok=True)
            (tmp / "var" / "broker" / "queue").mkdir(parents=True, exist_ok=True)
            (tmp / "var" / "broker" / "processed").mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queue, "-c", "2"]
        command += ["-n", f"{self.queue}@%h", "--without-gossip", "--without-mingle"]
        command += ["-l", os.environ.get("E2E_WORKER_LOG_LEVEL", "warning")]  # info: every task in the log
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        self.wait_ready()

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until the worker answers a ping: on a busy machine starting one takes tens of seconds,
        which must not count against what a test measures after it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                pytest.fail(f"the worker exited at start; its log:\n{self.logs()}")
            try:
                replies = self.client.control.ping(timeout=0.5) or []
            except Exception:  # noqa: BLE001 - the broker itself may still be starting
                time.sleep(0.5)
                continue
            if any(name.startswith(f"{self.queue}@") for reply in replies for name in reply):
                return
        pytest.fail(f"the worker did not answer within {timeout}s; its log:\n{self.logs()}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes, as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def send(self, name: str, **kwargs: object) -> None:
        self.client.send_task(name, kwargs=kwargs, queue=self.queue)

    def logs(self) -> str:
        return self.log.read_text()[-3000:] if self.log.exists() else ""


@pytest.fixture
def e2e(tmp_path):
    with FakeESP(token=TOKEN, latency_ms=20) as esp:
        worker = Worker(tmp_path, esp)
        worker.start()
        try:
            yield esp, worker
        finally:
            worker.stop()


def wait_until_settled(worker: Worker, campaign_id: int, *, timeout: float = 40.0, until_sent: int | None = None):
    """Kick send tasks (standing in for beat) until no row is queued or sending, or `until_sent` rows are sent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = Message.objects.filter(campaign_id=campaign_id)
        if until_sent is not None and rows.filter(status=MessageStatus.SENT).count() >= until_sent:
            return
        if until_sent is None and not rows.filter(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]).exists():
            return
        worker.send("campaigns.send_due_messages")
        time.sleep(0.5)
    pytest.fail(f"campaign did not settle in {timeout}s; worker log:\n{worker.logs()}")


def wait_for_rows(condition, worker: Worker, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{worker.logs()}")


def plan(customers: int, name: str) -> int:
    campaign = make_campaign_now(name=name)
    assert message_plan_one_off(campaign=campaign) == customers
    return campaign.pk


def test_worker_sends_each_customer_exactly_once_through_faults_and_a_crash(e2e, capsys):
    esp, worker = e2e
    Customer.objects.bulk_create(
        [Customer(email=f"e2e{i}@example.test", first_name=f"N{i}", consent="granted") for i in range(N)]
    )
    emails = set(Customer.objects.values_list("email", flat=True))

    # 1. Injected 429s and 500s on the way: retried with backoff, nobody mailed twice.
    first = plan(N, "E2E faults")
    esp.fail_next(15, status=429)
    esp.fail_next(15, status=500)
    started = time.monotonic()
    for _ in range(4):
        worker.send("campaigns.send_due_messages")
    wait_until_settled(worker, first)
    elapsed = time.monotonic() - started
    stats = esp.stats()
    assert stats["errors"] == {"429": 15, "500": 15}
    assert stats["recipients"] == dict.fromkeys(emails, 1)
    assert Message.objects.filter(campaign_id=first, status=MessageStatus.SENT).count() == N

    # 2. SIGKILL mid-campaign, restart, reconcile: nobody twice, nobody lost but honest unknowns.
    esp.reset()
    second = plan(N, "E2E crash")
    for _ in range(4):
        worker.send("campaigns.send_due_messages")
    wait_until_settled(worker, second, until_sent=N // 3)
    worker.kill()
    at_kill = dict(
        (status, Message.objects.filter(campaign_id=second, status=status).count())
        for status in (MessageStatus.SENT, MessageStatus.SENDING, MessageStatus.QUEUED)
    )
    worker.start()
    # Ten minutes later, as beat's reconcile would find them: the rows the dead worker held are
    # past every timeout its requests had. The ESP is asked twice, a recheck apart, before any
    # row it does not have is sent again.
    rows = Message.objects.filter(campaign_id=second)
    rows.filter(status=MessageStatus.SENDING).update(claimed_at=F("claimed_at") - timedelta(minutes=10))
    worker.send("campaigns.reconcile_stuck_messages")
    wait_for_rows(lambda: not rows.filter(status=MessageStatus.SENDING).exists(), worker, "the first reconcile")
    waiting = rows.filter(status=MessageStatus.UNKNOWN, esp_not_found_at__isnull=False)
    waiting.update(esp_not_found_at=F("esp_not_found_at") - timedelta(seconds=settings.SEND_RECONCILE_RECHECK_SECONDS))
    worker.send("campaigns.reconcile_stuck_messages")
    wait_for_rows(lambda: not waiting.exists(), worker, "the second reconcile")
    wait_until_settled(worker, second)

    counts = esp.stats()["recipients"]
    assert max(counts.values()) == 1, "somebody was mailed twice"
    rows = Message.objects.filter(campaign_id=second)
    sent = set(rows.filter(status=MessageStatus.SENT).values_list("customer__email", flat=True))
    unknown = set(rows.filter(status=MessageStatus.UNKNOWN).values_list("customer__email", flat=True))
    assert sent == set(counts) - unknown
    assert sent | unknown == emails, "somebody was lost"
    with capsys.disabled():
        print(
            f"\n[e2e] {N} messages with 30 injected 429/500 in {elapsed:.1f}s ({N / elapsed:.0f}/s incl. retries); "
            f"crash at sent={at_kill['sent']} sending={at_kill['sending']} queued={at_kill['queued']}; "
            f"after restart + reconcile: sent={len(sent)} unknown={len(unknown)} mailed twice=0"
        )
