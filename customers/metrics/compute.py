"""Recompute every customer's metrics as of a moment (default: now).

Set-based: one SQL GROUP BY over orders, NumPy over the per-customer summary (RFM,
lifecycle, model fits and predictions), chunked bulk writes. Customers without an order
before `as_of` become leads in one UPDATE. This writes the live figures; replaying history
(`--as-of`) is a back-test (customers.metrics.backtest), which never touches them.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from customers.metrics import aggregates, lifecycle, predict, rfm, writer
from customers.models import Customer, LifecycleStage

logger = logging.getLogger(__name__)

DAY = 86400.0
_LOCK_NAME = "customers.compute_metrics"


@dataclass
class MetricsRun:
    as_of: datetime
    buyers: int = 0
    leads_reset: int = 0
    skipped: bool = False  # another run held the lock
    bg_nbd_fitted: bool = False
    gamma_gamma_fitted: bool = False
    seconds: dict[str, float] = field(default_factory=dict)


def parse_as_of(value: str) -> datetime:
    """The moment history is cut at: only orders placed before it count.

    A date includes that whole day (UTC): "2025-03-31" cuts at 2025-04-01 00:00 UTC, so an
    order placed at 23:59 on the 31st counts. A datetime is taken as given (UTC unless it
    carries an offset).
    """
    try:
        day = parse_date(value.strip())  # first: fromisoformat would read a bare date as its midnight
        moment = None if day is not None else parse_datetime(value.strip())
    except ValueError:  # well formed but impossible, e.g. 2025-02-30
        day = moment = None
    if day is not None:
        return datetime.combine(day + timedelta(days=1), dt_time.min, tzinfo=UTC)
    if moment is None:
        raise ValueError(f"not a date (YYYY-MM-DD) or ISO datetime: {value!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _nullable(values: np.ndarray, decimals: int | None = None) -> list:
    if decimals is not None:
        values = np.round(values, decimals)
    return np.where(np.isnan(values), None, values).tolist()


def customers_reset_leads(*, computed_at: datetime) -> int:
    """Every customer this run did not write as a buyer becomes a lead, in one UPDATE.

    Rows already in the lead state are skipped, so a shop with many subscribers and few
    buyers does not rewrite them every night.
    """
    written_now = Q(metrics_computed_at=computed_at)
    clean_lead = Q(orders_count=0, lifecycle_stage=LifecycleStage.LEAD, metrics_computed_at__isnull=False)
    return (
        Customer.objects.exclude(written_now)
        .exclude(clean_lead)
        .update(
            orders_count=0, total_spent=0, average_order_value=None, first_order_at=None, last_order_at=None,
            mean_days_between_orders=None, recency_score=None, frequency_score=None, monetary_score=None,
            rfm_segment="", lifecycle_stage=LifecycleStage.LEAD, churn_risk=None, p_alive=None,
            expected_purchases_90d=None, expected_order_value=None, predicted_value=None,
            metrics_computed_at=computed_at,
        )
    )  # fmt: skip


@contextmanager
def _exclusive() -> Iterator[bool]:
    """One run at a time (nightly beat and the admin button may meet): the lead reset assumes
    every buyer row stamped by another run is stale."""
    if connection.vendor == "postgresql":
        key = zlib.crc32(_LOCK_NAME.encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = bool(cursor.fetchone()[0])
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    acquired = cache.add(_LOCK_NAME, 1, timeout=settings.METRICS_TASK_TIME_LIMIT)
    try:
        yield acquired
    finally:
        if acquired:
            cache.delete(_LOCK_NAME)


def customer_metrics_compute(*, as_of: datetime | None = None) -> MetricsRun:
    """Write the live metrics. `as_of` is the clock (default now, a fixed one in tests): to replay
    history without touching live figures use customers.metrics.backtest."""
    computed_at = timezone.now()
    as_of = as_of or computed_at
    with _exclusive() as acquired:
        if not acquired:
            logger.warning("Customer metrics: another run is in progress, skipped")
            return MetricsRun(as_of=as_of, skipped=True)
        return _compute(as_of=as_of, computed_at=computed_at)


def _compute(*, as_of: datetime, computed_at: datetime) -> MetricsRun:
    run = MetricsRun(as_of=as_of)
    clock = time.perf_counter()

    summary = aggregates.order_summary(as_of=as_of)
    run.seconds["aggregate"] = time.perf_counter() - clock
    run.buyers = len(summary)

    if run.buyers:
        columns = metrics_columns(summary, run)
        clock = time.perf_counter()
        writer.write_metrics(
            ids=summary.customer_id.tolist(),
            columns=columns,
            computed_at=computed_at,
            batch_size=settings.METRICS_UPDATE_BATCH_SIZE,
        )
        run.seconds["write"] = time.perf_counter() - clock

    clock = time.perf_counter()
    run.leads_reset = customers_reset_leads(computed_at=computed_at)
    run.seconds["leads"] = time.perf_counter() - clock
    logger.info("Customer metrics as of %s: %d buyers, %d leads reset", as_of, run.buyers, run.leads_reset)
    return run


def metrics_columns(summary: aggregates.OrderSummary, run: MetricsRun, *, backtest: bool = False) -> dict[str, list]:
    clock = time.perf_counter()
    now_epoch = summary.as_of.timestamp()
    n = summary.orders_count
    aov = summary.total_spent / n
    span_days = (summary.last_order_epoch - summary.first_order_epoch) / DAY
    age_days = (now_epoch - summary.first_order_epoch) / DAY
    days_since_last = (now_epoch - summary.last_order_epoch) / DAY
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_interval = np.where(n > 1, span_days / (n - 1), np.nan)

    r, f, m = rfm.rfm_scores(last_order_epoch=summary.last_order_epoch, orders_count=n, total_spent=summary.total_spent)
    segments = rfm.rfm_segments(recency=r, frequency=f, monetary=m, orders_count=n)
    run.seconds["rfm"] = time.perf_counter() - clock

    clock = time.perf_counter()
    pred = predict.predict(
        orders_count=n, aov=aov, t_x_days=span_days, age_days=age_days, as_of=summary.as_of, backtest=backtest
    )
    run.bg_nbd_fitted = pred.bg_fit.converged
    run.gamma_gamma_fitted = pred.gg_fit.converged
    run.seconds["models"] = time.perf_counter() - clock

    clock = time.perf_counter()
    stages = lifecycle.lifecycle_stages(
        days_since_first=age_days,
        days_since_last=days_since_last,
        mean_interval_days=mean_interval,
        p_alive=pred.p_alive,
        thresholds=lifecycle.LifecycleThresholds.from_settings(),
    )
    columns = {
        "orders_count": n.tolist(),
        "total_spent": np.round(summary.total_spent, 2).tolist(),
        "average_order_value": np.round(aov, 2).tolist(),
        "first_order_at": summary.first_order_text,
        "last_order_at": summary.last_order_text,
        "mean_days_between_orders": _nullable(mean_interval, 3),
        "recency_score": r.tolist(),
        "frequency_score": f.tolist(),
        "monetary_score": m.tolist(),
        "rfm_segment": segments.tolist(),
        "lifecycle_stage": stages.tolist(),
        "churn_risk": _nullable(1.0 - pred.p_alive, 6),
        "p_alive": _nullable(pred.p_alive, 6),
        "expected_purchases_90d": _nullable(pred.expected_purchases_90d, 6),
        "expected_order_value": _nullable(pred.expected_order_value, 2),
        "predicted_value": _nullable(pred.predicted_value, 2),
    }
    run.seconds["derive"] = time.perf_counter() - clock
    return columns
