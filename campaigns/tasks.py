"""Celery tasks of the send path: thin wrappers around services, ids and numbers only."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from campaigns.services.sending import messages_reconcile, messages_send_due

# Database hiccups are worth a few retries; anything else is a bug to see in the logs.
_DB_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    name="campaigns.send_due_messages",
    # The hard limit bounds how long a claimed row can be in flight: reconcile's safe wait
    # (settings.SEND_STUCK_AFTER_MIN_SECONDS) is computed from it.
    soft_time_limit=settings.SEND_TASK_SOFT_TIME_LIMIT_SECONDS,
    time_limit=settings.SEND_TASK_TIME_LIMIT_SECONDS,
    autoretry_for=_DB_ERRORS,
    max_retries=3,
    retry_backoff=True,
    ignore_result=True,
)
def send_due_messages(budget_seconds: float | None = None) -> dict[str, int]:
    """Send batches of due messages until none is left or the time budget is spent."""
    return messages_send_due(budget_seconds=budget_seconds)


@shared_task(
    name="campaigns.reconcile_stuck_messages",
    soft_time_limit=240,
    time_limit=300,
    autoretry_for=_DB_ERRORS,
    max_retries=3,
    retry_backoff=True,
    ignore_result=True,
)
def reconcile_stuck_messages(stuck_after_seconds: int | None = None) -> dict[str, int]:
    """Resolve messages left in 'sending' by a crashed worker (and unknown ones the ESP can tell us about)."""
    return messages_reconcile(stuck_after_seconds=stuck_after_seconds)


@shared_task(name="campaigns.dashboard_warm", soft_time_limit=240, time_limit=300, ignore_result=True)
def dashboard_warm() -> list[int]:
    """Recompute the admin dashboard's figures into the cache."""
    from campaigns.selectors.dashboard import dashboard_warm as warm

    return warm()
