"""python manage.py import_customers FILE.csv"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from customers.services.imports import customers_import
from customers.services.imports.cli import add_import_arguments, import_command_run


class Command(BaseCommand):
    help = (
        "Import customers from CSV (external_id,email,first_name,last_name,created_at,timezone,locale,"
        "email_consent; only email is required). Matches by external_id, else email; re-runs update."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_import_arguments(parser)

    def handle(self, *args, **options) -> None:
        importer = partial(customers_import, source_name=Path(options["file"]).name)
        import_command_run(self, importer=importer, options=options, label="customers")
