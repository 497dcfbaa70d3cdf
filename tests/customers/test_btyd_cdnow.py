"""The BG/NBD and Gamma-Gamma fits reproduce the published results on the CDNOW sample."""

from pathlib import Path

import numpy as np
import pytest

from customers.metrics import btyd

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def cdnow():
    return np.genfromtxt(DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True)


def test_bgnbd_fit_matches_fader_hardie_lee_2005():
    data = np.genfromtxt(DATA / "cdnow_customers_summary.csv", delimiter=",", names=True)
    assert data.size == 2357
    fit = btyd.bgnbd_fit(data["frequency"], data["recency"], data["T"])
    # Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", section 5.
    assert fit.converged
    assert fit.params.r == pytest.approx(0.243, abs=0.005)
    assert fit.params.alpha == pytest.approx(4.414, abs=0.02)
    assert fit.params.a == pytest.approx(0.793, abs=0.005)
    assert fit.params.b == pytest.approx(2.426, abs=0.02)
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_bgnbd_conditional_expectation_matches_the_paper(cdnow):
    params = btyd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    one = np.array([1.0])
    # The paper's worked example: x = 2, t_x = 30.43, T = 38.86 weeks expects 1.226 purchases in the next 39 weeks.
    expected = btyd.bgnbd_expected_purchases(params, 39.0, 2 * one, 30.43 * one, 38.86 * one)
    assert expected[0] == pytest.approx(1.226, abs=0.002)
    p_alive = btyd.bgnbd_p_alive(params, np.array([0.0, 2.0]), np.array([0.0, 30.43]), np.array([38.86, 38.86]))
    assert p_alive[0] == 1.0 and 0 < p_alive[1] < 1


def test_gamma_gamma_fit_matches_fader_hardie_note(cdnow):
    repeat = cdnow[cdnow["x"] > 0]
    assert repeat.size == 946
    fit = btyd.gamma_gamma_fit(repeat["x"], repeat["zbar"])
    # Fader & Hardie, "The Gamma-Gamma Model of Monetary Value" (2013): p = 6.25, q = 3.74, gamma = 15.44.
    assert fit.params.p == pytest.approx(6.25, abs=0.02)
    assert fit.params.q == pytest.approx(3.74, abs=0.02)
    assert fit.params.gamma == pytest.approx(15.44, abs=0.05)
    # Population mean order value p * gamma / (q - 1), and shrinkage toward it for a customer.
    value = btyd.gamma_gamma_expected_value(fit.params, np.array([1.0]), np.array([1000.0]))[0]
    population = fit.params.p * fit.params.gamma / (fit.params.q - 1)
    assert population < value < 1000.0


def test_warm_start_reaches_the_same_optimum():
    data = np.genfromtxt(DATA / "cdnow_customers_summary.csv", delimiter=",", names=True)
    cold = btyd.bgnbd_fit(data["frequency"], data["recency"], data["T"])
    warm = btyd.bgnbd_fit(
        data["frequency"], data["recency"], data["T"], start=btyd.BgNbdParams(r=2.0, alpha=50.0, a=3.0, b=9.0)
    )
    assert warm.params.r == pytest.approx(cold.params.r, abs=1e-3)
    assert warm.params.b == pytest.approx(cold.params.b, abs=1e-2)
    assert warm.log_likelihood == pytest.approx(cold.log_likelihood, abs=1e-3)
