import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection

from customers.metrics.compute import customer_metrics_compute
from customers.metrics.explain import customer_metric_explanations
from customers.metrics.rfm import quintile_scores
from customers.models import Customer, LifecycleStage, ModelFit, ModelFitKind, Order, RfmSegment

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, tzinfo=UTC)
_ids = count(1)


def buyer(name: str, *order_days_ago: float, amount: str | list[str] = "20.00") -> Customer:
    customer = Customer.objects.create(email=f"{name}@example.com")
    amounts = amount if isinstance(amount, list) else [amount] * len(order_days_ago)
    Order.objects.bulk_create(
        Order(
            external_id=f"o{next(_ids)}", customer=customer, placed_at=NOW - timedelta(days=days), total=Decimal(value)
        )
        for days, value in zip(order_days_ago, amounts, strict=True)
    )
    return customer


def test_aggregates_count_only_orders_before_as_of():
    ann = buyer("ann", 40, 30, 10, -5, amount=["10.00", "20.50", "30.25", "99.00"])
    customer_metrics_compute(as_of=NOW)
    ann.refresh_from_db()
    assert ann.orders_count == 3
    assert ann.total_spent == Decimal("60.75")
    assert ann.average_order_value == Decimal("20.25")
    assert ann.first_order_at == NOW - timedelta(days=40)
    assert ann.last_order_at == NOW - timedelta(days=10)
    assert ann.mean_days_between_orders == pytest.approx(15.0)
    assert ann.metrics_computed_at is not None


def test_customer_without_orders_is_a_lead():
    lead = Customer.objects.create(email="lead@example.com")
    customer_metrics_compute(as_of=NOW)
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.LEAD
    assert lead.orders_count == 0 and lead.rfm_segment == ""


def test_quintile_scores_split_buyers_into_fifths_and_ties_share_a_score():
    assert quintile_scores(np.arange(10)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # Most buyers ordered once: they all get F=1, and the rest rank above them.
    scores = quintile_scores(np.array([1] * 7 + [2, 3, 9]))
    assert scores.tolist() == [1] * 7 + [4, 5, 5]


def test_rfm_scores_and_segments_over_buyers():
    best = buyer("best", 5, 15, 25, 35, 45, amount="90.00")
    fresh = buyer("fresh", 2)
    faded = buyer("faded", 300, 310, 320, 330, 340, amount="90.00")
    others = [buyer(f"mid{i}", 60 + 20 * i, 100 + 20 * i, amount="15.00") for i in range(7)]
    customer_metrics_compute(as_of=NOW)
    for c in (best, fresh, faded, *others):
        c.refresh_from_db()
    assert (best.recency_score, best.frequency_score, best.monetary_score) == (5, 5, 5)
    assert best.rfm_segment == RfmSegment.CHAMPIONS
    assert fresh.recency_score == 5 and fresh.frequency_score == 1
    assert fresh.rfm_segment == RfmSegment.NEW
    assert faded.recency_score == 1 and faded.rfm_segment == RfmSegment.CANT_LOSE
    scores = [c.recency_score for c in (best, fresh, faded, *others)]
    assert sorted(scores) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_lifecycle_follows_each_customers_own_rhythm():
    weekly = buyer("weekly", *(21 + 7 * k for k in range(10)))
    yearly = buyer("yearly", *(21 + 365 * k for k in range(4)))
    newbie = buyer("newbie", 10)
    gone = buyer("gone", 800, 830)
    customer_metrics_compute(as_of=NOW)
    for c in (weekly, yearly, newbie, gone):
        c.refresh_from_db()
    assert weekly.lifecycle_stage == LifecycleStage.AT_RISK
    assert yearly.lifecycle_stage == LifecycleStage.ACTIVE
    assert newbie.lifecycle_stage == LifecycleStage.NEW
    assert gone.lifecycle_stage == LifecycleStage.CHURNED


def test_lifecycle_thresholds_come_from_settings(settings):
    settings.LIFECYCLE_AT_RISK_RATIO = 5.0
    settings.LIFECYCLE_LAPSED_RATIO = 6.0
    weekly = buyer("weekly", *(21 + 7 * k for k in range(10)))
    customer_metrics_compute(as_of=NOW)
    weekly.refresh_from_db()
    assert weekly.lifecycle_stage == LifecycleStage.ACTIVE


def test_small_shop_skips_the_models_and_falls_back():
    ann = buyer("ann", 40, 10, amount=["10.00", "30.00"])
    run = customer_metrics_compute(as_of=NOW)
    ann.refresh_from_db()
    assert not run.bg_nbd_fitted
    assert ann.p_alive is None and ann.predicted_value is None
    assert ann.expected_order_value == Decimal("20.00")
    fit = ModelFit.objects.filter(kind=ModelFitKind.BG_NBD).latest()
    assert fit.note.startswith("Not fitted") and not fit.converged


def synthetic_shop(n: int = 300, seed: int = 7) -> None:
    """Buyers with gamma-distributed rates and geometric dropout, over two years."""
    rng = np.random.default_rng(seed)
    orders = []
    for i in range(n):
        customer = Customer(email=f"c{i}@example.com")
        customer.save()
        rate = rng.gamma(1.5, 1 / 40)  # purchases per day
        day = rng.uniform(0, 700)
        while day < 730:
            orders.append(
                Order(
                    external_id=f"s{i}-{len(orders)}",
                    customer=customer,
                    placed_at=NOW - timedelta(days=730 - day),
                    total=Decimal(f"{rng.gamma(4, 10):.2f}"),
                )
            )
            if rng.random() < 0.15:
                break
            day += rng.exponential(1 / rate)
    Order.objects.bulk_create(orders)


def test_models_fit_and_predict_on_a_synthetic_shop():
    synthetic_shop()
    run = customer_metrics_compute(as_of=NOW)
    assert run.bg_nbd_fitted and run.gamma_gamma_fitted
    fit = ModelFit.objects.filter(kind=ModelFitKind.BG_NBD).latest()
    assert set(fit.params) == {"r", "alpha", "a", "b"} and fit.log_likelihood < 0

    repeat = Customer.objects.filter(orders_count__gt=1)
    assert all(0 <= c.p_alive <= 1 and c.churn_risk == pytest.approx(1 - c.p_alive) for c in repeat)
    assert Customer.objects.filter(orders_count=1, p_alive__isnull=False).count() == 0
    assert all(
        c.predicted_value >= 0 and c.expected_order_value > 0 for c in Customer.objects.filter(orders_count__gt=0)
    )

    # Among repeat buyers, the recent frequent ones are expected to buy more than the silent ones.
    recent = repeat.order_by("-frequency_score", "-last_order_at").first()
    silent = repeat.order_by("last_order_at").first()
    assert recent.expected_purchases_90d > silent.expected_purchases_90d
    assert recent.p_alive > silent.p_alive

    labels = [label for label, _, _ in customer_metric_explanations(recent)]
    assert "Lifecycle stage" in labels and "Probability still a customer" in labels


def test_dashboard_shows_stages_segments_and_fits(admin_client):
    buyer("ann", 40, 10)
    Customer.objects.create(email="lead@example.com")
    customer_metrics_compute(as_of=NOW)
    page = admin_client.get("/admin/customers/modelfit/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "By lifecycle stage" in html and "Lead (no order)" in html and "Champions" in html
    assert "Not fitted: 1 repeat buyers." in html
    assert 'style="width: 50.0%"' in html  # half are leads, half active
    assert "Recompute now" in html
    assert admin_client.get("/admin/customers/modelfit/").status_code == 200


def test_recompute_now_runs_the_metrics_task(admin_client, django_capture_on_commit_callbacks):
    from config.celery import app as celery_app

    ann = buyer("ann", 40, 10)
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post("/admin/customers/modelfit/recompute/")
    finally:
        celery_app.conf.task_always_eager = previous
    assert response.status_code == 302
    ann.refresh_from_db()
    assert ann.orders_count == 2 and ann.metrics_computed_at is not None


def test_customer_explanations_cover_the_metrics():
    ann = buyer("ann", 160, 130, 100)  # every 30 days, silent for 100
    assert customer_metric_explanations(ann)[0][1] == "not computed yet"
    customer_metrics_compute(as_of=NOW)
    ann.refresh_from_db()
    rows = dict((label, (value, why)) for label, value, why in customer_metric_explanations(ann))
    assert rows["Orders"][0] == "3"
    assert rows["Lifecycle stage"][0] == "At risk"
    assert rows["Predicted value"][0] == "—"


def test_only_one_run_at_a_time():
    """A run that finds another one in progress skips instead of interleaving with it."""
    ann = buyer("ann", 40, 10)
    if connection.vendor == "postgresql":
        other = connection.get_new_connection(connection.get_connection_params())
        key = zlib.crc32(b"customers.compute_metrics")
        other.execute("SELECT pg_advisory_lock(%s)", [key])

        def release():
            # Unlock explicitly: closing alone frees the lock only once the server notices.
            other.execute("SELECT pg_advisory_unlock(%s)", [key])
            other.close()
    else:
        cache.add("customers.compute_metrics", 1)

        def release():
            cache.delete("customers.compute_metrics")

    try:
        assert customer_metrics_compute(as_of=NOW).skipped
        ann.refresh_from_db()
        assert ann.metrics_computed_at is None
    finally:
        release()
    assert not customer_metrics_compute(as_of=NOW).skipped
    ann.refresh_from_db()
    assert ann.orders_count == 2


def test_written_text_survives_quotes_and_backslashes_and_stays_on_its_own_customer():
    from customers.metrics.writer import COLUMNS, write_metrics

    first, second, third = (Customer.objects.create(email=f"w{i}@example.com") for i in range(3))
    ids = [first.pk, second.pk, third.pk]
    columns: dict[str, list] = {name: [None, None, None] for name, _kind in COLUMNS}
    columns["orders_count"] = [1, 2, 3]
    columns["total_spent"] = [10.0, 20.0, 30.0]
    columns["rfm_segment"] = ['say "hi", {x}', "back\\slash,", "NULL"]
    columns["lifecycle_stage"] = ["active", "at_risk", "lapsed"]
    write_metrics(ids=ids, columns=columns, computed_at=datetime(2026, 1, 1, tzinfo=UTC), batch_size=2)
    rows = {c.pk: c for c in Customer.objects.filter(pk__in=ids)}
    assert [rows[pk].rfm_segment for pk in ids] == ['say "hi", {x}', "back\\slash,", "NULL"]
    assert [rows[pk].lifecycle_stage for pk in ids] == ["active", "at_risk", "lapsed"]
    assert [rows[pk].orders_count for pk in ids] == [1, 2, 3]
