"""Erase one customer and everything linked (GDPR erasure request)."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.management.commands.export_customer import find_customer
from customers.services.gdpr import customer_erase


class Command(BaseCommand):
    help = (
        "Delete a customer and all linked data; only a hash of the address is kept on the "
        "suppression list so it is never mailed again. Requires --yes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email_or_id", help="The customer's email address or numeric id.")
        parser.add_argument("--yes", action="store_true", help="Confirm the erasure (it cannot be undone).")

    def handle(self, *args: Any, **options: Any) -> None:
        customer = find_customer(options["email_or_id"])
        if not options["yes"]:
            raise CommandError(f"This erases customer {customer.pk} and cannot be undone. Re-run with --yes.")
        customer_id = customer.pk
        deleted = customer_erase(customer=customer, actor=f"cli:{getpass.getuser()}")
        summary = ", ".join(f"{label}: {count}" for label, count in sorted(deleted.items()))
        self.stdout.write(
            self.style.SUCCESS(f"Erased customer {customer_id} ({summary}). Address hash kept as suppressed.")
        )
