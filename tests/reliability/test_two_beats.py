"""Two `celery beat` processes at once (a common deployment mistake) against one database.

Both beats schedule the journeys tick and the send task every second (the schedule compressed
from a minute, see beat_settings.py); a real worker runs every copy. A lifecycle campaign with
two immediate steps is due for every customer: still one message per recipient and step, and
the fake ESP receives each of them exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings as django_settings

from campaigns.models import Message, MessageStatus
from tests.campaigns.test_sending_e2e import TOKEN
from tests.fake_esp import FakeESP
from tests.journeys.conftest import campaign, template  # noqa: F401 - fixtures
from tests.reliability.support import RedisServer, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.needs_postgres,
    pytest.mark.needs_redis_server,
    pytest.mark.django_db(transaction=True),
]

N = 60
BEAT_SETTINGS = "tests.reliability.beat_settings"
# No caps or quiet hours: both steps may go out at once, whatever the time of day of the run.
JOURNEY_ENV = {
    "DJANGO_SETTINGS_MODULE": BEAT_SETTINGS,
    "FREQUENCY_CAP_PER_DAY": "0",
    "FREQUENCY_CAP_PER_WEEK": "0",
    "QUIET_HOURS_START": "0",
    "QUIET_HOURS_END": "0",
}


def start_beat(env: dict[str, str], folder) -> subprocess.Popen:
    folder.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info"]
    command += ["-s", str(folder / "schedule"), "--pidfile", str(folder / "beat.pid")]
    log = (folder / "beat.log").open("a")
    return subprocess.Popen(
        command, cwd=django_settings.BASE_DIR, env=env, stdout=log, stderr=log, start_new_session=True
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_two_beat_schedulers_still_mail_each_recipient_once_per_step(
    start_worker,
    customers_bulk,
    campaign,  # noqa: F811
    tmp_path,
    settings,
):
    server = RedisServer(tmp_path)
    server.start()
    settings.REDIS_URL = server.url(0)  # a broker of the test's own: beat's default queue is ours alone
    beats: list[subprocess.Popen] = []
    try:
        with FakeESP(token=TOKEN) as esp:
            emails = customers_bulk(N, prefix="beat")
            journey = campaign(rules={}, steps=[(timedelta(), {}), (timedelta(), {})])
            worker = start_worker(esp, queue="celery", **JOURNEY_ENV)  # the queue beat sends to
            for name in ("beat-a", "beat-b"):
                beats.append(start_beat({**worker.env}, tmp_path / name))

            def all_sent() -> bool:
                rows = Message.objects.filter(campaign=journey)
                return rows.count() == 2 * N and not rows.exclude(status=MessageStatus.SENT).exists()

            wait_for(all_sent, timeout=60, interval=0.5, what=f"{2 * N} journey messages sent")
            time.sleep(3.0)  # several more ticks from both beats
            ticks = [(tmp_path / name / "beat.log").read_text().count("journeys.tick") for name in ("beat-a", "beat-b")]

        rows = Message.objects.filter(campaign=journey)
        assert rows.count() == 2 * N, "a tick created a second message for the same recipient and step"
        assert Counter(rows.values_list("enrollment_id", "step_id")).most_common(1)[0][1] == 1
        assert esp.stats()["recipients"] == dict.fromkeys(emails, 2), "someone mailed twice for one step"
        accepted = [int(m["Metadata"]["message_id"]) for m in esp.messages()]
        assert sorted(accepted) == sorted(rows.values_list("pk", flat=True))
        assert all(count >= 2 for count in ticks), f"both beats must have scheduled ticks: {ticks}"
        print(
            f"\n[reliability] two beats sent {ticks} journey ticks: "
            f"{2 * N} messages for {N} customers x 2 steps, 0 twice"
        )
    finally:
        for beat in beats:
            stop(beat)
        server.stop()
