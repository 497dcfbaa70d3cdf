"""Back-tests: the metrics as they would have been at a past moment, written to a report only.

`compute_customer_metrics --as-of DATE` replays history: only orders placed before the cut
count, the models are fitted on that history, and every buyer's figures go to a CSV report
under VAR_DIR/backtests/ (or the path given). Next to each prediction the report puts what
really happened in the following days, so a fit can be judged against the outcome. The live
figures on Customer are never written, and the fits are stored flagged as back-tests, which
the dashboard and the nightly warm start never read.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone

from customers.metrics import aggregates
from customers.metrics.compute import MetricsRun, metrics_columns
from customers.metrics.writer import COLUMNS as METRIC_COLUMNS
from customers.models import Customer, Order

HORIZON_DAYS = 90  # matches expected_purchases_90d

# The figures the nightly recompute writes to live customers, in the same order.
REPORT_COLUMNS = tuple(name for name, _ in METRIC_COLUMNS)


@dataclass
class BacktestRun:
    as_of: datetime
    report: Path
    buyers: int = 0
    bg_nbd_fitted: bool = False
    gamma_gamma_fitted: bool = False
    observed_days: float = 0.0  # how much of the horizon after as_of has happened yet
    predicted_purchases: float | None = None  # sum of expected_purchases_90d (None: model not fitted)
    actual_purchases: int = 0  # orders those buyers placed within the horizon
    actual_revenue: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)


def backtest_report_path(*, as_of: datetime, now: datetime) -> Path:
    return settings.VAR_DIR / "backtests" / f"metrics-as-of-{as_of:%Y%m%dT%H%M}-run-{now:%Y%m%dT%H%M%S}.csv"


_CHUNK = 5000


def _chunks(ids: list[int]):
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _outcomes(ids: list[int], *, start: datetime, end: datetime) -> dict[int, tuple[int, float]]:
    """Orders each of these buyers placed in [start, end)."""
    found: dict[int, tuple[int, float]] = {}
    for part in _chunks(ids):
        rows = (
            Order.objects.filter(customer_id__in=part, placed_at__gte=start, placed_at__lt=end)
            .values("customer_id")
            .annotate(n=Count("pk"), revenue=Sum("total"))
            .values_list("customer_id", "n", "revenue")
        )
        found.update({pk: (n, float(revenue or 0)) for pk, n, revenue in rows})
    return found


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def customer_metrics_backtest(*, as_of: datetime, report: Path | None = None) -> BacktestRun:
    """Compute the metrics as of `as_of` into a CSV report; Customer rows are only read."""
    now = timezone.now()
    if as_of > now:
        raise ValueError(f"the back-test moment {as_of:%Y-%m-%d %H:%M} UTC is in the future")
    run = BacktestRun(as_of=as_of, report=report or backtest_report_path(as_of=as_of, now=now))
    summary = aggregates.order_summary(as_of=as_of)
    run.buyers = len(summary)
    ids = summary.customer_id.tolist()
    columns: dict[str, list] = {}
    if run.buyers:
        metrics = MetricsRun(as_of=as_of)
        columns = metrics_columns(summary, metrics, backtest=True)
        run.bg_nbd_fitted, run.gamma_gamma_fitted = metrics.bg_nbd_fitted, metrics.gamma_gamma_fitted
        run.seconds = metrics.seconds
    end = min(as_of + timedelta(days=HORIZON_DAYS), now)
    run.observed_days = max(0.0, (end - as_of).total_seconds() / 86400)
    outcomes = _outcomes(ids, start=as_of, end=end) if ids else {}
    run.actual_purchases = sum(n for n, _ in outcomes.values())
    run.actual_revenue = round(sum(r for _, r in outcomes.values()), 2)
    if run.bg_nbd_fitted:
        run.predicted_purchases = float(sum(v for v in columns["expected_purchases_90d"] if v is not None))
    _write(run, ids, columns, outcomes)
    return run


def _write(run: BacktestRun, ids: list[int], columns: dict[str, list], outcomes: dict[int, tuple[int, float]]) -> None:
    external: dict[int, str | None] = {}
    for part in _chunks(ids):
        external.update(Customer.objects.filter(pk__in=part).values_list("pk", "external_id"))
    run.report.parent.mkdir(parents=True, exist_ok=True)
    with open(run.report, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "customer_id",
                "external_id",
                *REPORT_COLUMNS,
                f"orders_next_{HORIZON_DAYS}d",
                f"revenue_next_{HORIZON_DAYS}d",
            ]
        )
        for index, pk in enumerate(ids):
            n, revenue = outcomes.get(pk, (0, 0.0))
            values = [_cell(columns[name][index]) for name in REPORT_COLUMNS]
            writer.writerow([pk, external.get(pk) or "", *values, n, f"{revenue:.2f}"])
