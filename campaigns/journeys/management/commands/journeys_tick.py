"""Run one scheduler tick now (what the `journeys.tick` beat task does every minute)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from campaigns.journeys.services.attribution import orders_attribute
from campaigns.journeys.services.tick import journeys_tick


class Command(BaseCommand):
    help = "Enrol, exit and advance all active journeys once, then attribute recent orders."

    def handle(self, *args, **options) -> None:
        counts = journeys_tick()
        for key, value in sorted(counts.items()):
            self.stdout.write(f"{key:<18} {value}")
        self.stdout.write(f"{'attributed':<18} {orders_attribute()}")
