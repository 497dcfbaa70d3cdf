"""Reads over ESP feedback (webhook events)."""

from __future__ import annotations

from datetime import datetime

from tracking.models import EspEvent
from tracking.services.esp_events import TEMPORARY_BLOCK


def temporary_block_count(*, since: datetime) -> int:
    """Mails the receiving servers refused for a while (reputation, content), received since `since`.

    These suppress no one; a rising count is a warning about the sender, not the list.
    """
    return EspEvent.objects.filter(event_type=TEMPORARY_BLOCK, received_at__gte=since).count()
