"""Small factories: the fewest rows a test needs, with overridable fields."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.cached_db import SessionStore

from cases.models import Case, Reference, TeachingPoint, TherapyLine
from polls import selectors
from polls.models import AgendaItem, Event, Option, Participant, Poll

_codes = itertools.count(1)
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def next_code() -> str:
    n = next(_codes)
    letters = []
    for _ in range(5):
        n, r = divmod(n, len(_ALPHABET))
        letters.append(_ALPHABET[r])
    return "T" + "".join(letters)


def make_case(**fields) -> Case:
    defaults = dict(
        title="Case Summary 2",
        disease="Multiple myeloma",
        patient_age=70,
        patient_sex="male",
        diagnosis="IgG-lambda multiple myeloma",
        years_since_diagnosis=6,
        ecog=1,
        clinical_question="What next at second relapse?",
    )
    case = Case.objects.create(**{**defaults, **fields})
    TherapyLine.objects.create(
        case=case, line_number=1, regimen="VRd", agents="bortezomib, lenalidomide, dexamethasone"
    )
    TherapyLine.objects.create(
        case=case, line_number=2, regimen="DKd", agents="daratumumab, carfilzomib, dexamethasone"
    )
    return case


def make_teaching_point(case: Case, **fields) -> TeachingPoint:
    defaults = dict(title="KarMMa-3", text="Ide-cel: ORR 71% vs 42%.", position=0)
    point = TeachingPoint.objects.create(case=case, **{**defaults, **fields})
    Reference.objects.create(teaching_point=point, citation="KarMMa-3", nct="NCT03651128")
    return point


def make_event(*, moderators=(), cases=None, status="draft", **fields) -> Event:
    event = Event.objects.create(
        title=fields.pop("title", "Test roundtable"), code=fields.pop("code", next_code()), status=status, **fields
    )
    event.moderators.set(moderators)
    for position, case in enumerate(cases or []):
        AgendaItem.objects.create(event=event, case=case, position=position)
    return event


def make_poll(
    event: Event, case: Case, *, labels=("Refer for CAR T", "Bispecific on a clinical trial"), **fields
) -> Poll:
    poll = Poll.objects.create(event=event, case=case, question=fields.pop("question", "What next?"), **fields)
    for position, label in enumerate(labels):
        Option.objects.create(poll=poll, label=label, position=position)
    return poll


_users = itertools.count(1)


def make_moderator(username: str | None = None, **fields):
    username = username or f"mod{next(_users)}"
    return get_user_model().objects.create_user(username=username, password="pw-for-tests-only", **fields)


def make_participant(event: Event) -> Participant:
    return Participant.objects.create(event=event)


def participant_session(participant: Participant) -> str:
    """A saved session bound to the participant, as the participant page would leave it."""
    session = SessionStore()
    session[selectors.PARTICIPANT_SESSION_KEY] = {str(participant.event_id): participant.id}
    session.create()
    return session.session_key


def user_session(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def option_ids(poll: Poll) -> list[int]:
    return list(poll.options.values_list("id", flat=True))
