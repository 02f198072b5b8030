"""`manage.py load_demo`: the demo case, event CASE2 and its moderator (content lives in polls/demo.py)."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from polls import demo


class Command(BaseCommand):
    help = (
        f"Create or refresh the demo event {demo.DEMO_CODE} (case 'Case Summary 2', two polls) and the "
        f"'{demo.DEMO_USERNAME}' user. Safe to run again: the case is brought up to the current definition, "
        "but an existing event keeps its status, votes and live state; a poll is refreshed only while it is "
        "an untouched draft (never opened, no votes). Use --reset to delete the event with all its votes "
        "and rebuild it. The password comes from CASEBOARD_DEMO_PASSWORD; otherwise a new user gets a random "
        "one, printed once, and an existing user keeps the one it has."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help=f"Delete event {demo.DEMO_CODE} (votes, participants and audit log included) and recreate it.",
        )

    def handle(self, *args, **options):
        password = os.environ.get("CASEBOARD_DEMO_PASSWORD") or None
        result = demo.load_demo(password=password, reset=options["reset"])
        event = result.event
        changes = result.changes
        verb = "Created" if result.event_created else "Kept"
        self.stdout.write(self.style.SUCCESS(f"{verb} event {event.code}: {event.title}"))
        self.stdout.write(
            f"Rows created {changes['created']}, updated {changes['updated']}, deleted {changes['deleted']}."
        )
        code = {"code": event.code}
        base = settings.CASEBOARD["PUBLIC_BASE_URL"].rstrip("/")
        self.stdout.write(f"  Participants: {base}{reverse('participant', kwargs=code)}")
        self.stdout.write(f"  Presenter:    {base}{reverse('presenter', kwargs=code)}?key={event.presenter_token}")
        self.stdout.write(f"  Moderator:    {base}{reverse('moderator', kwargs=code)}")
        self.stdout.write(f"  Log in at {settings.LOGIN_URL} (admin at {reverse('admin:index')}) as {result.username}")
        if result.password_source == demo.PasswordSource.GENERATED:
            self.stdout.write(self.style.WARNING(f"  Password (shown once): {result.password}"))
        elif result.password_source == demo.PasswordSource.ENV:
            self.stdout.write("  Password: the value of CASEBOARD_DEMO_PASSWORD")
        else:
            self.stdout.write("  Password: unchanged (the existing password was kept)")
