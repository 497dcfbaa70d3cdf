"""Outcomes in doubt: read timeouts and crashed workers are reconciled, never blindly resent."""

from __future__ import annotations

import io

import pytest
from django.core.mail import get_connection
from django.core.management import call_command

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

    assert messages_reconcile(stuck_after_seconds=0) == {"sent": 1, "requeued": 0, "unknown": 0}
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

    assert messages_reconcile(stuck_after_seconds=3600) == {"sent": 0, "requeued": 0, "unknown": 0}
    assert messages_reconcile(stuck_after_seconds=0) == {"sent": 1, "requeued": 3, "unknown": 0}
    messages_send_due(budget_seconds=5)

    assert fake_esp.stats()["recipients"] == {c.email: 1 for c in customers}
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


def test_without_esp_lookup_crashed_rows_become_unknown_for_staff_to_decide(
    fake_esp, settings, make_customers, make_campaign
):
    settings.SEND_RECONCILE_LOOKUP = False
    make_customers(3)
    message_plan_one_off(campaign=make_campaign())
    crash_after_sending_first(batch_size=3)

    assert messages_reconcile(stuck_after_seconds=0) == {"sent": 0, "requeued": 0, "unknown": 3}
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
