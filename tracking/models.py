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


class TrackedUrl(models.Model):
    """A distinct link target. Click tokens name a row here, so the target never comes from the URL."""

    url_hash = models.CharField(max_length=64, unique=True)
    url = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "tracked URL"

    def __str__(self) -> str:
        return self.url[:100]


class EventKind(models.TextChoices):
    OPEN = "open", "Open"
    CLICK = "click", "Click"


class Verdict(models.TextChoices):
    PENDING = "pending", "Not classified yet"
    HUMAN = "human", "Human"
    PROXY = "proxy", "Privacy proxy"
    SCANNER = "scanner", "Scanner"


class EventSource(models.TextChoices):
    ENDPOINT = "endpoint", "Our pixel / redirect"
    ESP = "esp", "ESP webhook"


class TrackingEvent(models.Model):
    """One raw open or click hit, kept with its verdict (human, privacy proxy or scanner)."""

    event_uuid = models.UUIDField(unique=True, help_text="Deduplicates buffered hits and replayed webhooks.")
    message = models.ForeignKey("campaigns.Message", on_delete=models.CASCADE, related_name="tracking_events")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="tracking_events"
    )
    kind = models.CharField(max_length=8, choices=EventKind.choices)
    url = models.ForeignKey(TrackedUrl, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    is_honeypot = models.BooleanField(default=False)
    occurred_at = models.DateTimeField()
    method = models.CharField(max_length=8, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    ip = models.CharField(max_length=64, blank=True, help_text="Truncated or hashed per TRACKING_IP_MODE.")
    network = models.CharField(max_length=16, blank=True, help_text="Known proxy network of the raw IP, e.g. apple.")
    verdict = models.CharField(max_length=8, choices=Verdict.choices, default=Verdict.PENDING)
    proxy_kind = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=64, blank=True)
    counts_as_human = models.BooleanField(default=False)
    source = models.CharField(max_length=8, choices=EventSource.choices, default=EventSource.ENDPOINT)
    esp_flags = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["message", "kind", "counts_as_human"]),
            models.Index(fields=["customer", "occurred_at"]),
            models.Index(fields=["verdict", "occurred_at"]),
            models.Index(fields=["kind", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_at:%Y-%m-%d %H:%M} ({self.get_verdict_display()})"


class EngagementState(models.Model):
    """The moment at which Customer.engagement_score is exact; decay is applied from here."""

    customer = models.OneToOneField(
        "customers.Customer", primary_key=True, on_delete=models.CASCADE, related_name="engagement_state"
    )
    as_of = models.DateTimeField()
