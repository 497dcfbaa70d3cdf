"""Outcomes in doubt: read timeouts and crashed workers are reconciled, never blindly resent."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.mail import get_connection
from django.core.management import call_command
from django.db import close_old_connections
from django.utils import timezone

from campaigns.models import Message, MessageStatus
from campaigns.selectors.sending import messages_for_delivery
from campaigns.services.sending import (
    message_mark_sent,
    message_plan_one_off,
    message_requeue_unknown,
    messages_reconcile,
    messages_send_due,
)
from campaigns.services.sending.claiming import messages_claim
from campaigns.services.sending.delivery import message_email_build
from campaigns.services.sending.reconcile import stuck_after_minimum

pytestmark = pytest.mark.django_db


def test_read_timeout_is_unknown_not_resent_then_resolved_by_asking_the_esp(
    fake_esp, settings, make_customers, make_campaign
):
    settings.ANYMAIL = {**settings.ANYMAIL, "REQUESTS_TIMEOUT": 0.3}
    customer = make_customers(1)[0]
    message_plan_one_off(campaign=make_campaign())
    fake_esp.hang_next(1, seconds=1.0)  # the ESP takes the mail but answers too late

    messages_send_due(budget_seconds=3)
    message = Message.objects.get()
    assert message.status == MessageStatus.UNKNOWN
    messages_send_due(budget_seconds=1)
    assert fake_esp.times_mailed(customer.email) == 1

    assert messages_reconcile(stuck_after_seconds=0) == {"sent": 1, "requeued": 0, "waiting": 0, "unknown": 0}
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.esp_message_id == fake_esp.messages()[0]["MessageID"]


def crash_after_sending_first(batch_size: int) -> None:
    """A worker claims a batch, hands the first message to the ESP, then dies before recording."""
    claim = messages_claim(batch_size=batch_size)
    assert claim is not None
    first = messages_for_delivery(claim_token=claim[0]).first()
    connection = get_connection()
    connection.send_messages([message_email_build(message=first)])


def test_crashed_worker_rows_are_resolved_by_lookup_and_nobody_is_mailed_twice(fake_esp, make_customers, make_campaign):
    customers = make_customers(4)
    message_plan_one_off(campaign=make_campaign())
    crash_after_sending_first(batch_size=4)
    assert Message.objects.filter(status=MessageStatus.SENDING).count() == 4
    safe = stuck_after_minimum()
    assert safe == 210  # the send task's 150 s hard limit + 30 s connect + 30 s read timeout

    assert messages_reconcile(stuck_after_seconds=3600) == {"sent": 0, "requeued": 0, "waiting": 0, "unknown": 0}
    # What the ESP has is settled at once; "not found" proves nothing while a request may be in flight.
    assert messages_reconcile(stuck_after_seconds=0) == {"sent": 1, "requeued": 0, "waiting": 3, "unknown": 0}
    with time_machine.travel(timezone.now() + timedelta(seconds=safe - 5), tick=False):
        assert messages_reconcile(stuck_after_seconds=0)["waiting"] == 3
    stuck = timezone.now() + timedelta(seconds=settings.SEND_STUCK_AFTER_SECONDS + 1)
    with time_machine.travel(stuck, tick=False):  # the beat's reconcile, once the rows count as stuck
        assert messages_reconcile() == {"sent": 0, "requeued": 0, "waiting": 3, "unknown": 0}
    later = stuck + timedelta(seconds=settings.SEND_RECONCILE_RECHECK_SECONDS)
    with time_machine.travel(later, tick=False):
        assert messages_reconcile() == {"sent": 0, "requeued": 3, "waiting": 0, "unknown": 0}
    messages_send_due(budget_seconds=5)

    assert fake_esp.stats()["recipients"] == {c.email: 1 for c in customers}
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


@pytest.mark.django_db(transaction=True)
def test_reconcile_while_a_slow_esp_still_holds_the_requests_never_sends_twice(fake_esp, make_customers, make_campaign):
    """The issue's case: the stuck timeout is shorter than an ESP call can take, the ESP is slow,
    and reconcile asks while the requests are still on their way. 'Not found' then is no proof."""
    customers = make_customers(4)
    message_plan_one_off(campaign=make_campaign())
    fake_esp.set_latency(2500)
    worker = threading.Thread(target=messages_send_due, kwargs={"budget_seconds": 5})
    worker.start()
    try:
        time.sleep(1.5)  # claimed more than SEND_STUCK_AFTER_SECONDS ago; the ESP has accepted nothing yet
        assert fake_esp.stats()["accepted"] == 0
        assert Message.objects.filter(status=MessageStatus.SENDING).count() == 4
        # A stuck timeout of 1 s (settings.py now refuses it; the task's argument still allows it).
        counts = messages_reconcile(stuck_after_seconds=1)
    finally:
        worker.join(timeout=30)
        close_old_connections()
    fake_esp.set_latency(0)
    messages_send_due(budget_seconds=2)
    messages_reconcile(stuck_after_seconds=1)
    messages_send_due(budget_seconds=2)

    assert fake_esp.stats()["recipients"] == {c.email: 1 for c in customers}, "somebody was mailed twice"
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert counts["requeued"] == 0 and counts["waiting"] == 4, counts


def test_settings_refuse_a_stuck_timeout_shorter_than_an_esp_call_can_take(tmp_path):
    def check(**env: str) -> subprocess.CompletedProcess:
        environ = {"PATH": os.environ.get("PATH", ""), "VAR_DIR": str(tmp_path), **env}
        command = [sys.executable, "manage.py", "check"]
        return subprocess.run(command, cwd=settings.BASE_DIR, env=environ, capture_output=True, text=True, timeout=60)

    refused = check(SEND_STUCK_AFTER_SECONDS="60")
    assert refused.returncode != 0
    assert "SEND_STUCK_AFTER_SECONDS=60 is unsafe" in refused.stderr
    assert "Set SEND_STUCK_AFTER_SECONDS to at least 210." in refused.stderr  # 150 s hard limit + 2 x 30 s
    slower_esp = check(SEND_STUCK_AFTER_SECONDS="210", ESP_REQUEST_TIMEOUT_SECONDS="60")
    assert slower_esp.returncode != 0 and "at least 270" in slower_esp.stderr
    assert check(SEND_STUCK_AFTER_SECONDS="210").returncode == 0
    assert check().returncode == 0, "the default (600 s) is safe"


def test_without_esp_lookup_crashed_rows_become_unknown_for_staff_to_decide(
    fake_esp, settings, make_customers, make_campaign
):
    settings.SEND_RECONCILE_LOOKUP = False
    make_customers(3)
    message_plan_one_off(campaign=make_campaign())
    crash_after_sending_first(batch_size=3)

    assert messages_reconcile(stuck_after_seconds=0) == {"sent": 0, "requeued": 0, "waiting": 0, "unknown": 3}
    messages_send_due(budget_seconds=2)
    assert fake_esp.stats()["accepted"] == 1, "unknown rows are never resent automatically"

    out = io.StringIO()
    call_command("report_unknown_messages", "--ids", stdout=out)
    assert "3 message(s) with status 'unknown'" in out.getvalue()

    first, *rest = Message.objects.order_by("pk")
    assert message_mark_sent(message_ids=[first.pk], actor="staff") == 1
    assert message_requeue_unknown(message_ids=[m.pk for m in rest], actor="staff") == 2
    messages_send_due(budget_seconds=5)
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert sorted(fake_esp.stats()["recipients"].values()) == [1, 1, 1]
