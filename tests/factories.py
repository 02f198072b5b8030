"""Small factories: the fewest rows a test needs, with overridable fields."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.cached_db import SessionStore

from cases.models import Case, Reference, TeachingPoint, TherapyLine
from polls import selectors, services
from polls.models import AgendaItem, Event, Option, Participant, Poll, ProfileQuestion
from polls.profiles import built_in

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


def make_event(*, moderators=(), cases=None, status="draft", profile_fields=(), **fields) -> Event:
    """An event; `profile_fields`: keys of the built-in profile questions it asks (polls/profiles.py)."""
    event = Event.objects.create(
        title=fields.pop("title", "Test roundtable"), code=fields.pop("code", next_code()), status=status, **fields
    )
    event.moderators.set(moderators)
    for position, question in enumerate(built_in(list(profile_fields))):
        ProfileQuestion.objects.create(event=event, position=position, **question)
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


# ------------------------------------------------------------------ the world


@dataclass
class World:
    """What most tests start from: a moderator running an event with one case and (usually) one poll.

    Built by `build_world`; `poll` is the Poll row and `options` its option ids in order.
    """

    moderator: Any
    case: Case
    event: Event
    poll: Poll | None = None
    options: list[int] = field(default_factory=list)
    point: TeachingPoint | None = None
    moderator_key: str | None = None
    participants: list[Participant] = field(default_factory=list)
    phone_keys: list[str] = field(default_factory=list)
    panelists: list[Any] = field(default_factory=list)
    panelist_keys: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.event.code

    def add_poll(self, *, opened: bool = False, duration: int | None = None, **fields) -> Poll:
        """Another poll of the world's case on its event (`make_poll` fields), opened if asked."""
        poll = make_poll(self.event, self.case, **fields)
        if opened:
            services.poll_open(event_id=self.event.id, poll_id=poll.id, user=self.moderator, duration=duration)
            poll.refresh_from_db()
        return poll

    def new_phone_key(self) -> str:
        """The session of a participant who joins the event now."""
        participant = make_participant(self.event)
        self.participants.append(participant)
        return participant_session(participant)


def build_world(
    *,
    poll: bool = True,
    opened: bool = False,
    duration: int | None = None,
    phones: int = 0,
    moderator_session: bool = False,
    teaching_point: bool = False,
    panelists: int = 0,
    profile_fields: Sequence[str] = (),
    case: dict | None = None,
    **poll_fields,
) -> World:
    """One moderator, one case on one event's agenda and, unless `poll=False`, one poll of it.

    opened: the poll is opened through the service (for `duration` seconds if given).
    phones: participants with saved sessions (`phone_keys`), as the join page leaves them.
    moderator_session: a logged-in session for the moderator (`moderator_key`).
    teaching_point: the case gets a teaching point with a reference (`point`).
    panelists: faculty on the event's panel, each with a logged-in session (`panelist_keys`).
    profile_fields: the profile questions the event asks; `case`: fields of the case.
    Any other keyword goes to `make_poll` (kind, labels, question, max_choices...).
    """
    moderator = make_moderator()
    the_case = make_case(**(case or {}))
    event = make_event(moderators=[moderator], cases=[the_case], profile_fields=list(profile_fields))
    world = World(moderator=moderator, case=the_case, event=event)
    if teaching_point:
        world.point = make_teaching_point(the_case)
    if poll:
        world.poll = world.add_poll(opened=opened, duration=duration, **poll_fields)
        world.options = option_ids(world.poll)
    if moderator_session:
        world.moderator_key = user_session(moderator)
    for _ in range(panelists):
        faculty = make_moderator()
        event.panelists.add(faculty)
        world.panelists.append(faculty)
        world.panelist_keys.append(user_session(faculty))
    for _ in range(phones):
        world.phone_keys.append(world.new_phone_key())
    return world


async def build_world_async(**options) -> World:
    """`build_world` from async tests (on the database thread)."""
    from channels.db import database_sync_to_async

    return await database_sync_to_async(build_world)(**options)
