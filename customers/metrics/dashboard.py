"""Read-side figures for the admin metrics dashboard: two GROUP BY queries and the latest fits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max

from customers.models import Customer, LifecycleStage, ModelFit, ModelFitKind, RfmSegment


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    count: int
    percent: float  # share of the table's total, 0–100


def _bars(field: str, choices: list[tuple[str, str]], queryset) -> list[Bar]:
    counts = dict(queryset.values_list(field).annotate(n=Count("pk")).order_by())
    total = sum(counts.get(value, 0) for value, _ in choices) or 1
    return [Bar(value, label, counts.get(value, 0), 100.0 * counts.get(value, 0) / total) for value, label in choices]


@dataclass(frozen=True)
class MetricsOverview:
    customers: int
    last_computed_at: datetime | None
    by_stage: list[Bar]
    by_segment: list[Bar]
    fits: list[ModelFit]


def metrics_overview() -> MetricsOverview:
    everyone = Customer.objects.all()
    live = ModelFit.objects.filter(is_backtest=False).order_by("-fitted_at")
    latest = [live.filter(kind=kind).first() for kind in ModelFitKind.values]
    return MetricsOverview(
        customers=everyone.count(),
        last_computed_at=everyone.aggregate(m=Max("metrics_computed_at"))["m"],
        by_stage=_bars("lifecycle_stage", LifecycleStage.choices, everyone),
        by_segment=_bars("rfm_segment", RfmSegment.choices, everyone.exclude(rfm_segment="")),
        fits=[fit for fit in latest if fit is not None],
    )
