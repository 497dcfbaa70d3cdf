"""Existing rows under the one message rule: every enrollment numbered, every message its entry.

- One-off campaigns become "Sent by staff"; the journeys tick no longer enrols them. Their
  active enrollments end, and queued mail of those enrollments to customers whom "send now"
  already planned (the second copies) is skipped, never sent.
- Enrollments are numbered per (campaign, customer) in order of entry. Where "send now" already
  wrote that customer's entry 1 (messages without an enrollment), the enrollments count on from 2.
- A customer with more than one active enrollment in a campaign keeps the latest.
- Messages of an enrollment take its entry; the others keep entry 1.
"""

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

CHUNK = 2000
SECOND_COPY = "second copy of a one-off send: not sent"


def _flush(model, rows, fields):
    if rows:
        model.objects.bulk_update(rows, fields, batch_size=CHUNK)
    rows.clear()


def forwards(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    Enrollment = apps.get_model("campaigns", "Enrollment")
    Message = apps.get_model("campaigns", "Message")
    now = timezone.now()

    one_off = list(Campaign.objects.filter(kind="one_off").values_list("pk", flat=True))
    Campaign.objects.filter(pk__in=one_off).update(trigger="manual")
    planned_by_staff = set(
        Message.objects.filter(enrollment__isnull=True, campaign__isnull=False, is_test=False)
        .values_list("campaign_id", "customer_id")
        .distinct()
    )
    if one_off:
        second_copies = [
            pk
            for pk, campaign_id, customer_id in Message.objects.filter(
                campaign_id__in=one_off, enrollment__isnull=False, status="queued"
            ).values_list("pk", "campaign_id", "customer_id")
            if (campaign_id, customer_id) in planned_by_staff
        ]
        for start in range(0, len(second_copies), CHUNK):
            Message.objects.filter(pk__in=second_copies[start : start + CHUNK]).update(
                status="skipped", error=SECOND_COPY
            )
        Enrollment.objects.filter(campaign_id__in=one_off, status="active").update(
            status="exited", exit_reason="one-off: sent by staff only", ended_at=now, due_at=None
        )

    # Number the enrollments; keep only the latest active one per (campaign, customer).
    rows = (
        Enrollment.objects.order_by("campaign_id", "customer_id", "entered_at", "pk")
        .values_list("pk", "campaign_id", "customer_id", "status")
        .iterator(chunk_size=CHUNK)
    )
    numbered, ended = [], []
    key, entry, last_active = None, 0, None
    for pk, campaign_id, customer_id, status in rows:
        if (campaign_id, customer_id) != key:
            key = (campaign_id, customer_id)
            entry = 1 if key in planned_by_staff else 0
            last_active = None
        entry += 1
        numbered.append(Enrollment(pk=pk, entry=entry))
        if status == "active":
            if last_active is not None:
                ended.append(last_active)
            last_active = pk
        if len(numbered) >= CHUNK:
            _flush(Enrollment, numbered, ["entry"])
    _flush(Enrollment, numbered, ["entry"])
    for start in range(0, len(ended), CHUNK):
        Enrollment.objects.filter(pk__in=ended[start : start + CHUNK]).update(
            status="exited", exit_reason="replaced by a later entry", ended_at=now, due_at=None
        )

    # Messages of an enrollment take its entry (the others keep the default, 1).
    messages = (
        Message.objects.filter(enrollment__isnull=False)
        .filter(~Q(entry=1) | ~Q(enrollment__entry=1))
        .order_by("pk")
        .values_list("pk", "enrollment__entry")
        .iterator(chunk_size=CHUNK)
    )
    batch = []
    for pk, entry in messages:
        batch.append(Message(pk=pk, entry=entry))
        if len(batch) >= CHUNK:
            _flush(Message, batch, ["entry"])
    _flush(Message, batch, ["entry"])


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0004_enrollment_message_entry"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
