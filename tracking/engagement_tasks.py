"""Celery tasks for opens, clicks and engagement scores."""

from __future__ import annotations

from celery import shared_task

from tracking.services.classification import tracking_events_classify
from tracking.services.engagement import engagement_recompute_all
from tracking.services.tracking_events import tracking_buffer_drain

__all__ = ["process_hits", "engagement_recompute"]


@shared_task(name="tracking.process_hits", soft_time_limit=50, time_limit=60, ignore_result=True)
def process_hits() -> dict[str, int]:
    """Move buffered hits into the database, then judge pending events (every few seconds)."""
    drained = tracking_buffer_drain()
    judged = 0
    while (batch := tracking_events_classify(limit=5000)) > 0:
        judged += batch
        if batch < 5000:
            break
    return {"drained": drained, "judged": judged}


@shared_task(name="tracking.engagement_recompute", soft_time_limit=3000, time_limit=3600, ignore_result=True)
def engagement_recompute() -> int:
    """Rebuild every engagement score from the raw rows (nightly)."""
    return engagement_recompute_all()
