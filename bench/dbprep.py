"""Database side of a benchmark run: create a fresh database, seed the bench event, count votes after.

Runs in its own process (Django is configured from the environment the server under test
gets, so session signatures and the database match):

    python -m bench.dbprep prepare --phones 500 --out prep.json
    python -m bench.dbprep count --poll 7
    python -m bench.dbprep drop

Participants get their sessions server-side, stored exactly as `polls.views._ensure_participant`
stores them; the moderator gets a logged-in session. Nothing here is used by the app itself.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from urllib.parse import urlparse

EVENT_CODE = "BENCH"
OPTION_LABELS = ("Refer for CAR T", "Bispecific on a trial", "Triplet salvage", "Best supportive care")


def _server_dsn(database_url: str) -> tuple[str, str]:
    """The maintenance DSN of a PostgreSQL URL and the database name it points at."""
    parsed = urlparse(database_url)
    name = parsed.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing odd database name {name!r}")
    return parsed._replace(path="/postgres").geturl(), name


def recreate_postgres(database_url: str) -> None:
    import psycopg

    dsn, name = _server_dsn(database_url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres(database_url: str) -> None:
    import psycopg

    dsn, name = _server_dsn(database_url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseboard.settings")
    import django

    django.setup()


def prepare(phones: int) -> dict:
    """Migrate, then seed one event with a draft 4-option poll on screen, a moderator and N participants."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from cases.models import Case, HistoryItem, StagingItem, TherapyLine
    from polls.models import AgendaItem, Event, EventStatus, Option, Participant, Poll
    from polls.selectors import PARTICIPANT_SESSION_KEY

    case = Case.objects.create(
        title="Bench case",
        disease="Multiple myeloma",
        patient_age=64,
        patient_sex="female",
        diagnosis="Synthetic case for load testing",
        years_since_diagnosis=4,
        ecog=1,
        current_status="Second relapse (synthetic).",
        clinical_question="Which next step would you choose?",
    )
    StagingItem.objects.create(case=case, system="R-ISS", value="2")
    HistoryItem.objects.create(case=case, text="No relevant comorbidity (synthetic)")
    TherapyLine.objects.create(case=case, line_number=1, regimen="Triplet induction", agents="agent A, agent B")
    event = Event.objects.create(title="Benchmark plenary", code=EVENT_CODE, status=EventStatus.LIVE)
    AgendaItem.objects.create(event=event, case=case, position=0)
    poll = Poll.objects.create(event=event, case=case, question="What next?")
    options = [Option.objects.create(poll=poll, label=label, position=i) for i, label in enumerate(OPTION_LABELS)]
    Event.objects.filter(pk=event.pk).update(current_case=case, current_poll=poll, started_at=timezone.now())

    user = get_user_model().objects.create(username="bench-moderator")
    user.set_unusable_password()
    user.save()
    event.moderators.add(user)

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    encoder = store_class()
    expire = timezone.now() + datetime.timedelta(days=1)
    participants = Participant.objects.bulk_create([Participant(event=event) for _ in range(phones)], batch_size=1000)
    keys = [get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789") for _ in participants]
    rows = [
        Session(
            session_key=key,
            expire_date=expire,
            session_data=encoder.encode({PARTICIPANT_SESSION_KEY: {str(event.id): p.id}}),
        )
        for key, p in zip(keys, participants, strict=True)
    ]
    moderator_key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
    auth = {
        "_auth_user_id": str(user.pk),
        "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
        "_auth_user_hash": user.get_session_auth_hash(),
    }
    rows.append(Session(session_key=moderator_key, expire_date=expire, session_data=encoder.encode(auth)))
    Session.objects.bulk_create(rows, batch_size=1000)
    return {
        "event": event.id,
        "code": EVENT_CODE,
        "poll": poll.id,
        "options": [o.id for o in options],
        "sessions": keys,
        "moderator_session": moderator_key,
    }


def count(poll_id: int) -> dict:
    """What the database holds for the poll: ballots, choices per option, receipts."""
    from django.db.models import Count

    from polls.models import Vote, VoteChoice, VoteReceipt

    choices = dict(VoteChoice.objects.filter(poll_id=poll_id).values_list("option_id").annotate(n=Count("id")))
    per_participant = (
        Vote.objects.filter(poll_id=poll_id).values("participant_id").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    return {
        "votes": Vote.objects.filter(poll_id=poll_id).count(),
        "choices": sum(choices.values()),
        "counts": {str(k): v for k, v in choices.items()},
        "receipts": VoteReceipt.objects.filter(poll_id=poll_id).count(),
        "participants_with_two_votes": per_participant,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.dbprep")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--phones", type=int, required=True)
    p.add_argument("--out", required=True)
    c = sub.add_parser("count")
    c.add_argument("--poll", type=int, required=True)
    sub.add_parser("drop")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    is_postgres = url.startswith(("postgres://", "postgresql://"))
    if args.cmd == "drop":
        if is_postgres:
            drop_postgres(url)
        return 0
    if args.cmd == "prepare":
        started = time.monotonic()
        if is_postgres:
            recreate_postgres(url)
        _django()
        result = prepare(args.phones)
        result["seconds"] = round(time.monotonic() - started, 2)
        with open(args.out, "w") as fh:
            json.dump(result, fh)
        return 0
    _django()
    json.dump(count(args.poll), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
