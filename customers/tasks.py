"""Celery tasks for shop data."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from customers.metrics.backtest import customer_metrics_backtest
from customers.metrics.compute import customer_metrics_compute, parse_as_of
from customers.services.imports.jobs import import_job_run


@shared_task(
    name="customers.compute_metrics",
    time_limit=settings.METRICS_TASK_TIME_LIMIT,
    soft_time_limit=settings.METRICS_TASK_TIME_LIMIT - 60,
)
def compute_metrics(as_of: str | None = None) -> dict:
    """Nightly (beat, 02:30 UTC) and on demand from the admin metrics dashboard.

    With `as_of` it is a back-test: a report under VAR_DIR/backtests/, the live figures untouched.
    """
    if as_of:
        test = customer_metrics_backtest(as_of=parse_as_of(as_of))
        return {"backtest": True, "buyers": test.buyers, "as_of": test.as_of.isoformat(), "report": str(test.report)}
    run = customer_metrics_compute()
    return {
        "buyers": run.buyers,
        "leads_reset": run.leads_reset,
        "as_of": run.as_of.isoformat(),
        "skipped": run.skipped,
    }


@shared_task(
    name="customers.import_run",
    time_limit=settings.IMPORT_TASK_TIME_LIMIT,
    soft_time_limit=settings.IMPORT_TASK_TIME_LIMIT - 60,
)
def import_run(job_id: int) -> dict:
    """A CSV uploaded in the admin (queued on commit by import_job_create)."""
    job = import_job_run(job_id=job_id)
    return {"job": job_id, "status": job.status if job else "not queued"}
