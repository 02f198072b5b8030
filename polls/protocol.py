"""The realtime protocol: client frame parsing, outgoing frame builders, one serializer per entity.

Documented in docs/protocol.md; tests check every type and error code appears there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from polls.ballots import Ballot
from polls.errors import ERROR_CODES, DomainError

MAX_REF_LENGTH = 64
MAX_OPTIONS_PER_VOTE = 20


class Role:
    PARTICIPANT = "participant"
    PANELIST = "panelist"
    PRESENTER = "presenter"
    MODERATOR = "moderator"


# ---------------------------------------------------------------- serializers


def event_payload(event) -> dict[str, Any]:
    from polls.profiles import questions_payload

    return {
        "id": event.id,
        "code": event.code,
        "title": event.title,
        "status": event.status,
        "profile_questions": questions_payload(list(event.profile_fields)),
        "segment": event.presenter_segment or None,
        "min_cell_size": event.min_cell_size,
    }


def case_payload(case, *, revealed_facts: set[int] = frozenset(), moderator: bool = False) -> dict[str, Any]:
    """A case; hidden facts appear once revealed in this event (moderators see all, flagged)."""
    facts = [
        {
            "id": f.id,
            "label": f.label,
            "text": f.text,
            "revealed": not f.hidden_until_revealed or f.id in revealed_facts,
        }
        for f in case.facts.all()
    ]
    if not moderator:
        facts = [{k: v for k, v in f.items() if k != "revealed"} for f in facts if f["revealed"]]
    return {
        "facts": facts,
        "id": case.id,
        "title": case.title,
        "disease": case.disease,
        "patient": {"age": case.patient_age, "sex": case.patient_sex},
        "diagnosis": case.diagnosis,
        "years_since_diagnosis": case.years_since_diagnosis,
        "staging": [{"system": s.system, "value": s.value} for s in case.staging.all()],
        "ecog": case.ecog,
        "history": [h.text for h in case.history.all()],
        "therapy_lines": [
            {
                "line": t.line_number,
                "regimen": t.regimen,
                "agents": t.agent_list,
                "transplant": t.transplant,
                "best_response": t.best_response,
                "outcome": t.outcome,
            }
            for t in case.therapy_lines.all()
        ],
        "current_status": case.current_status,
        "clinical_question": case.clinical_question,
    }


def _epoch_ms(moment) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def poll_payload(poll, *, moderator: bool = False) -> dict[str, Any]:
    """A poll as every screen sees it; the preferred answer only once revealed (moderators always)."""
    options = list(poll.options.all())
    payload: dict[str, Any] = {
        "id": poll.id,
        "case": poll.case_id,
        "kind": poll.kind,
        "question": poll.question,
        "state": poll.state,
        "results_visible": poll.results_visible,
        "options": [{"id": o.id, "label": o.label} for o in options],
        "closes_at": _epoch_ms(poll.closes_at) if poll.state == "open" else None,
        "ask_confidence": poll.ask_confidence,
        "round": poll.round_number,
    }
    if poll.kind == "multi":
        payload["max_choices"] = poll.max_choices or len(options)
    elif poll.kind == "numeric":
        payload["numeric"] = {"min": poll.numeric_min, "max": poll.numeric_max, "unit": poll.numeric_unit}
    elif poll.kind == "text":
        payload["text_max_length"] = poll.text_max_length
    preferred = [o.id for o in options if o.is_preferred]
    if preferred and (moderator or poll.preferred_revealed):
        payload["preferred"] = {
            "options": preferred,
            "rationale": poll.preferred_rationale,
            "revealed": poll.preferred_revealed,
        }
    return payload


def teaching_point_payload(point) -> dict[str, Any]:
    return {
        "id": point.id,
        "case": point.case_id,
        "title": point.title,
        "text": point.text,
        "references": [
            {"citation": r.citation, "pmid": r.pmid, "doi": r.doi, "nct": r.nct, "url": r.url}
            for r in point.references.all()
        ],
    }


def results_payload(*, poll_id: int, total: int, version: int, detail: dict[str, Any] | None) -> dict[str, Any]:
    """A `results` frame; `detail` (counts and the kind's statistics) only for those allowed to see it."""
    payload: dict[str, Any] = {"type": "results", "poll": poll_id, "total": total, "version": version}
    if detail is not None:
        payload.update(detail)
    return payload


# ------------------------------------------------------------ outgoing frames


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def ack_frame(*, ref: str | None, poll: int | None = None, **extra: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "ack", "ref": ref}
    if poll is not None:
        frame["poll"] = poll
    frame.update(extra)
    return frame


def error_frame(*, ref: str | None, code: str, message: str | None = None) -> dict[str, Any]:
    assert code in ERROR_CODES, code
    return {"type": "error", "ref": ref, "code": code, "message": message or ERROR_CODES[code]}


BALLOT_FIELDS = ("options", "value", "text", "confidence")


def ack_for_vote(*, ref: str | None, poll: int, ballot: dict[str, Any]) -> dict[str, Any]:
    """A vote's ack echoes the ballot as recorded (cleaned text, ordered options)."""
    return ack_frame(ref=ref, poll=poll, **{k: ballot[k] for k in BALLOT_FIELDS if k in ballot})


def ballot_from_ack(frame: dict[str, Any]) -> dict[str, Any] | None:
    if frame.get("type") != "ack" or "options" not in frame:
        return None
    return {k: frame[k] for k in BALLOT_FIELDS if k in frame}


def my_vote(poll_id: int | None, ballot: dict[str, Any] | None) -> dict[str, Any] | None:
    """The participant's own recorded ballot on the current poll, as carried in `state`."""
    if poll_id is None or not ballot:
        return None
    return {"poll": poll_id, **ballot}


def personal_state(state_text: str, my_vote_json: str) -> str:
    """A shared, already-serialised state frame with one phone's own ballot (serialised) and the
    server's clock spliced in: the state is serialised once per change for thousands of phones,
    and each costs one string concatenation."""
    return state_text[:-1] + ',"my_vote":' + my_vote_json + ',"server_time":' + str(time.time_ns() // 1_000_000) + "}"


def with_server_time(state_text: str) -> str:
    """Stamp a shared state frame with the server's clock as sent, so screens can correct
    countdowns for their own clock's error."""
    return state_text[:-1] + ',"server_time":' + str(time.time_ns() // 1_000_000) + "}"


# ------------------------------------------------------------- client frames


@dataclass(frozen=True)
class Command:
    type: str
    ref: str | None
    poll: int | None = None
    ballot: Ballot | None = None
    case: int | None = None
    teaching_point: int | None = None
    fact: int | None = None
    answer: int | None = None
    attribute: str | None = None
    answers: dict[str, Any] | None = None
    duration: int | None = None
    confirm: bool = False

    @property
    def options(self) -> tuple[int, ...]:
        return self.ballot.options if self.ballot else ()


def decode(text: str | None, *, max_bytes: int) -> dict[str, Any]:
    if text is None:
        raise DomainError("binary_not_supported")
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise DomainError("frame_too_large", f"Messages are limited to {max_bytes} bytes.")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise DomainError("invalid_json") from None
    if not isinstance(frame, dict):
        raise DomainError("bad_request", "A message must be a JSON object.")
    return frame


def _encodable(text: str) -> bool:
    # JSON may carry lone surrogates ("\ud800") that no database or socket can store.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def frame_ref(frame: dict[str, Any]) -> str | None:
    """The ref to echo in a reply, or None when the client's ref is unusable."""
    ref = frame.get("ref")
    if isinstance(ref, str) and 0 < len(ref) <= MAX_REF_LENGTH and _encodable(ref):
        return ref
    return None


def _ref(frame: dict[str, Any], *, required: bool) -> str | None:
    ref = frame.get("ref")
    if ref is None and not required:
        return None
    if not isinstance(ref, str) or not ref:
        raise DomainError("bad_request", "ref must be a non-empty string.")
    if len(ref) > MAX_REF_LENGTH:
        raise DomainError("bad_request", f"ref is limited to {MAX_REF_LENGTH} characters.")
    if not _encodable(ref):
        raise DomainError("bad_request", "ref must be valid Unicode text.")
    return ref


def _id(frame: dict[str, Any], field: str) -> int:
    value = frame.get(field)
    # bool is an int in Python; true is not an id.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise DomainError("bad_request", f"{field} must be a positive integer id.")
    return value


def _vote(frame: dict[str, Any]) -> Command:
    """Types only; what a ballot must hold depends on the poll's kind (polls/ballots.py)."""
    ref = _ref(frame, required=True)
    poll = _id(frame, "poll")
    options = frame.get("options", [])
    if not isinstance(options, list):
        raise DomainError("bad_request", "options must be a list of option ids.")
    if len(options) > MAX_OPTIONS_PER_VOTE:
        raise DomainError("too_many_options")
    ids = []
    for value in options:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
            raise DomainError("bad_request", "options must be a list of option ids.")
        ids.append(value)
    if len(set(ids)) != len(ids):
        raise DomainError("duplicate_option")
    value = frame.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise DomainError("invalid_value", "value must be a number.")
    text = frame.get("text")
    if text is not None and not isinstance(text, str):
        raise DomainError("invalid_value", "text must be a string.")
    confidence = frame.get("confidence")
    if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, int)):
        raise DomainError("bad_request", "confidence must be a whole number from 1 to 5.")
    ballot = Ballot(options=tuple(ids), value=value, text=text, confidence=confidence)
    return Command(type="vote", ref=ref, poll=poll, ballot=ballot)


def _poll_command(frame: dict[str, Any]) -> Command:
    return Command(type=frame["type"], ref=_ref(frame, required=False), poll=_id(frame, "poll"))


MIN_TIMER_S, MAX_TIMER_S = 5, 3600


def _open_poll(frame: dict[str, Any]) -> Command:
    duration = frame.get("duration")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int) or not MIN_TIMER_S <= duration <= MAX_TIMER_S
    ):
        raise DomainError("bad_request", f"duration must be whole seconds from {MIN_TIMER_S} to {MAX_TIMER_S}.")
    return Command(type="open_poll", ref=_ref(frame, required=False), poll=_id(frame, "poll"), duration=duration)


def _confirmed_poll_command(frame: dict[str, Any]) -> Command:
    if frame.get("confirm") is not True:
        raise DomainError("confirmation_required")
    return Command(type=frame["type"], ref=_ref(frame, required=False), poll=_id(frame, "poll"), confirm=True)


def _answer_command(frame: dict[str, Any]) -> Command:
    return Command(type=frame["type"], ref=_ref(frame, required=False), answer=_id(frame, "answer"))


def _segments_command(frame: dict[str, Any]) -> Command:
    attribute = frame.get("attribute")
    if attribute is not None and (not isinstance(attribute, str) or len(attribute) > 20):
        raise DomainError("bad_request", "attribute must be a profile question key or null.")
    return Command(type="show_segments", ref=_ref(frame, required=False), attribute=attribute)


def _profile(frame: dict[str, Any]) -> Command:
    answers = frame.get("answers")
    if not isinstance(answers, dict) or len(answers) > 10:
        raise DomainError("bad_request", "answers must be an object of profile answers.")
    return Command(type="profile", ref=_ref(frame, required=False), answers=answers)


def _fact_command(frame: dict[str, Any]) -> Command:
    return Command(type=frame["type"], ref=_ref(frame, required=False), fact=_id(frame, "fact"))


def _case_command(frame: dict[str, Any]) -> Command:
    return Command(type=frame["type"], ref=_ref(frame, required=False), case=_id(frame, "case"))


def _teaching_point_command(frame: dict[str, Any]) -> Command:
    return Command(type=frame["type"], ref=_ref(frame, required=False), teaching_point=_id(frame, "teaching_point"))


def _bare_command(frame: dict[str, Any]) -> Command:
    return Command(type=frame["type"], ref=_ref(frame, required=False))


PARTICIPANT_FRAMES: dict[str, Callable[[dict[str, Any]], Command]] = {
    "vote": _vote,
    "profile": _profile,
    "ping": _bare_command,
}
PANELIST_FRAMES: dict[str, Callable[[dict[str, Any]], Command]] = {
    "vote": _vote,
    "ping": _bare_command,
}
PRESENTER_FRAMES: dict[str, Callable[[dict[str, Any]], Command]] = {
    "ping": _bare_command,
}
MODERATOR_FRAMES: dict[str, Callable[[dict[str, Any]], Command]] = {
    "ping": _bare_command,
    "open_poll": _open_poll,
    "close_poll": _poll_command,
    "reveal_results": _poll_command,
    "hide_results": _poll_command,
    "reveal_preferred": _poll_command,
    "hide_preferred": _poll_command,
    "reset_poll": _confirmed_poll_command,
    "duplicate_poll": _poll_command,
    "approve_answer": _answer_command,
    "reject_answer": _answer_command,
    "reveal_fact": _fact_command,
    "hide_fact": _fact_command,
    "new_round": _poll_command,
    "show_segments": _segments_command,
    "show_case": _case_command,
    "reveal_teaching_point": _teaching_point_command,
    "hide_teaching_point": _teaching_point_command,
    "start_event": _bare_command,
    "end_event": _bare_command,
}
FRAMES_BY_ROLE = {
    Role.PARTICIPANT: PARTICIPANT_FRAMES,
    Role.PANELIST: PANELIST_FRAMES,
    Role.PRESENTER: PRESENTER_FRAMES,
    Role.MODERATOR: MODERATOR_FRAMES,
}
SERVER_FRAME_TYPES = ("state", "results", "ack", "error", "pong")


def parse(frame: dict[str, Any], *, role: str) -> Command:
    kind = frame.get("type")
    if not isinstance(kind, str):
        raise DomainError("bad_request", "type must be a string.")
    parser = FRAMES_BY_ROLE[role].get(kind)
    if parser is None:
        if any(kind in table for table in FRAMES_BY_ROLE.values()):
            raise DomainError("forbidden", f"{kind} is not allowed on this connection.")
        raise DomainError("unknown_type")
    return parser(frame)
