"""ESP feedback (webhooks). Opens and clicks are added by the tracking issue."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class EspEvent(models.Model):
    """A webhook event from the ESP, deduplicated by the ESP's event id."""

    event_id = models.CharField(max_length=255, unique=True)
    esp = models.CharField(max_length=32)
    event_type = models.CharField(max_length=32, db_index=True)
    message = models.ForeignKey(
        "campaigns.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="esp_events"
    )
    esp_message_id = models.CharField(max_length=128, blank=True, db_index=True)
    recipient_hash = models.CharField(max_length=64, blank=True)
    reject_reason = models.CharField(max_length=64, blank=True)
    description = models.TextField(blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "ESP event"
