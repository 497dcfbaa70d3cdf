"""List messages whose outcome is unknown (the ESP may or may not have them), per campaign."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count, Min

from campaigns.models import MessageStatus
from campaigns.selectors.sending import messages_unknown


class Command(BaseCommand):
    help = (
        "Report messages in 'unknown' state. They are never resent automatically: requeue them or mark "
        "them sent from the Message admin once you know what the ESP did."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ids", action="store_true", help="Also print the message ids.")
        parser.add_argument("--fail-if-any", action="store_true", help="Exit with status 1 when any is found.")

    def handle(self, *args: object, ids: bool, fail_if_any: bool, **options: object) -> None:
        unknown = messages_unknown()
        rows = (
            unknown.order_by()
            .values("campaign_id", "campaign__name")
            .annotate(n=Count("id"), oldest=Min("claimed_at"))
            .order_by("campaign_id")
        )
        total = 0
        for row in rows:
            total += row["n"]
            name = row["campaign__name"] or "(no campaign)"
            self.stdout.write(
                f"campaign {row['campaign_id']} {name}: {row['n']} unknown, oldest claimed {row['oldest']}"
            )
        if ids and total:
            self.stdout.write("ids: " + " ".join(str(pk) for pk in unknown.values_list("pk", flat=True)))
        self.stdout.write(f"{total} message(s) with status '{MessageStatus.UNKNOWN.value}'.")
        if fail_if_any and total:
            raise SystemExit(1)
