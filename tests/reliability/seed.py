"""Seed an event for the multi-process tests in the database named by DATABASE_URL; print it as JSON.

    python -m tests.reliability.seed '{"phones": 500}'

Runs in its own process with the servers' environment, so rows and sessions land in their database.
Sessions are inserted in bulk (the cached_db engine falls back to the database on a cache miss).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseboard.settings")
    import django

    django.setup()
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from polls import selectors, services
    from polls.models import Participant
    from tests.factories import make_case, make_event, make_moderator, make_poll, option_ids, user_session

    spec = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    moderator = make_moderator(f"chaos-{get_random_string(8)}")
    case = make_case()
    event = make_event(
        moderators=[moderator], cases=[case], code="C" + get_random_string(5, "23456789ABCDEFGHJKLMNPQRSTUVWXYZ")
    )
    poll = make_poll(event, case, labels=("A", "B", "C"))
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)

    participants = Participant.objects.bulk_create([Participant(event=event) for _ in range(spec.get("phones", 0))])
    expires = timezone.now() + timedelta(days=1)
    store = SessionStore()
    sessions = [
        Session(
            session_key=get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789"),
            session_data=store.encode({selectors.PARTICIPANT_SESSION_KEY: {str(event.id): p.id}}),
            expire_date=expires,
        )
        for p in participants
    ]
    Session.objects.bulk_create(sessions, batch_size=500)
    print(
        json.dumps(
            {
                "event": event.id,
                "code": event.code,
                "poll": poll.id,
                "options": option_ids(poll),
                "moderator": user_session(moderator),
                "phones": [
                    {"key": s.session_key, "participant": p.id} for s, p in zip(sessions, participants, strict=True)
                ],
            }
        )
    )


if __name__ == "__main__":
    main()
