"""Lifecycle stage of each buyer, judged against the customer's own buying rhythm.

The rhythm is the customer's mean days between orders; for one-time buyers it is the
shop-wide median of that figure over repeat buyers (or LIFECYCLE_DEFAULT_INTERVAL_DAYS
while there are none), never below LIFECYCLE_MIN_INTERVAL_DAYS. With
ratio = days since the last order / rhythm, the first rule that matches gives the stage:

    new       first order less than LIFECYCLE_NEW_DAYS ago
    churned   ratio >= LIFECYCLE_CHURNED_RATIO, or silent LIFECYCLE_CHURNED_MAX_DAYS or more,
              or overdue (ratio >= LIFECYCLE_AT_RISK_RATIO) with P(alive) < LIFECYCLE_CHURNED_P_ALIVE
    lapsed    ratio >= LIFECYCLE_LAPSED_RATIO
    at_risk   ratio >= LIFECYCLE_AT_RISK_RATIO
    active    otherwise

So a weekly buyer silent for three weeks is at risk, while a yearly buyer silent for
three weeks is active. Customers without an order are leads (set by the caller).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings

from customers.models import LifecycleStage

DAY = 86400.0


@dataclass(frozen=True)
class LifecycleThresholds:
    new_days: float
    at_risk_ratio: float
    lapsed_ratio: float
    churned_ratio: float
    churned_max_days: float
    churned_p_alive: float
    min_interval_days: float
    default_interval_days: float

    @classmethod
    def from_settings(cls) -> LifecycleThresholds:
        return cls(
            new_days=settings.LIFECYCLE_NEW_DAYS,
            at_risk_ratio=settings.LIFECYCLE_AT_RISK_RATIO,
            lapsed_ratio=settings.LIFECYCLE_LAPSED_RATIO,
            churned_ratio=settings.LIFECYCLE_CHURNED_RATIO,
            churned_max_days=settings.LIFECYCLE_CHURNED_MAX_DAYS,
            churned_p_alive=settings.LIFECYCLE_CHURNED_P_ALIVE,
            min_interval_days=settings.LIFECYCLE_MIN_INTERVAL_DAYS,
            default_interval_days=settings.LIFECYCLE_DEFAULT_INTERVAL_DAYS,
        )


def shop_interval_days(mean_interval_days: np.ndarray, thresholds: LifecycleThresholds) -> float:
    """The typical rhythm used for customers with a single order."""
    known = mean_interval_days[np.isfinite(mean_interval_days)]
    median = float(np.median(known)) if known.size else thresholds.default_interval_days
    return max(median, thresholds.min_interval_days)


def rhythm_days(mean_interval_days: np.ndarray, thresholds: LifecycleThresholds) -> np.ndarray:
    shop = shop_interval_days(mean_interval_days, thresholds)
    own = np.where(np.isfinite(mean_interval_days), mean_interval_days, shop)
    return np.maximum(own, thresholds.min_interval_days)


def lifecycle_stages(
    *,
    days_since_first: np.ndarray,
    days_since_last: np.ndarray,
    mean_interval_days: np.ndarray,
    p_alive: np.ndarray,
    thresholds: LifecycleThresholds,
) -> np.ndarray:
    """Stage values (LifecycleStage) per buyer; p_alive may hold NaN where unknown."""
    ratio = days_since_last / rhythm_days(mean_interval_days, thresholds)
    overdue = ratio >= thresholds.at_risk_ratio
    unlikely_alive = np.nan_to_num(p_alive, nan=1.0) < thresholds.churned_p_alive
    conditions = [
        days_since_first < thresholds.new_days,
        (ratio >= thresholds.churned_ratio)
        | (days_since_last >= thresholds.churned_max_days)
        | (overdue & unlikely_alive),
        ratio >= thresholds.lapsed_ratio,
        overdue,
    ]
    choices = [LifecycleStage.NEW, LifecycleStage.CHURNED, LifecycleStage.LAPSED, LifecycleStage.AT_RISK]
    return np.select(conditions, [c.value for c in choices], default=LifecycleStage.ACTIVE.value).astype(object)
