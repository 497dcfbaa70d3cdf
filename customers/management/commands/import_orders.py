"""python manage.py import_orders FILE.csv"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from customers.services.imports import orders_import
from customers.services.imports.cli import add_import_arguments, import_command_run


class Command(BaseCommand):
    help = (
        "Import orders from CSV, one row per order line (order_id,customer_external_id,email,placed_at,total,"
        "currency[,sku,product_name,category,quantity,unit_price]). Re-runs update, never duplicate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_import_arguments(parser)

    def handle(self, *args, **options) -> None:
        import_command_run(self, importer=orders_import, options=options, label="orders")
