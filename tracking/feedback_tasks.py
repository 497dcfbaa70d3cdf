"""Celery tasks for ESP feedback: apply recorded webhook events."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from tracking.models import EspEvent
from tracking.services.esp_events import esp_event_process

# Events left unprocessed this long (a lost task, a broker outage) are picked up by the sweep.
_SWEEP_AFTER = timedelta(minutes=2)
_SWEEP_BATCH = 500


@shared_task(
    name="tracking.process_esp_event",
    soft_time_limit=30,
    time_limit=60,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def process_esp_event(esp_event_id: int) -> bool:
    return esp_event_process(esp_event_id=esp_event_id)


@shared_task(name="tracking.process_pending_esp_events", soft_time_limit=240, time_limit=300)
def process_pending_esp_events() -> int:
    """Apply events whose task never ran. Each is processed at most once, so this is safe to overlap."""
    cutoff = timezone.now() - _SWEEP_AFTER
    ids = list(
        EspEvent.objects.filter(processed_at__isnull=True, received_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:_SWEEP_BATCH]
    )
    return sum(1 for pk in ids if esp_event_process(esp_event_id=pk))
