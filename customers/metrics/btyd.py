"""Buy-till-you-die models on per-customer summaries, in NumPy/SciPy.

BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative
to the Pareto/NBD Model", Marketing Science 24(2). Inputs per customer: x repeat purchases,
t_x time of the last purchase and T age, both measured from the first purchase.

Gamma-Gamma: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer
Base Analysis", JMR 42(4), and Fader & Hardie's note "The Gamma-Gamma Model of Monetary
Value" (2013). Inputs: number of transactions x and their mean value zbar.

Parameters are fitted by maximum likelihood over log-parameters (so they stay positive)
with L-BFGS-B; the BG/NBD log-likelihood has an analytic gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float


@dataclass(frozen=True)
class FitResult:
    params: BgNbdParams | GammaGammaParams
    log_likelihood: float
    n: int
    converged: bool
    message: str


class _Summary:
    """Per-customer (x, t_x, T), plus the distinct x values: the special functions depend on x
    alone, so they are evaluated once per distinct x and summed with counts."""

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
        self.x, self.t_x, self.T = x, t_x, T
        self.repeat = x > 0
        self.ux, self.inverse, self.counts = np.unique(x, return_inverse=True, return_counts=True)

    def per_customer(self, values_by_x: np.ndarray) -> np.ndarray:
        return values_by_x[self.inverse]


def _bgnbd_mixture(r: float, alpha: float, a: float, b: float, d: _Summary):
    """Log of the bracket in eq. (6), per customer, and the weights of its two terms."""
    a3 = -(d.x + r) * np.log(alpha + d.T)
    a4 = np.full_like(a3, -np.inf)
    rep = d.repeat
    log_ratio = np.log(a) - np.log(np.maximum(b + d.ux - 1, 1e-300))
    a4[rep] = d.per_customer(log_ratio)[rep] - (r + d.x[rep]) * np.log(alpha + d.t_x[rep])
    top = np.maximum(a3, a4)
    e3, e4 = np.exp(a3 - top), np.exp(a4 - top)
    total = e3 + e4
    return top + np.log(total), e3 / total, e4 / total


def _bgnbd_x_terms(r: float, alpha: float, a: float, b: float, ux: np.ndarray) -> np.ndarray:
    """gammaln/betaln part of eq. (6) for each distinct x."""
    return gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + betaln(a, b + ux) - betaln(a, b)


def _bgnbd_negll(theta: np.ndarray, d: _Summary):
    r, alpha, a, b = np.exp(theta)
    log_sum, w3, w4 = _bgnbd_mixture(r, alpha, a, b, d)
    ll = float((d.counts * _bgnbd_x_terms(r, alpha, a, b, d.ux)).sum() + log_sum.sum())
    ux, n = d.ux, d.counts
    rx = r + d.x
    log_alpha_tx = np.zeros_like(d.T)
    log_alpha_tx[d.repeat] = np.log(alpha + d.t_x[d.repeat])
    inv_b = np.zeros_like(ux)
    inv_b[ux > 0] = 1.0 / (b + ux[ux > 0] - 1)
    # Products summed element-wise rather than np.dot: one pass, no BLAS thread start-up.
    d_r = (n * (digamma(r + ux) - digamma(r) + np.log(alpha))).sum() - (
        w3 * np.log(alpha + d.T) + w4 * log_alpha_tx
    ).sum()
    d_alpha = n.sum() * r / alpha - (rx * (w3 / (alpha + d.T) + w4 / (alpha + d.t_x))).sum()
    d_a = (n * (digamma(a + b) - digamma(a + b + ux))).sum() + w4.sum() / a
    d_b = (n * (digamma(b + ux) - digamma(a + b + ux) - digamma(b) + digamma(a + b))).sum() - (
        w4 * d.per_customer(inv_b)
    ).sum()
    return -ll, -np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])


def bgnbd_fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, start: BgNbdParams | None = None) -> FitResult:
    """Maximum-likelihood BG/NBD fit. Times in any unit; alpha comes back in that unit.

    `start` (e.g. yesterday's parameters) only speeds convergence up; the optimum is the same.
    """
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    # Rescale time so the largest age is 10: the optimiser then starts near the answer
    # whatever the unit (days or weeks); alpha is scaled back afterwards.
    scale = float(T.max()) / 10.0 if T.size and T.max() > 0 else 1.0
    theta0 = np.zeros(4)
    if start is not None:
        theta0 = np.clip(np.log([start.r, start.alpha / scale, start.a, start.b]), -11.0, 11.0)
    data = _Summary(x, t_x / scale, T / scale)
    result = minimize(_bgnbd_negll, theta0, args=(data,), jac=True, method="L-BFGS-B", bounds=[(-12.0, 12.0)] * 4)
    r, alpha, a, b = np.exp(result.x)
    params = BgNbdParams(r=float(r), alpha=float(alpha * scale), a=float(a), b=float(b))
    # The optimum is for rescaled time; report the log-likelihood of the data as given.
    ll = bgnbd_log_likelihood(params, x, t_x, T)
    return FitResult(params, ll, int(x.size), bool(result.success), str(result.message))


def bgnbd_log_likelihood(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> float:
    d = _Summary(np.asarray(x, float), np.asarray(t_x, float), np.asarray(T, float))
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    return float((d.counts * _bgnbd_x_terms(r, alpha, a, b, d.ux)).sum() + _bgnbd_mixture(r, alpha, a, b, d)[0].sum())


def bgnbd_p_alive(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still active | x, t_x, T). Equals 1 when x = 0: in BG/NBD dropout only follows a repeat purchase."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    out = np.ones_like(T, dtype=float)
    m = x > 0
    log_odds = np.log(a) - np.log(b + x[m] - 1) + (r + x[m]) * (np.log(alpha + T[m]) - np.log(alpha + t_x[m]))
    out[m] = np.exp(-np.logaddexp(0.0, log_odds))
    return out


def bgnbd_expected_purchases(
    params: BgNbdParams, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T], equation (10) of Fader, Hardie & Lee (2005)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    with np.errstate(all="ignore"):
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        head = (a + b + x - 1) / (a - 1) * (1 - np.exp((r + x) * np.log((alpha + T) / (alpha + T + t))) * hyp)
        denom = 1 + (x > 0) * (a / np.maximum(b + x - 1, 1e-12)) * np.exp(
            (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
        value = head / denom
    # hyp2f1 loses precision for very frequent buyers; the posterior mean rate times P(alive)
    # is the limit the exact formula approaches there.
    fallback = bgnbd_p_alive(params, x, t_x, T) * (r + x) / (alpha + T) * t
    bad = ~np.isfinite(value) | (value < 0)
    return np.where(bad, fallback, value)


class _Spend:
    """(x, zbar) with the parameter-free parts of the Gamma-Gamma likelihood precomputed."""

    def __init__(self, x: np.ndarray, zbar: np.ndarray) -> None:
        self.x, self.zbar = x, zbar
        self.log_zbar = np.log(zbar)
        self.ux, self.counts = np.unique(x, return_counts=True)
        self.sum_x_log_zbar = float((x * self.log_zbar).sum())
        self.sum_log_zbar = float(self.log_zbar.sum())


def _gg_negll(theta: np.ndarray, d: _Spend) -> float:
    p, q, g = np.exp(theta)
    pu = p * d.ux
    by_x = gammaln(pu + q) - gammaln(pu) + pu * np.log(d.ux)
    n = d.x.size
    ll = (
        (d.counts * by_x).sum() - n * gammaln(q) + n * q * np.log(g)
        + p * d.sum_x_log_zbar - d.sum_log_zbar
        - ((p * d.x + q) * np.log(g + d.x * d.zbar)).sum()
    )  # fmt: skip
    return -float(ll)


def gamma_gamma_fit(x: np.ndarray, zbar: np.ndarray) -> FitResult:
    """Fit on customers with x >= 1 transactions of mean value zbar > 0."""
    x = np.asarray(x, dtype=float)
    zbar = np.asarray(zbar, dtype=float)
    scale = float(np.median(zbar)) if zbar.size else 1.0
    result = minimize(
        _gg_negll, np.array([0.0, 1.0, 0.0]), args=(_Spend(x, zbar / scale),), method="L-BFGS-B",
        bounds=[(-12.0, 12.0)] * 3,
    )  # fmt: skip
    p, q, g = np.exp(result.x)
    params = GammaGammaParams(p=float(p), q=float(q), gamma=float(g * scale))
    ll = -_gg_negll(np.log([params.p, params.q, params.gamma]), _Spend(x, zbar))
    return FitResult(params, ll, int(x.size), bool(result.success), str(result.message))


def gamma_gamma_expected_value(params: GammaGammaParams, x: np.ndarray, zbar: np.ndarray) -> np.ndarray:
    """E[mean order value | x, zbar]: a weighted mean of the population mean and the customer's own."""
    p, q, g = params.p, params.q, params.gamma
    return p * (g + x * zbar) / (p * x + q - 1)
