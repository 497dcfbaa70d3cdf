"""Print everything held about one customer as JSON (GDPR access request)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from customers.models import Customer, normalise_email
from customers.services.gdpr import customer_export_data


def find_customer(email_or_id: str) -> Customer:
    value = email_or_id.strip()
    lookup = {"pk": int(value)} if value.isdigit() else {"email": normalise_email(value)}
    customer = Customer.objects.filter(**lookup).first()
    if customer is None:
        raise CommandError("No customer with that email or id.")
    return customer


class Command(BaseCommand):
    help = "Export all data held about a customer as JSON (to stdout, or --output FILE)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email_or_id", help="The customer's email address or numeric id.")
        parser.add_argument("--output", "-o", help="Write to this file instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        customer = find_customer(options["email_or_id"])
        text = json.dumps(customer_export_data(customer=customer), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
        if options.get("output"):
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stderr.write(f"Exported customer {customer.pk} to {options['output']}")
        else:
            self.stdout.write(text)
