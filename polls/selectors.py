"""Reads: access checks, a poll's results, what the screens show of an event."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F, Prefetch, QuerySet
from django.utils.crypto import constant_time_compare

from cases.models import Case, CaseFact, CaseImage, TeachingPoint
from cases.selectors import unacknowledged_identifiers
from polls import comparisons, tallies
from polls.errors import DomainError
from polls.models import (
    AgendaItem,
    AudienceQuestion,
    CaseFactReveal,
    Disclosure,
    Event,
    PanelistInvitation,
    Participant,
    Poll,
    ProfileQuestion,
    QuestionUpvote,
    TeachingPointReveal,
    Vote,
)


class EventNotFound(Exception):
    """Raised alike for a missing event and one the caller may not see."""


def normalise_code(code: str) -> str:
    """A join code as typed: case, spaces and dashes do not matter ("case 2" is CASE2; the
    projector shows the code letter-spaced)."""
    return "".join((code or "").split()).replace("-", "").upper()


def event_by_code(*, code: str) -> Event:
    try:
        return Event.objects.get(code=normalise_code(code))
    except Event.DoesNotExist:
        raise EventNotFound from None


def moderates_all_events(*, user) -> bool:
    """Staff trusted with every event: superusers, or the `moderate_all_events` permission."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff and user.has_perm("polls.moderate_all_events")


def user_moderates(*, user, event: Event) -> bool:
    """The event's own moderators, and staff trusted with every event. Plain staff who only
    author cases are not enough."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if moderates_all_events(user=user):
        return True
    return event.moderators.filter(pk=user.pk).exists()


def events_moderated_by(*, user) -> QuerySet[Event]:
    """Every event the user may see and change anywhere (console, admin, exports)."""
    if moderates_all_events(user=user):
        return Event.objects.all()
    if not user or not user.is_authenticated or not user.is_active:
        return Event.objects.none()
    return Event.objects.filter(moderators=user)


def may_change_moderators(*, user, event: Event) -> bool:
    """Who moderates an event is decided by its owner or by staff trusted with every event."""
    if moderates_all_events(user=user):
        return True
    return bool(user and user.is_authenticated and user.is_active and event.owner_id == user.pk)


def user_still_moderates(*, user_id: int | None, session_key: str | None, event_id: int) -> bool:
    """A moderator's socket, as of now: the session still exists (no logout), the account is
    still active, and the user still moderates the event."""
    from django.contrib.sessions.backends.base import SessionBase
    from django.utils.module_loading import import_string

    if user_id is None or not session_key:
        return False
    store: SessionBase = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    if not store.exists(session_key):
        return False
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    event = Event.objects.filter(pk=event_id).first()
    return user is not None and event is not None and user_moderates(user=user, event=event)


def event_for_moderator(*, user, code: str) -> Event:
    event = event_by_code(code=code)
    if not user_moderates(user=user, event=event):
        raise EventNotFound
    return event


PRESENTER_SESSION_KEY = "caseboard_presenter_keys"
PARTICIPANT_SESSION_KEY = "caseboard_participants"


def presenter_key_fingerprint(token: str) -> str:
    """What a presenter's session keeps of the key it opened: enough to tell a rotated key."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def presenter_key_granted(*, session, event: Event) -> bool:
    """This browser opened the event's current secret presenter link (not one since rotated)."""
    granted = session.get(PRESENTER_SESSION_KEY, {}) if session is not None else {}
    fingerprint = granted.get(str(event.id)) if isinstance(granted, dict) else None
    return bool(fingerprint) and constant_time_compare(fingerprint, presenter_key_fingerprint(event.presenter_token))


def may_present(*, user, session, event: Event) -> bool:
    """Moderators, or a browser that opened the event's current secret presenter link."""
    return presenter_key_granted(session=session, event=event) or user_moderates(user=user, event=event)


def participant_id_from_session(*, session, event_id: int) -> int | None:
    if session is None:
        return None
    value = session.get(PARTICIPANT_SESSION_KEY, {}).get(str(event_id))
    return value if isinstance(value, int) else None


PANEL_INVITATION_SESSION_KEY = "caseboard_panel_invitations"


def invited_panelist_id(*, session, event_id: int) -> int | None:
    """The participant id of the panelist this browser was invited as (by a panelist link), while
    that invitation stands; None if it never opened one for the event or it was revoked since."""
    granted = session.get(PANEL_INVITATION_SESSION_KEY, {}) if session is not None else {}
    invitation_id = granted.get(str(event_id)) if isinstance(granted, dict) else None
    if not isinstance(invitation_id, int):
        return None
    return (
        Participant.objects.filter(
            invitation_id=invitation_id, invitation__event_id=event_id, invitation__revoked_at__isnull=True
        )
        .values_list("pk", flat=True)
        .first()
    )


def panel_invitation_revoked(*, session, event_id: int) -> bool:
    """This browser opened a panelist link of the event that has since been revoked."""
    granted = session.get(PANEL_INVITATION_SESSION_KEY, {}) if session is not None else {}
    invitation_id = granted.get(str(event_id)) if isinstance(granted, dict) else None
    return isinstance(invitation_id, int) and invited_panelist_id(session=session, event_id=event_id) is None


def panelist_invitations(*, event: Event) -> QuerySet[PanelistInvitation]:
    """The event's panelist invitations for its console, the standing ones first."""
    return PanelistInvitation.objects.filter(event=event).order_by(F("revoked_at").asc(nulls_first=True), "id")


def participant_for_session(*, session, event: Event) -> Participant | None:
    pid = participant_id_from_session(session=session, event_id=event.id)
    if pid is None:
        return None
    return Participant.objects.filter(pk=pid, event=event).first()


def event_by_id(*, event_id: int) -> Event:
    return Event.objects.get(pk=event_id)


def poll_for_event(*, event_id: int, poll_id: int) -> Poll:
    poll = Poll.objects.select_related("event").filter(pk=poll_id, event_id=event_id).first()
    if poll is None:
        raise DomainError("unknown_poll")
    return poll


def next_poll_deadline() -> datetime | None:
    """The earliest countdown of any open poll (the poll closers sleep until it)."""
    return (
        Poll.objects.filter(state="open", closes_at__isnull=False)
        .order_by("closes_at")
        .values_list("closes_at", flat=True)
        .first()
    )


@dataclass(frozen=True)
class PollResults:
    """A poll's results as every reader gets them: the audience total, what the audience sees
    once results are revealed, and what moderators always see."""

    total: int
    public: dict[str, Any]
    moderator: dict[str, Any]


def poll_results(*, poll: Poll) -> PollResults:
    """The one tally of a poll, for broadcast frames, results.json, the HTTP fallback and exports.

    The moderator sees everything, including every profile split; the public view holds the
    panel, rounds and (if the moderator chose one) one profile split. Every split is small-cell
    suppressed for both. Whether the public view may be shown is the caller's (results_visible).
    """
    event = poll.event
    counted = tallies.tally(poll)
    k = event.min_cell_size
    panel = comparisons.panel_and_concordance(poll, counted.total, k=k)
    moderator = {
        **counted.moderator,
        **panel,
        **comparisons.rounds_detail(poll),
        "segments": comparisons.segments_by_attribute(poll, k=k),
    }
    public = {**counted.public, **panel, **comparisons.rounds_detail(poll, revealed_only=True)}
    if not poll.preferred_revealed and "concordance" in public:
        # Agreement with the preferred answer would give the answer away before its reveal.
        concordance = {k: v for k, v in public["concordance"].items() if k != "preferred"}
        public.pop("concordance")
        if concordance:
            public["concordance"] = concordance
    if event.presenter_segment:
        public["segments"] = comparisons.segments_by_attribute(poll, [event.presenter_segment], k=k)
    return PollResults(total=counted.total, public=public, moderator=moderator)


def poll_tally(*, poll_id: int) -> tuple[int, dict[int, int]]:
    """Total ballots and per-option counts of the audience, from poll_results."""
    results = poll_results(poll=Poll.objects.select_related("event").get(pk=poll_id))
    return results.total, {int(k): v for k, v in results.moderator.get("counts", {}).items()}


def case_for_screen(*, case_id: int | None) -> Case | None:
    if case_id is None:
        return None
    # Images without their bytes: a state frame names them, the image view serves them.
    images = Prefetch("images", queryset=CaseImage.objects.defer("content"))
    return (
        Case.objects.prefetch_related("staging", "history", "therapy_lines", "facts", images).filter(pk=case_id).first()
    )


def case_image_for_screen(*, event: Event, image_id: int, moderator: bool) -> CaseImage:
    """An image of a case on the event's agenda: any of them for its moderators, only the current
    case's for everyone else (a participant cannot look ahead by guessing ids)."""
    images = CaseImage.objects.filter(pk=image_id, case__agenda_items__event=event)
    if not moderator:
        images = images.filter(case_id=event.current_case_id)
    image = images.first()
    if image is None:
        raise EventNotFound
    return image


def revealed_fact_ids(*, event_id: int) -> set[int]:
    return set(CaseFactReveal.objects.filter(event_id=event_id).values_list("fact_id", flat=True))


def _poll_queryset():
    return Poll.objects.select_related("event").prefetch_related("options")


def poll_for_screen(*, poll_id: int | None) -> Poll | None:
    return _poll_queryset().filter(pk=poll_id).first() if poll_id else None


def revealed_teaching_points(*, event_id: int) -> list[TeachingPoint]:
    return list(
        TeachingPoint.objects.filter(
            pk__in=TeachingPointReveal.objects.filter(event_id=event_id).values("teaching_point")
        )
        .prefetch_related("references")
        .order_by("case_id", "position", "id")
    )


@dataclass(frozen=True)
class AgendaCase:
    case: Case
    polls: list[Poll]
    teaching_points: list[tuple[TeachingPoint, bool]]  # (point, revealed)
    hidden_facts: list[tuple[CaseFact, bool]]  # (fact hidden until revealed, revealed)


def agenda(*, event_id: int) -> list[AgendaCase]:
    """Every case of the event with its polls, teaching points and hidden facts (moderators)."""
    items = AgendaItem.objects.filter(event_id=event_id).select_related("case")
    by_case: dict[int, list[Poll]] = {}
    for poll in _poll_queryset().filter(event_id=event_id):
        by_case.setdefault(poll.case_id, []).append(poll)
    case_ids = [i.case_id for i in items]
    revealed = set(TeachingPointReveal.objects.filter(event_id=event_id).values_list("teaching_point_id", flat=True))
    points_by_case: dict[int, list[tuple[TeachingPoint, bool]]] = {}
    for point in TeachingPoint.objects.filter(case_id__in=case_ids).prefetch_related(Prefetch("references")):
        points_by_case.setdefault(point.case_id, []).append((point, point.id in revealed))
    facts = revealed_fact_ids(event_id=event_id)
    hidden_facts: dict[int, list[tuple[CaseFact, bool]]] = {}
    for fact in CaseFact.objects.filter(case_id__in=case_ids, hidden_until_revealed=True):
        hidden_facts.setdefault(fact.case_id, []).append((fact, fact.id in facts))
    return [
        AgendaCase(
            case=item.case,
            polls=by_case.get(item.case_id, []),
            teaching_points=points_by_case.get(item.case_id, []),
            hidden_facts=hidden_facts.get(item.case_id, []),
        )
        for item in items
    ]


def profile_questions(*, event_id: int) -> list[dict[str, Any]]:
    """The profile questions the event asks, in order: `{"key", "label", "options"}` each."""
    return [
        {"key": key, "label": label, "options": list(options)}
        for key, label, options in ProfileQuestion.objects.filter(event_id=event_id).values_list(
            "key", "label", "options"
        )
    ]


def profile_keys(*, event_id: int) -> list[str]:
    """The keys of the event's profile questions, in order (the attributes results can be split by)."""
    return list(ProfileQuestion.objects.filter(event_id=event_id).values_list("key", flat=True))


def participants_profiles(participant_ids: Sequence[int]) -> dict[int, dict[str, str] | None]:
    """participant_profile of many participants in one query."""
    rows = Participant.objects.filter(pk__in=set(participant_ids)).values_list("pk", "profile", "profile_set_at")
    return {
        pk: None if set_at is None else (profile if isinstance(profile, dict) else {}) for pk, profile, set_at in rows
    }


def participant_profile(*, participant_id: int) -> dict[str, str] | None:
    """The participant's own profile answers, or None if they never saved any (their phone shows them)."""
    row = Participant.objects.filter(pk=participant_id).values_list("profile", "profile_set_at").first()
    if row is None or row[1] is None:
        return None
    return row[0] if isinstance(row[0], dict) else {}


def participant_ballots(*, participant_id: int) -> dict[int, dict[str, Any]]:
    """A participant's recorded ballots per poll, shaped as in acks and `my_vote` (one query)."""
    return participants_ballots([participant_id])[participant_id]


def participants_ballots(participant_ids: Sequence[int]) -> dict[int, dict[int, dict[str, Any]]]:
    """participant_ballots of many participants in one query: {participant: {poll: ballot}}."""
    by_participant: dict[int, dict[int, dict[str, Any]]] = {pid: {} for pid in participant_ids}
    ranks: dict[tuple[int, int], list[tuple[int, int]]] = {}
    rows = Vote.objects.filter(participant_id__in=set(participant_ids)).values_list(
        "participant_id", "poll_id", "value_number", "value_text", "confidence", "choices__option_id", "choices__rank"
    )
    for participant_id, poll_id, value, text, confidence, option_id, rank in rows:
        ballots = by_participant[participant_id]
        ballot = ballots.get(poll_id)
        if ballot is None:
            ballot = ballots[poll_id] = {"options": []}
            if value is not None:
                ballot["value"] = value
            if text:
                ballot["text"] = text
            if confidence is not None:
                ballot["confidence"] = confidence
        if option_id is not None:
            ranks.setdefault((participant_id, poll_id), []).append((rank or 0, option_id))
    for (participant_id, poll_id), chosen in ranks.items():
        by_participant[participant_id][poll_id]["options"] = [option_id for _, option_id in sorted(chosen)]
    return by_participant


_EVENT_IDS: dict[str, tuple[float, int]] = {}
EVENT_ID_CACHE_S = 10.0


def remembered_event_id(*, code: str) -> int | None:
    """The event id for a join code if this process remembers it (no database), else None."""
    cached = _EVENT_IDS.get(normalise_code(code))
    if cached and time.monotonic() - cached[0] < EVENT_ID_CACHE_S:
        return cached[1]
    return None


def event_id_by_code(*, code: str, fresh: bool = False) -> int:
    """The event id for a join code, remembered briefly per process: a join burst of thousands
    of phones then costs no event lookup each."""
    key = normalise_code(code)
    cached = _EVENT_IDS.get(key)
    now = time.monotonic()
    if cached and not fresh and now - cached[0] < EVENT_ID_CACHE_S:
        return cached[1]
    event_id = Event.objects.filter(code=key).values_list("id", flat=True).first()
    if event_id is None:
        raise EventNotFound
    if len(_EVENT_IDS) > 10_000:
        _EVENT_IDS.clear()
    _EVENT_IDS[key] = (now, event_id)
    return event_id


def presence(*, event: Event) -> dict[str, int | None]:
    """Who is here: participants who joined (the audience, not the panel) and, if a poll is on
    screen, how many of them answered it."""
    joined = Participant.objects.filter(event=event, is_panelist=False).count()
    voted = None
    if event.current_poll_id:
        voted = Vote.objects.filter(poll_id=event.current_poll_id, participant__is_panelist=False).count()
    return {"joined": joined, "voted": voted, "poll": event.current_poll_id}


def event_unacknowledged_identifiers(event_id: int) -> list[tuple[Case, str, str, str]]:
    """(case, where, kind, fingerprint) of every passage on the event's agenda (its cases and the
    event's polls of them) that the identifier guard flags and nobody has acknowledged."""
    found = []
    cases = Case.objects.filter(agenda_items__event_id=event_id).prefetch_related(
        "staging", "history", "therapy_lines", "facts", "teaching_points"
    )
    for case in cases.order_by("agenda_items__position"):
        polls = []
        for poll in Poll.objects.filter(event_id=event_id, case=case).prefetch_related("options"):
            polls += [
                (f"Poll {poll.pk}: question", poll.question),
                (f"Poll {poll.pk}: rationale", poll.preferred_rationale),
            ]
            polls += [(f"Poll {poll.pk}: option {option.position}", option.label) for option in poll.options.all()]
        found += [
            (case, *finding) for finding in unacknowledged_identifiers(case=case, more=[p for p in polls if p[1]])
        ]
    return found


# ------------------------------------------------------------------ audience questions

QUESTION_STATE_ORDER = {"pending": 0, "approved": 1, "dismissed": 2}


@dataclass(frozen=True)
class QuestionItem:
    """One audience question as every reader gets it; `author` and `voters` stay on the server."""

    id: int
    text: str
    name: str
    state: str
    pinned: bool
    answered: bool
    merged_into: int | None
    author: int
    voters: frozenset[int]
    created_at: datetime

    @property
    def votes(self) -> int:
        return len(self.voters)


@dataclass(frozen=True)
class QuestionsView:
    """An event's questions and settings, read once per change and shown to each audience by its rule."""

    enabled: bool
    moderated: bool
    names: bool
    items: list[QuestionItem]  # every question of the event, in the room's order

    def public(self) -> list[QuestionItem]:
        """What the room (projector, every phone) sees: approved questions (none while questions are off)."""
        return [q for q in self.items if q.state == "approved"] if self.enabled else []

    def pending_by_author(self) -> dict[int, list[QuestionItem]]:
        """Each participant's own questions awaiting moderation: shown to their author alone."""
        pending: dict[int, list[QuestionItem]] = {}
        if not self.enabled:
            return pending
        for q in sorted(self.items, key=lambda q: -q.id):  # newest first
            if q.state == "pending":
                pending.setdefault(q.author, []).append(q)
        return pending

    def for_participant(self, participant_id: int | None) -> list[QuestionItem]:
        """A participant's list: their own pending questions first (newest first), then the room's."""
        mine = self.pending_by_author().get(participant_id, []) if participant_id is not None else []
        return mine + self.public()

    def for_moderator(self) -> list[QuestionItem]:
        """Every question: pending first, then approved, then dismissed (merged ones included)."""
        return sorted(self.items, key=lambda q: QUESTION_STATE_ORDER[q.state])


def question_order_key(q: QuestionItem) -> tuple:
    """The room's order: the pinned question, then open ones by votes (newest first among
    equals), answered ones last."""
    return (not q.pinned, q.answered, -q.votes, -q.id)


def event_questions(*, event_id: int) -> QuestionsView:
    """Every question of the event with its upvoters (two queries)."""
    event = Event.objects.only("questions_enabled", "questions_moderated", "questions_names_allowed").get(pk=event_id)
    voters: dict[int, set[int]] = {}
    for question_id, participant_id in QuestionUpvote.objects.filter(question__event_id=event_id).values_list(
        "question_id", "participant_id"
    ):
        voters.setdefault(question_id, set()).add(participant_id)
    items = [
        QuestionItem(
            id=q.id,
            text=q.text,
            name=q.name,
            state=q.state,
            pinned=q.pinned,
            answered=q.answered,
            merged_into=q.merged_into_id,
            author=q.participant_id,
            voters=frozenset(voters.get(q.id, ())),
            created_at=q.created_at,
        )
        for q in AudienceQuestion.objects.filter(event_id=event_id).order_by("id")
    ]
    items.sort(key=question_order_key)
    return QuestionsView(
        enabled=event.questions_enabled,
        moderated=event.questions_moderated,
        names=event.questions_names_allowed,
        items=items,
    )


def event_disclosures(*, event_id: int) -> list[Disclosure]:
    """The faculty's disclosures in the order the organiser set, for the phones and the projector."""
    return list(Disclosure.objects.filter(event_id=event_id).order_by("position", "id"))
