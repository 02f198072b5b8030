"""Send the follow-up invitations that are due and erase the addresses of closed follow-ups.

Run from cron, e.g. hourly: `manage.py send_followups`. Prints counts only, never an address."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from polls import services


class Command(BaseCommand):
    help = "Mail due follow-up invitations (signed single-use links) and erase addresses of closed follow-ups."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--base-url",
            default="",
            help="Where the links point, e.g. https://vote.example.org (default: PUBLIC_BASE_URL).",
        )

    def handle(self, *args, base_url: str = "", **options) -> None:
        base_url = base_url or settings.CASEBOARD["PUBLIC_BASE_URL"]
        if not base_url.startswith(("https://", "http://")):
            raise CommandError("Set PUBLIC_BASE_URL (or pass --base-url): the mailed links need the site's address.")
        run = services.followups_send(base_url=base_url)
        self.stdout.write(
            f"Follow-up: {run.sent} invitations sent, {run.failed} failed (retried next run), "
            f"{run.erased} addresses erased."
        )
        if run.failed:
            raise CommandError(f"{run.failed} invitations could not be handed to the mail server.")
