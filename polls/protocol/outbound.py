"""Server frames: each type built here and nowhere else, serialised once per audience.

`SERVER_FRAMES` lists each type's top-level fields; docs/protocol.md is checked against it.
A change is read once, serialised once for the public (phones, projector) and once for
moderators, and carried by the channel layer as text (`frames_message`); a phone's own ballot
its own profile answers and the server's clock are spliced into the shared text as it goes out.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from polls import selectors
from polls.errors import ERROR_CODES, DomainError
from polls.models import Poll
from polls.protocol.payloads import (
    case_payload,
    epoch_ms,
    event_payload,
    poll_payload,
    question_payload,
    results_payload,
    teaching_point_payload,
)

# Every server frame type and its top-level fields (a `results` frame adds its kind's detail).
SERVER_FRAMES: dict[str, tuple[str, ...]] = {
    "state": (
        "type", "version", "event", "case", "poll", "results", "teaching_points", "my_vote", "my_profile",
        "server_time", "agenda", "questions",
    ),
    "results": ("type", "poll", "total", "version"),
    "ack": ("type", "ref", "poll", "options", "value", "text", "confidence", "results", "question", "votes"),
    "error": ("type", "ref", "code", "message"),
    "pong": ("type", "ref"),
    "questions": ("type", "version", "enabled", "moderated", "names", "items"),
    "questions_delta": ("type", "version", "since", "enabled", "moderated", "names", "order", "items"),
}  # fmt: skip

MESSAGE_TYPE = "fanout.frames"
ACCESS_MESSAGE_TYPE = "fanout.access"
BALLOT_FIELDS = ("options", "value", "text", "confidence")

__all__ = ["epoch_ms"]


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


# ------------------------------------------------------------ replies


def ack_frame(*, ref: str | None, poll: int | None = None, **extra: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "ack", "ref": ref}
    if poll is not None:
        frame["poll"] = poll
    frame.update(extra)
    return frame


def error_frame(*, ref: str | None, code: str, message: str | None = None, **details: Any) -> dict[str, Any]:
    assert code in ERROR_CODES, code
    return {"type": "error", "ref": ref, "code": code, "message": message or ERROR_CODES[code], **details}


def pong_frame(*, ref: str | None) -> dict[str, Any]:
    return {"type": "pong", "ref": ref}


def vote_ack(*, ref: str | None, outcome) -> dict[str, Any]:
    """A vote's ack echoes the ballot as recorded (cleaned text, ordered options) and, unless the
    ref was a resend, the total right after it was written (its results frame without detail)."""
    ballot = outcome.ballot.as_json()
    ack = ack_frame(ref=ref, poll=outcome.poll_id, **{k: ballot[k] for k in BALLOT_FIELDS if k in ballot})
    if outcome.total is not None and outcome.version is not None:
        ack["results"] = results_payload(
            poll_id=outcome.poll_id, total=outcome.total, version=outcome.version, detail=None
        )
    return ack


def ballot_from_ack(frame: dict[str, Any]) -> dict[str, Any] | None:
    if frame.get("type") != "ack" or "options" not in frame:
        return None
    return {k: frame[k] for k in BALLOT_FIELDS if k in frame}


# ------------------------------------------------------------ results


def results_frames(*, poll: Poll, version: int | None = None) -> dict[str, dict[str, Any]]:
    """The `results` frame per audience: the public's detail only once results are revealed."""
    # Taken before the reads (callers may take it before reading the poll): a later frame never holds less.
    version = version or time.time_ns() // 1000
    results = selectors.poll_results(poll=poll)
    public = results.public if poll.results_visible else None
    return {
        "public": results_payload(poll_id=poll.id, total=results.total, version=version, detail=public),
        "moderator": results_payload(poll_id=poll.id, total=results.total, version=version, detail=results.moderator),
    }


# ------------------------------------------------------------ state


def _agenda_payload(event_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": entry.case.id,
            "title": entry.case.title,
            "facts": [{"id": f.id, "label": f.label, "revealed": shown} for f, shown in entry.hidden_facts],
            "polls": [poll_payload(p, moderator=True) for p in entry.polls],
            "teaching_points": [
                {"id": p.id, "title": p.title, "revealed": shown} for p, shown in entry.teaching_points
            ],
        }
        for entry in selectors.agenda(event_id=event_id)
    ]


def state_frames(*, event_id: int) -> dict[str, dict[str, Any]]:
    """The `state` frame per audience ("public" for phones and presenter, "moderator")."""
    event = selectors.event_by_id(event_id=event_id)
    case = selectors.case_for_screen(case_id=event.current_case_id)
    poll = selectors.poll_for_screen(poll_id=event.current_poll_id)
    # Only the case on screen: the previous case's points leave the projector and phones with it.
    points = [
        teaching_point_payload(p)
        for p in selectors.revealed_teaching_points(event_id=event_id)
        if p.case_id == event.current_case_id
    ]
    results = results_frames(poll=poll) if poll is not None and poll.state != "draft" else None
    facts = selectors.revealed_fact_ids(event_id=event_id) if case else set()
    profile_questions = selectors.profile_questions(event_id=event.id)
    base = {
        "type": "state",
        "version": event.state_version,
        "event": event_payload(event, profile_questions=profile_questions),
        "teaching_points": points,
    }
    public = {
        **base,
        "case": case_payload(case, revealed_facts=facts) if case else None,
        "poll": poll_payload(poll) if poll else None,
        "results": results["public"] if results else None,
    }
    moderator = {
        **base,
        "case": case_payload(case, revealed_facts=facts, moderator=True) if case else None,
        "poll": poll_payload(poll, moderator=True) if poll else None,
        "results": results["moderator"] if results else None,
        "agenda": _agenda_payload(event_id),
    }
    return {"public": public, "moderator": moderator}


def my_vote(poll_id: int | None, ballot: dict[str, Any] | None) -> dict[str, Any] | None:
    """The participant's own recorded ballot on the current poll, as carried in `state`."""
    if poll_id is None or not ballot:
        return None
    return {"poll": poll_id, **ballot}


def personal_state(
    state_text: str, my_vote_json: str, questions_json: str | None = None, my_profile_json: str | None = None
) -> str:
    """A shared, already-serialised state frame with one phone's own ballot (serialised), its
    `questions` frame, its own profile answers (`my_profile`, for participants) and the server's
    clock spliced in: the state is serialised once per change for thousands of phones, and each
    costs one string concatenation."""
    questions = ',"questions":' + questions_json if questions_json is not None else ""
    profile = ',"my_profile":' + my_profile_json if my_profile_json is not None else ""
    return (
        state_text[:-1]
        + ',"my_vote":'
        + my_vote_json
        + questions
        + profile
        + ',"server_time":'
        + str(time.time_ns() // 1_000_000)
        + "}"
    )


def my_profile(answers: dict[str, str] | None) -> dict[str, str] | None:
    """The participant's own profile answers as carried in `state`: null until they answered
    (or skipped every question with Save), then their answers (`{}` when all were skipped)."""
    return None if answers is None else dict(answers)


def with_server_time(state_text: str, questions_json: str | None = None) -> str:
    """Stamp a shared state frame with the server's clock as sent, so screens can correct
    countdowns for their own clock's error (and splice in the audience's `questions` frame)."""
    questions = ',"questions":' + questions_json if questions_json is not None else ""
    return state_text[:-1] + questions + ',"server_time":' + str(time.time_ns() // 1_000_000) + "}"


# ------------------------------------------------------------ what the channel layer carries


def frames_message(
    *,
    event_id: int,
    kind: str,
    public: str,
    moderator: str,
    poll_id: int | None = None,
    version: int = 0,
    resets: int = 0,
) -> dict[str, Any]:
    """The channel-layer message of one broadcast: the frame as text for each audience (`resets`:
    how often the poll's votes were reset, so sockets drop ballots they remember from before)."""
    return {
        "resets": resets,
        "type": MESSAGE_TYPE,
        "event": event_id,
        "kind": kind,
        "poll": poll_id,
        "version": version,
        "public": public,
        "moderator": moderator,
    }


def access_message(event_id: int) -> dict[str, Any]:
    """Tells every process that who may moderate or present the event changed."""
    return {"type": ACCESS_MESSAGE_TYPE, "event": event_id}


def build_state_message(event_id: int) -> dict[str, Any]:
    """The `state` frames of an event, serialised once per audience (sync: reads the database)."""
    state = state_frames(event_id=event_id)
    poll = state["public"]["poll"]
    message = frames_message(
        event_id=event_id,
        kind="state",
        poll_id=poll["id"] if poll else None,
        resets=poll["resets"] if poll else 0,
        version=state["public"]["version"],
        public=dumps(state["public"]),
        moderator=dumps(state["moderator"]),
    )
    # The questions as of this state; the hub swaps in a newer `questions` message when one comes.
    message["questions"] = build_questions_message(event_id)
    return message


def build_results_message(event_id: int, poll_id: int) -> dict[str, Any] | None:
    version = time.time_ns() // 1000  # before the poll is read, so a stale visibility never looks newer
    try:
        poll = selectors.poll_for_event(event_id=event_id, poll_id=poll_id)
    except DomainError:  # deleted since the change was announced
        return None
    results = results_frames(poll=poll, version=version)
    return frames_message(
        event_id=event_id,
        kind="results",
        poll_id=poll_id,
        version=results["public"]["version"],
        public=dumps(results["public"]),
        moderator=dumps(results["moderator"]),
    )


# ------------------------------------------------------------ audience questions


def _question_entry(question, show_name: bool) -> list[Any]:
    """A phone's item without its two personal fields, the author and the upvoters (each phone
    completes the item with its own `mine` and `voted`), and the question's id."""
    text = dumps(question_payload(question, mine=False, voted=False, show_name=show_name))
    prefix = text[: text.rindex(',"mine":')]
    return [prefix, question.author, sorted(question.voters), question.id]


def build_questions_message(event_id: int) -> dict[str, Any]:
    """The `questions` frames of an event (sync: reads the database): serialised once for the
    moderators (every question) and once for the projector (approved ones), and for the phones as
    pieces each phone's socket completes with its own pending questions, `mine` and `voted`."""
    version = time.time_ns() // 1000  # before the read: a later frame never holds less
    view = selectors.event_questions(event_id=event_id)
    head = {
        "type": "questions",
        "version": version,
        "enabled": view.enabled,
        "moderated": view.moderated,
        "names": view.names,
    }
    moderator = [question_payload(q, mine=False, voted=False, moderator=True) for q in view.for_moderator()]
    public = view.public()
    message = frames_message(
        event_id=event_id,
        kind="questions",
        version=version,
        public=dumps(
            {**head, "items": [question_payload(q, mine=False, voted=False, show_name=view.names) for q in public]}
        ),
        moderator=dumps({**head, "items": moderator}),
    )
    message["phone"] = {
        "head": dumps({**head, "items": []})[:-2],  # ends with "items":[
        # A `questions_delta` frame's opening (ends before the closing brace), for phones that asked for them.
        "delta_head": dumps({**head, "type": "questions_delta"})[:-1],
        "public": [_question_entry(q, view.names) for q in public],
        "pending": {
            str(author): [_question_entry(q, view.names) for q in qs] for author, qs in view.pending_by_author().items()
        },
    }
    return message


@dataclass(frozen=True)
class _PhoneView:
    """What every phone's frame of one message shares, built once per message and process: the
    room's items as most phones see them (neither asked nor upvoted by them), the whole frame for
    such a phone, and for each phone that asked or upvoted one of them, where its frame differs."""

    items: list[str]
    shared: str
    touched: dict[int, list[tuple[int, bool, bool]]]  # participant -> [(index, mine, voted)]


_PHONE_VIEWS: dict[tuple[int, int], _PhoneView] = {}
# The phone part of the newest messages this process delivered, by (event, version): the bases
# `questions_delta` frames are computed from (a socket's last frame is one of the newest few).
_PHONE_BASES: dict[tuple[int, int], dict[str, Any]] = {}
_DELTA_VIEWS: dict[tuple[int, int, int], _DeltaView] = {}
_KEPT_VIEWS = 64


def _marks(entries: list[list[Any]]) -> dict[int, list[tuple[int, bool, bool]]]:
    """Participant -> [(index, mine, voted)] for the entries that participant asked or upvoted."""
    marks: dict[int, dict[int, list[bool]]] = {}
    for index, (_, author, voters, _) in enumerate(entries):
        marks.setdefault(author, {}).setdefault(index, [False, False])[0] = True
        for voter in voters:
            marks.setdefault(voter, {}).setdefault(index, [False, False])[1] = True
    return {pid: [(i, m, v) for i, (m, v) in sorted(by_index.items())] for pid, by_index in marks.items()}


def _phone_view(message: dict[str, Any]) -> _PhoneView:
    key = (message["event"], message["version"])
    view = _PHONE_VIEWS.get(key)
    if view is None:
        for cache in (_PHONE_VIEWS, _PHONE_BASES, _DELTA_VIEWS):
            while len(cache) >= _KEPT_VIEWS:  # the oldest go first (dicts keep insertion order)
                cache.pop(next(iter(cache)))
        phone = message["phone"]
        items = [_personal_item(entry[0], False, False) for entry in phone["public"]]
        view = _PHONE_VIEWS[key] = _PhoneView(items, phone["head"] + ",".join(items) + "]}", _marks(phone["public"]))
        _PHONE_BASES[key] = phone
    return view


@dataclass(frozen=True)
class _DeltaView:
    """What every phone's `questions_delta` from one version to the next shares: the room's
    questions that changed (text, state, votes or who voted) as entries and as a phone with no
    mark among them sees them, the frame up to its `order`, that phone's whole frame, and the
    marks of the phones that asked or upvoted one of them."""

    entries: list[list[Any]]
    items: list[str]
    head: str
    order: str  # the room's question ids, comma-separated
    shared: str
    touched: dict[int, list[tuple[int, bool, bool]]]


def _delta_view(message: dict[str, Any], since: int) -> _DeltaView | None:
    """None when this process no longer holds version `since` (the socket gets the whole frame)."""
    key = (message["event"], since, message["version"])
    view = _DELTA_VIEWS.get(key)
    if view is not None:
        return view
    _phone_view(message)  # keeps this message as the base of the next delta
    base = _PHONE_BASES.get((message["event"], since))
    if base is None:
        return None
    before = {entry[3]: entry[:3] for entry in base["public"]}
    public = message["phone"]["public"]
    changed = [entry for entry in public if before.get(entry[3]) != entry[:3]]
    items = [_personal_item(entry[0], False, False) for entry in changed]
    head = message["phone"]["delta_head"] + f',"since":{since},"order":['
    order = ",".join(str(entry[3]) for entry in public)
    shared = head + order + '],"items":[' + ",".join(items) + "]}"
    view = _DELTA_VIEWS[key] = _DeltaView(changed, items, head, order, shared, _marks(changed))
    return view


def _personal_item(prefix: str, mine: bool, voted: bool) -> str:
    return prefix + (',"mine":true' if mine else ',"mine":false') + (',"voted":true}' if voted else ',"voted":false}')


def questions_text(message: dict[str, Any], *, audience: str = "public", participant_id: int | None = None) -> str:
    """The serialised `questions` frame for one socket: the moderators' or the projector's as
    built, or a phone's own (its pending questions first, then the room's, with `mine` and `voted`).
    A phone that neither asked nor upvoted any shown question gets the shared text as it is; the
    others, a copy with their few items changed (a room of thousands costs a lookup per phone)."""
    if participant_id is None:
        return message[audience]
    view = _phone_view(message)
    own = message["phone"]["pending"].get(str(participant_id))
    touched = view.touched.get(participant_id)
    if not own and not touched:
        return view.shared
    items = _phone_items(view.items, message["phone"]["public"], touched, own, participant_id)
    return message["phone"]["head"] + ",".join(items) + "]}"


def _phone_items(shared, entries, touched, own, participant_id: int) -> list[str]:
    """One phone's items: the shared ones with this phone's marks where it asked or upvoted
    (`touched` indexes `entries`, whose items `shared` holds), and its own pending ones first."""
    items = shared
    if touched:
        items = list(shared)
        for index, mine, voted in touched:
            items[index] = _personal_item(entries[index][0], mine, voted)
    if own:
        items = [_personal_item(prefix, True, participant_id in voters) for prefix, _, voters, _ in own] + items
    return items


def questions_delta_text(message: dict[str, Any], *, since: int, participant_id: int) -> str | None:
    """A phone's `questions_delta` from the `questions` frame of version `since` (the last it was
    sent) to this message: the order of every question it sees and, in full with its own `mine`
    and `voted`, the room's questions that changed and its own pending ones. A room upvoting at
    once changes a few questions per frame, so a phone gets those instead of the whole list
    (about 30 KB at 200 questions). None when this process no longer knows `since`."""
    view = _delta_view(message, since)
    if view is None:
        return None
    own = message["phone"]["pending"].get(str(participant_id))
    touched = view.touched.get(participant_id)
    if not own and not touched:
        return view.shared
    items = _phone_items(view.items, view.entries, touched, own, participant_id)
    order = view.order
    if own:
        order = ",".join([*(str(entry[3]) for entry in own), *([order] if order else [])])
    return view.head + order + '],"items":[' + ",".join(items) + "]}"
