"""Recompute RFM, lifecycle stage, churn risk and predicted value for every customer, or back-test them."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from customers.metrics.backtest import HORIZON_DAYS, customer_metrics_backtest
from customers.metrics.compute import customer_metrics_compute, parse_as_of


class Command(BaseCommand):
    help = (
        "Recompute the live customer metrics. With --as-of DATE, run a back-test instead: the metrics as "
        "they were at the end of that day go to a CSV report (with what happened next), and the live "
        "figures are not touched."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--as-of",
            help="Back-test: YYYY-MM-DD (orders placed any time that day count) or an ISO datetime (UTC unless "
            "an offset is given; orders placed before it count).",
        )
        parser.add_argument("--report", help="Back-test report path (default: VAR_DIR/backtests/…csv)")

    def handle(self, *args, **options) -> None:
        if options["as_of"]:
            self._backtest(options["as_of"], options["report"])
            return
        if options["report"]:
            raise CommandError("--report belongs to a back-test: give --as-of too")
        run = customer_metrics_compute()
        if run.skipped:
            raise CommandError("another metrics run is in progress; try again when it has finished")
        timings = ", ".join(f"{k} {v:.2f}s" for k, v in run.seconds.items())
        self.stdout.write(
            f"Metrics as of {run.as_of:%Y-%m-%d %H:%M} UTC: buyers {run.buyers}, leads reset {run.leads_reset}; "
            f"BG/NBD {'fitted' if run.bg_nbd_fitted else 'not fitted'}, "
            f"Gamma-Gamma {'fitted' if run.gamma_gamma_fitted else 'not fitted'} ({timings})"
        )

    def _backtest(self, raw: str, report: str | None) -> None:
        try:
            run = customer_metrics_backtest(as_of=parse_as_of(raw), report=Path(report) if report else None)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if run.predicted_purchases is None:
            versus = f"actual {run.actual_purchases} orders (BG/NBD not fitted, no prediction)"
        else:
            versus = f"predicted {run.predicted_purchases:.1f} orders, actual {run.actual_purchases}"
        day = parse_date(raw.strip())
        cut = f"{run.as_of:%Y-%m-%d %H:%M} UTC"
        when = (
            f"the end of {day:%Y-%m-%d} (UTC; orders before {cut} count)" if day else f"{cut} (orders before it count)"
        )
        self.stdout.write(
            f"Back-test as of {when}: buyers {run.buyers}; "
            f"BG/NBD {'fitted' if run.bg_nbd_fitted else 'not fitted'}, "
            f"Gamma-Gamma {'fitted' if run.gamma_gamma_fitted else 'not fitted'}.\n"
            f"Next {HORIZON_DAYS} days ({run.observed_days:.0f} observed so far): {versus}, "
            f"revenue {run.actual_revenue:.2f}.\n"
            f"Report: {run.report}\n"
            "Live customer metrics were not changed."
        )
