"""Export a customer segment as a hashed contact list for Meta or Google Ads audiences."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from customers.metrics.audiences import FORMATS, AudienceError, audience_customers, audience_export


class Command(BaseCommand):
    help = (
        "Write SEGMENT as a customer-list CSV (SHA-256 hashed) for ad platforms. SEGMENT is a saved segment "
        "name, 'all', 'stage:<lifecycle stage>' or 'rfm:<rfm segment>'. Only customers the consent policy "
        "(CONSENT_POLICY) lets us market to, subscribed and unsuppressed, are written."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("segment")
        parser.add_argument("file", help="Output path, or - for standard output")
        parser.add_argument("--format", choices=sorted(FORMATS), default="meta", dest="platform")

    def handle(self, *args, **options) -> None:
        try:
            customers = audience_customers(options["segment"])
        except AudienceError as exc:
            raise CommandError(str(exc)) from exc
        if options["file"] == "-":
            audience_export(queryset=customers, platform=options["platform"], out=self.stdout)
            return
        with open(options["file"], "w", encoding="utf-8", newline="") as out:
            written = audience_export(queryset=customers, platform=options["platform"], out=out)
        self.stderr.write(f"Wrote {written} customers to {options['file']} ({options['platform']} format).")
