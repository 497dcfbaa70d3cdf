"""Recompute RFM, lifecycle stage, churn risk and predicted value for every customer."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from customers.metrics.compute import customer_metrics_compute, parse_as_of


class Command(BaseCommand):
    help = "Recompute customer metrics. --as-of replays history: only orders placed before it count."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--as-of", help="YYYY-MM-DD or ISO datetime (UTC unless an offset is given)")

    def handle(self, *args, **options) -> None:
        try:
            as_of = parse_as_of(options["as_of"]) if options["as_of"] else None
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        run = customer_metrics_compute(as_of=as_of)
        if run.skipped:
            raise CommandError("another metrics run is in progress; try again when it has finished")
        timings = ", ".join(f"{k} {v:.2f}s" for k, v in run.seconds.items())
        self.stdout.write(
            f"Metrics as of {run.as_of:%Y-%m-%d %H:%M} UTC: buyers {run.buyers}, leads reset {run.leads_reset}; "
            f"BG/NBD {'fitted' if run.bg_nbd_fitted else 'not fitted'}, "
            f"Gamma-Gamma {'fitted' if run.gamma_gamma_fitted else 'not fitted'} ({timings})"
        )
