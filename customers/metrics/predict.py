"""Fit BG/NBD and Gamma-Gamma on the order summary and predict per customer.

Small shops: each model is fitted only when at least METRICS_MIN_REPEAT_BUYERS customers
have ordered more than once, and its result is used only if the optimiser converged to
finite parameters (and, for Gamma-Gamma, q > 1 so the mean order value exists). Otherwise
a ModelFit row records why, and the predictions fall back:

- no BG/NBD: P(alive), churn risk, expected purchases and predicted value stay empty;
  the lifecycle stage then rests on the buying rhythm alone;
- no Gamma-Gamma: the expected order value is the customer's own average order value.

P(alive) and churn risk are left empty for one-time buyers: in BG/NBD dropout can only
follow a repeat purchase, so the model would report them alive with certainty.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.conf import settings

from customers.metrics import btyd
from customers.models import ModelFit, ModelFitKind

logger = logging.getLogger(__name__)

DAYS_PER_MONTH = 365.25 / 12


@dataclass
class Predictions:
    p_alive: np.ndarray  # NaN where unknown
    expected_purchases_90d: np.ndarray
    expected_order_value: np.ndarray
    predicted_value: np.ndarray
    bg_fit: ModelFit
    gg_fit: ModelFit


def _finite(values: list[float]) -> bool:
    return all(np.isfinite(v) and v > 0 for v in values)


def _record(
    kind: str, as_of: datetime, n: int, fit: btyd.FitResult | None, note: str, *, backtest: bool = False
) -> ModelFit:
    params = {} if fit is None else {k: round(v, 6) for k, v in vars(fit.params).items()}
    return ModelFit.objects.create(
        is_backtest=backtest,
        kind=kind,
        params=params,
        log_likelihood=None if fit is None else fit.log_likelihood,
        n_customers=n,
        converged=fit is not None and fit.converged and not note,
        note=note[:255],
        as_of=as_of,
    )


def _previous_bgnbd() -> btyd.BgNbdParams | None:
    """The last parameters used live: a warm start for tonight's fit (back-tests are never read back)."""
    last = (
        ModelFit.objects.filter(kind=ModelFitKind.BG_NBD, converged=True, is_backtest=False)
        .order_by("-fitted_at")
        .first()
    )
    try:
        return btyd.BgNbdParams(**last.params) if last else None
    except TypeError:
        return None


def fit_bgnbd(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, as_of: datetime, backtest: bool = False
) -> tuple[btyd.BgNbdParams | None, ModelFit]:
    repeat = int((x > 0).sum())
    if repeat < settings.METRICS_MIN_REPEAT_BUYERS:
        return None, _record(
            ModelFitKind.BG_NBD, as_of, x.size, None, f"Not fitted: {repeat} repeat buyers.", backtest=backtest
        )
    try:
        fit = btyd.bgnbd_fit(x, t_x, T, start=_previous_bgnbd())
    except (ValueError, FloatingPointError, ArithmeticError) as exc:
        logger.warning("BG/NBD fit failed: %s", exc)
        return None, _record(ModelFitKind.BG_NBD, as_of, x.size, None, f"Fit failed: {exc}", backtest=backtest)
    usable = fit.converged and _finite(list(vars(fit.params).values()))
    note = "" if usable else f"Not used: {fit.message}"
    return (fit.params if usable else None), _record(ModelFitKind.BG_NBD, as_of, x.size, fit, note, backtest=backtest)


def fit_gamma_gamma(
    n_orders: np.ndarray, aov: np.ndarray, *, as_of: datetime, backtest: bool = False
) -> tuple[btyd.GammaGammaParams | None, ModelFit]:
    # x = all of a customer's orders and zbar their mean: the paper averages repeat orders only,
    # but the per-customer summary holds no single order's value, so the first one is included.
    mask = (n_orders >= 2) & (aov > 0)
    n = int(mask.sum())
    if n < settings.METRICS_MIN_REPEAT_BUYERS:
        return None, _record(
            ModelFitKind.GAMMA_GAMMA, as_of, n, None, f"Not fitted: {n} repeat buyers.", backtest=backtest
        )
    try:
        fit = btyd.gamma_gamma_fit(n_orders[mask], aov[mask])
    except (ValueError, FloatingPointError, ArithmeticError) as exc:
        logger.warning("Gamma-Gamma fit failed: %s", exc)
        return None, _record(ModelFitKind.GAMMA_GAMMA, as_of, n, None, f"Fit failed: {exc}", backtest=backtest)
    params = fit.params
    usable = fit.converged and _finite(list(vars(params).values())) and params.q > 1
    note = "" if usable else f"Not used (q must exceed 1): {fit.message}"
    return (params if usable else None), _record(ModelFitKind.GAMMA_GAMMA, as_of, n, fit, note, backtest=backtest)


def expected_purchases_over(params: btyd.BgNbdParams, horizon_days: float, x, t_x, T) -> np.ndarray:
    """Expected purchases over the horizon, discounted monthly when a rate is set."""
    rate = settings.METRICS_MONTHLY_DISCOUNT_RATE
    if rate <= 0:
        return btyd.bgnbd_expected_purchases(params, horizon_days, x, t_x, T)
    months = int(np.ceil(horizon_days / DAYS_PER_MONTH))
    total = np.zeros_like(T)
    previous = np.zeros_like(T)
    for m in range(1, months + 1):
        cumulative = btyd.bgnbd_expected_purchases(params, min(m * DAYS_PER_MONTH, horizon_days), x, t_x, T)
        total += (cumulative - previous) / (1 + rate) ** m
        previous = cumulative
    return total


def predict(
    *,
    orders_count: np.ndarray,
    aov: np.ndarray,
    t_x_days: np.ndarray,
    age_days: np.ndarray,
    as_of: datetime,
    backtest: bool = False,
) -> Predictions:
    x = (orders_count - 1).astype(float)
    bg, bg_fit = fit_bgnbd(x, t_x_days, age_days, as_of=as_of, backtest=backtest)
    gg, gg_fit = fit_gamma_gamma(orders_count.astype(float), aov, as_of=as_of, backtest=backtest)

    if gg is not None:
        expected_value = btyd.gamma_gamma_expected_value(gg, orders_count.astype(float), aov)
    else:
        expected_value = aov.copy()

    nan = np.full(orders_count.shape, np.nan)
    if bg is None:
        return Predictions(nan, nan.copy(), expected_value, nan.copy(), bg_fit, gg_fit)
    p_alive = np.where(x > 0, btyd.bgnbd_p_alive(bg, x, t_x_days, age_days), np.nan)
    purchases_90d = btyd.bgnbd_expected_purchases(bg, 90.0, x, t_x_days, age_days)
    horizon = expected_purchases_over(bg, float(settings.METRICS_CLV_HORIZON_DAYS), x, t_x_days, age_days)
    return Predictions(p_alive, purchases_90d, expected_value, horizon * expected_value, bg_fit, gg_fit)
