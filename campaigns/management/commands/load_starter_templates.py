"""Create the starter email templates (idempotent: existing templates are never touched)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from campaigns.services.templates import starter_templates_load


class Command(BaseCommand):
    help = "Create the starter email templates that do not exist yet, each with a validated first version."

    def handle(self, *args, **options) -> None:
        created, skipped = starter_templates_load()
        for name in created:
            self.stdout.write(f"created  {name}")
        for name in skipped:
            self.stdout.write(f"kept     {name} (already exists)")
        self.stdout.write(self.style.SUCCESS(f"{len(created)} created, {len(skipped)} already present."))
