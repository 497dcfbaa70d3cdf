from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.services.demo_data import demo_shop_seed


class Command(BaseCommand):
    help = (
        "Build a believable demo shop: products in categories with a premium tier, customers with "
        "different purchase rhythms, leads without orders, carts left behind and trials. "
        "Running it again with the same seed does nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=500, help="How many customers (default 500)")
        parser.add_argument("--seed", type=int, default=1, help="Random seed: same seed, same shop (default 1)")

    def handle(self, *args, customers: int, seed: int, **options) -> None:
        if customers < 0:
            raise CommandError("--customers must be 0 or more")
        started = time.monotonic()
        summary = demo_shop_seed(customers=customers, seed=seed)
        if summary.skipped:
            self.stdout.write(
                f"Demo data for seed {seed} already exists; nothing to do (use another --seed to add more)."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {summary.customers} customers ({summary.leads} leads), {summary.orders} orders "
                f"with {summary.order_items} lines, {summary.activities} activities "
                f"({summary.abandoned_carts} carts left behind, {summary.trials} trials) over "
                f"{summary.products} products in {time.monotonic() - started:.1f}s."
            )
        )
