"""The realtime protocol: client frame parsing, outgoing frame builders, one serializer per entity.

Documented in docs/protocol.md; tests check every type and error code appears there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from polls.errors import ERROR_CODES, DomainError

MAX_REF_LENGTH = 64
MAX_OPTIONS_PER_VOTE = 20


class Role:
    PARTICIPANT = "participant"
    PRESENTER = "presenter"
    MODERATOR = "moderator"


# ---------------------------------------------------------------- serializers


def event_payload(event) -> dict[str, Any]:
    return {"id": event.id, "code": event.code, "title": event.title, "status": event.status}


def case_payload(case) -> dict[str, Any]:
    return {
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


def poll_payload(poll) -> dict[str, Any]:
    return {
        "id": poll.id,
        "case": poll.case_id,
        "kind": poll.kind,
        "question": poll.question,
        "state": poll.state,
        "results_visible": poll.results_visible,
        "options": [{"id": o.id, "label": o.label} for o in poll.options.all()],
    }


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


def results_payload(
    *, poll_id: int, total: int, counts: dict[int, int], with_counts: bool, version: int
) -> dict[str, Any]:
    payload: dict[str, Any] = {"type": "results", "poll": poll_id, "total": total, "version": version}
    if with_counts:
        payload["counts"] = {str(k): v for k, v in counts.items()}
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


def with_my_vote(state_text: str, my_vote: dict[str, Any] | None) -> str:
    """Add a participant's own ballot to a shared, already-serialised state frame.

    The state is serialised once per change for thousands of phones; splicing one key keeps
    the per-phone cost to a short string concatenation.
    """
    return state_text[:-1] + ',"my_vote":' + dumps(my_vote) + "}"  # type: ignore[arg-type]


# ------------------------------------------------------------- client frames


@dataclass(frozen=True)
class Command:
    type: str
    ref: str | None
    poll: int | None = None
    options: tuple[int, ...] = ()
    case: int | None = None
    teaching_point: int | None = None


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


def frame_ref(frame: dict[str, Any]) -> str | None:
    """The ref to echo in a reply, or None when the client's ref is unusable."""
    ref = frame.get("ref")
    if isinstance(ref, str) and 0 < len(ref) <= MAX_REF_LENGTH:
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
    return ref


def _id(frame: dict[str, Any], field: str) -> int:
    value = frame.get(field)
    # bool is an int in Python; true is not an id.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise DomainError("bad_request", f"{field} must be a positive integer id.")
    return value


def _vote(frame: dict[str, Any]) -> Command:
    ref = _ref(frame, required=True)
    poll = _id(frame, "poll")
    options = frame.get("options")
    if not isinstance(options, list):
        raise DomainError("bad_request", "options must be a list of option ids.")
    if not options:
        raise DomainError("no_option")
    if len(options) > MAX_OPTIONS_PER_VOTE:
        raise DomainError("too_many_options")
    ids = []
    for value in options:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
            raise DomainError("bad_request", "options must be a list of option ids.")
        ids.append(value)
    if len(set(ids)) != len(ids):
        raise DomainError("duplicate_option")
    return Command(type="vote", ref=ref, poll=poll, options=tuple(ids))


def _poll_command(frame: dict[str, Any]) -> Command:
    return Command(type=frame["type"], ref=_ref(frame, required=False), poll=_id(frame, "poll"))


def _case_command(frame: dict[str, Any]) -> Command:
    return Command(type=frame["type"], ref=_ref(frame, required=False), case=_id(frame, "case"))


def _teaching_point_command(frame: dict[str, Any]) -> Command:
    return Command(type=frame["type"], ref=_ref(frame, required=False), teaching_point=_id(frame, "teaching_point"))


def _bare_command(frame: dict[str, Any]) -> Command:
    return Command(type=frame["type"], ref=_ref(frame, required=False))


PARTICIPANT_FRAMES: dict[str, Callable[[dict[str, Any]], Command]] = {
    "vote": _vote,
    "ping": _bare_command,
}
PRESENTER_FRAMES: dict[str, Callable[[dict[str, Any]], Command]] = {
    "ping": _bare_command,
}
MODERATOR_FRAMES: dict[str, Callable[[dict[str, Any]], Command]] = {
    "ping": _bare_command,
    "open_poll": _poll_command,
    "close_poll": _poll_command,
    "reveal_results": _poll_command,
    "hide_results": _poll_command,
    "show_case": _case_command,
    "reveal_teaching_point": _teaching_point_command,
    "hide_teaching_point": _teaching_point_command,
    "start_event": _bare_command,
    "end_event": _bare_command,
}
FRAMES_BY_ROLE = {
    Role.PARTICIPANT: PARTICIPANT_FRAMES,
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
