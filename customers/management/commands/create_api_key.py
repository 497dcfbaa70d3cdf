from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from customers.services.events.api_keys import api_key_create


class Command(BaseCommand):
    help = "Create an API key for the event API and print it (only a hash is stored: it is shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="What the key is for, e.g. the shop's name")

    def handle(self, *args, name: str, **options) -> None:
        api_key, secret = api_key_create(name=name)
        self.stderr.write(f"Created API key “{api_key.name}” (prefix {api_key.prefix}). It will not be shown again:")
        self.stdout.write(secret)
