"""`compute_customer_metrics --as-of`: a back-test that writes a report and never the live figures."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from customers.models import Customer, ModelFit, Order

pytestmark = pytest.mark.django_db

AS_OF_DAY = "2025-05-02"
END_OF_DAY = datetime(2025, 5, 3, tzinfo=UTC)
_ids = count(1)


def buyer(name: str, *placed: datetime) -> Customer:
    customer = Customer.objects.create(email=f"{name}@example.com", external_id=f"ext-{name}")
    Order.objects.bulk_create(
        Order(external_id=f"bt{next(_ids)}", customer=customer, placed_at=at, total=Decimal("25.00")) for at in placed
    )
    return customer


def live_figures() -> list[dict]:
    return list(Customer.objects.order_by("pk").values())


@pytest.fixture
def shop(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.METRICS_MIN_REPEAT_BUYERS = 3
    people = {
        # one order late on the as-of day itself: the day counts whole
        "late_that_day": buyer("late_that_day", datetime(2025, 5, 2, 23, 59, 30, tzinfo=UTC)),
        # three orders before, one in the 90 days after
        "steady": buyer(
            "steady", *(END_OF_DAY - timedelta(days=d) for d in (100, 70, 40)), END_OF_DAY + timedelta(days=20)
        ),
        # first order after the as-of day: not a buyer yet
        "later": buyer("later", END_OF_DAY + timedelta(hours=1)),
    }
    for i in range(4):  # enough repeat buyers for the models to be fitted
        people[f"repeat{i}"] = buyer(f"repeat{i}", *(END_OF_DAY - timedelta(days=d + 7 * i) for d in (90, 50, 12)))
    call_command("compute_customer_metrics")  # tonight's live run
    return people


def _report_rows(path) -> dict[str, dict]:
    with open(path, encoding="utf-8", newline="") as source:
        return {row["external_id"]: row for row in csv.DictReader(source)}


def test_backtest_leaves_live_metrics_and_latest_fit_alone(shop, tmp_path, capsys):
    before = live_figures()
    live_fit_ids = set(ModelFit.objects.values_list("pk", flat=True))
    report = tmp_path / "backtest.csv"

    call_command("compute_customer_metrics", "--as-of", AS_OF_DAY, "--report", str(report))

    out = capsys.readouterr().out
    assert "Back-test as of the end of 2025-05-02 (UTC; orders before 2025-05-03 00:00 UTC count)" in out
    assert "Live customer metrics were not changed." in out
    assert live_figures() == before  # not one column of one customer was written

    new_fits = ModelFit.objects.exclude(pk__in=live_fit_ids)
    assert new_fits.count() == 2 and all(fit.is_backtest for fit in new_fits)
    assert all(fit.as_of == END_OF_DAY for fit in new_fits)
    # The dashboard still shows tonight's live fits, not the back-test's
    from customers.metrics.dashboard import metrics_overview

    assert {fit.pk for fit in metrics_overview().fits} <= live_fit_ids

    rows = _report_rows(report)
    assert "ext-later" not in rows  # first ordered after the cut
    assert rows["ext-late_that_day"]["orders_count"] == "1"  # 23:59:30 on the as-of day counts
    assert rows["ext-steady"]["orders_count"] == "3"
    assert rows["ext-steady"]["orders_next_90d"] == "1"
    assert rows["ext-steady"]["revenue_next_90d"] == "25.00"
    assert rows["ext-steady"]["lifecycle_stage"]
    assert rows["ext-repeat0"]["p_alive"] != ""  # the model was fitted on the history


def test_backtest_report_goes_under_var_by_default(shop, tmp_path, capsys):
    call_command("compute_customer_metrics", "--as-of", "2025-05-02T12:00:00")
    out = capsys.readouterr().out
    reports = list((tmp_path / "backtests").glob("metrics-as-of-20250502T1200-*.csv"))
    assert len(reports) == 1 and str(reports[0]) in out
    rows = _report_rows(reports[0])
    assert "ext-late_that_day" not in rows  # a datetime is taken as given: 23:59 comes after noon


def test_backtest_dashboard_shows_the_live_fit(shop, client, admin_user):
    call_command("compute_customer_metrics", "--as-of", AS_OF_DAY, "--report", "/dev/null")
    client.force_login(admin_user)
    page = client.get(reverse("admin:customers_metrics_dashboard")).content.decode()
    live = ModelFit.objects.filter(is_backtest=False).latest()
    assert f"<td>{live.as_of:%Y-%m-%d %H:%M}</td>" in page  # tonight's live fit is the one shown
    assert "<td>2025-05-03 00:00</td>" not in page  # the back-test's fit is not


@pytest.mark.parametrize("bad", ["2025-02-30", "yesterday", "2999-01-01"])
def test_backtest_refuses_bad_dates_in_staff_words(bad, shop):
    with pytest.raises(CommandError):
        call_command("compute_customer_metrics", "--as-of", bad)
