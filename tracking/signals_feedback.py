"""Receive anymail's tracking signal: store the event now, apply it in a worker.

Opens and clicks reported by the ESP are left to the engagement receiver
(tracking.receivers_engagement), which judges them like our own pixel and link hits.
"""

from __future__ import annotations

from typing import Any

from anymail.signals import tracking
from django.db import transaction
from django.dispatch import receiver

from tracking.feedback_tasks import process_esp_event
from tracking.services.esp_events import esp_event_record

_ENGAGEMENT_TYPES = {"opened", "clicked"}


@receiver(tracking, dispatch_uid="tracking.esp_feedback")
def on_esp_tracking_event(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    if event.event_type in _ENGAGEMENT_TYPES:
        return
    row = esp_event_record(event=event, esp_name=esp_name)
    if row is None:
        return
    transaction.on_commit(lambda: process_esp_event.delay(row.pk))
