"""Client frames: each type declared once, with its fields, who may send it, its handler and
whether the HTTP fallback takes it. docs/protocol.md is checked against this registry field by
field (tests/polls/protocol/test_registry.py).

The rule for fields a type does not declare: they are ignored. A newer client may send more
than this server knows; only declared fields are read, each validated by its own type.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from polls import services
from polls.ballots import Ballot, finite_number
from polls.errors import DomainError
from polls.protocol import outbound
from polls.protocol.roles import Role

MAX_REF_LENGTH = 64
MAX_OPTIONS_PER_VOTE = 20
MIN_TIMER_S, MAX_TIMER_S = 5, 3600
MAX_PROFILE_ANSWERS = 10
MAX_ATTRIBUTE_LENGTH = 20

ANYONE = frozenset({Role.PARTICIPANT, Role.PANELIST, Role.PRESENTER, Role.MODERATOR})
VOTERS = frozenset({Role.PARTICIPANT, Role.PANELIST})
PARTICIPANTS = frozenset({Role.PARTICIPANT})
MODERATORS = frozenset({Role.MODERATOR})
# The projector's own keys (a presentation clicker): what is on screen, never the polls themselves.
STAGE_DRIVERS = frozenset({Role.MODERATOR, Role.PRESENTER})


# ------------------------------------------------------------------ field types


def _encodable(text: str) -> bool:
    # JSON may carry lone surrogates ("\ud800") that no database or socket can store.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _ref(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise DomainError("bad_request", "ref must be a non-empty string.")
    if len(value) > MAX_REF_LENGTH:
        raise DomainError("bad_request", f"ref is limited to {MAX_REF_LENGTH} characters.")
    if not _encodable(value):
        raise DomainError("bad_request", "ref must be valid Unicode text.")
    return value


def _is_id(value: Any) -> bool:
    # bool is an int in Python; true is not an id.
    return not isinstance(value, bool) and isinstance(value, int) and 0 < value < 2**63


def _id(name: str) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if not _is_id(value):
            raise DomainError("bad_request", f"{name} must be a positive integer id.")
        return value

    return check


def _option_ids(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise DomainError("bad_request", "options must be a list of option ids.")
    if len(value) > MAX_OPTIONS_PER_VOTE:
        raise DomainError("too_many_options")
    if not all(_is_id(item) for item in value):
        raise DomainError("bad_request", "options must be a list of option ids.")
    if len(set(value)) != len(value):
        raise DomainError("duplicate_option")
    return tuple(value)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DomainError("invalid_value", "value must be a number.")
    return finite_number(value)  # a 400-digit integer fails here alone, not in its batch


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise DomainError("invalid_value", "text must be a string.")
    return value


def _confidence(value: Any) -> int:
    # The range (1-5) is the ballot's rule (polls/ballots.py); the type is the wire's.
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError("bad_request", "confidence must be a whole number from 1 to 5.")
    return value


def _duration(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_TIMER_S <= value <= MAX_TIMER_S:
        raise DomainError("bad_request", f"duration must be whole seconds from {MIN_TIMER_S} to {MAX_TIMER_S}.")
    return value


def _confirm(value: Any) -> bool:
    if value is not True:
        raise DomainError("confirmation_required")
    return True


def _attribute(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > MAX_ATTRIBUTE_LENGTH):
        raise DomainError("bad_request", "attribute must be a profile question key or null.")
    return value


def _answers(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) > MAX_PROFILE_ANSWERS:
        raise DomainError("bad_request", "answers must be an object of profile answers.")
    return value


@dataclass(frozen=True)
class Field:
    check: Callable[[Any], Any]
    required: bool = True
    # What a missing or null optional field stands for.
    missing: Any = None


REF = Field(_ref)
OPTIONAL_REF = Field(_ref, required=False)
POLL = Field(_id("poll"))


def _required_id(name: str) -> Field:
    return Field(_id(name))


# ------------------------------------------------------------------ the registry


@dataclass(frozen=True)
class Caller:
    """Who sent a frame, as the interface established it."""

    event_id: int
    user: Any = None
    participant_id: int | None = None


@dataclass(frozen=True)
class Command:
    """A client frame that passed its type's validation: only declared fields, cleaned."""

    type: str
    ref: str | None
    fields: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        # command.poll, command.duration, ...: the declared fields by name.
        try:
            return self.__dict__["fields"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def spec(self) -> FrameType:
        return FRAME_TYPES[self.type]


Handler = Callable[[Command, Caller], dict[str, Any]]


@dataclass(frozen=True)
class Batching:
    """How a frame type's commands join a batch: `writer` names the process's writer (its key in
    polls.live.votewriter.WRITERS), `request` builds what it writes, `ack` the reply to its outcome."""

    writer: str
    request: Callable[[Command, Caller], Any]
    ack: Callable[[Command, Any], dict[str, Any]]


@dataclass(frozen=True)
class FrameType:
    name: str
    roles: frozenset[str]
    fields: dict[str, Field]
    handler: Handler
    # Accepted by POST /e/<CODE>/vote for phones without websockets.
    http_fallback: bool = False
    # Answered on the event loop, no database (ping).
    inline: bool = False
    # Written in batches by the server process's group commit (polls/live/votewriter.py), which
    # turns a command into a request and an outcome into the reply with this; the handler is the
    # same decision for one (the HTTP fallback's path).
    batched: Batching | None = None

    def parse(self, frame: dict[str, Any]) -> Command:
        values: dict[str, Any] = {}
        for name, spec in self.fields.items():
            value = frame.get(name)
            if value is None and not spec.required:
                values[name] = spec.missing
                continue
            values[name] = spec.check(value)  # a missing required field is refused by its own check
        return Command(type=self.name, ref=values.get("ref"), fields=values)


FRAME_TYPES: dict[str, FrameType] = {}


def client_frame(
    name: str,
    *,
    roles: frozenset[str],
    fields: dict[str, Field],
    http_fallback: bool = False,
    inline: bool = False,
    batched: Batching | None = None,
) -> Callable[[Handler], Handler]:
    """Declare a client frame type with its handler (the decorated function)."""

    def register(handler: Handler) -> Handler:
        assert name not in FRAME_TYPES, f"{name} declared twice"
        FRAME_TYPES[name] = FrameType(name, roles, fields, handler, http_fallback, inline, batched)
        return handler

    return register


def types_for(role: str) -> list[str]:
    """The client frame types this role may send."""
    return sorted(name for name, spec in FRAME_TYPES.items() if role in spec.roles)


def _refuse_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON itself does not have.
    raise ValueError(f"{name} is not JSON")


def decode(text: str | None, *, max_bytes: int) -> dict[str, Any]:
    if text is None:
        raise DomainError("binary_not_supported")
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise DomainError("frame_too_large", f"Messages are limited to {max_bytes} bytes.")
    try:
        frame = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise DomainError("invalid_json") from None
    if not isinstance(frame, dict):
        raise DomainError("bad_request", "A message must be a JSON object.")
    return frame


def frame_ref(frame: dict[str, Any]) -> str | None:
    """The ref to echo in a reply, or None when the client's ref is unusable."""
    ref = frame.get("ref")
    if isinstance(ref, str) and 0 < len(ref) <= MAX_REF_LENGTH and _encodable(ref):
        return ref
    return None


def parse(frame: dict[str, Any], *, role: str, http: bool = False) -> Command:
    """Validate a decoded frame for the sender's role (and interface); raises DomainError."""
    kind = frame.get("type")
    if not isinstance(kind, str):
        raise DomainError("bad_request", "type must be a string.")
    spec = FRAME_TYPES.get(kind)
    if spec is None or (http and not spec.http_fallback):
        raise DomainError("unknown_type")
    if role not in spec.roles:
        raise DomainError("forbidden", f"{kind} is not allowed on this connection.")
    return spec.parse(frame)


def execute(command: Command, *, event_id: int, user=None, participant_id: int | None = None) -> dict[str, Any]:
    """Run a parsed command through its handler; returns the reply frame or raises DomainError."""
    return command.spec.handler(command, Caller(event_id=event_id, user=user, participant_id=participant_id))


# ------------------------------------------------------------------ declarations


@client_frame("ping", roles=ANYONE, fields={"ref": OPTIONAL_REF}, inline=True)
def ping(command: Command, caller: Caller) -> dict[str, Any]:
    return outbound.pong_frame(ref=command.ref)


VOTE_FIELDS = {
    "ref": REF,
    "poll": POLL,
    "options": Field(_option_ids, required=False, missing=()),
    "value": Field(_number, required=False),
    "text": Field(_text, required=False),
    "confidence": Field(_confidence, required=False),
}


def vote_request(command: Command, caller: Caller) -> services.VoteRequest:
    """The ballot of a parsed `vote`; types only here, what it must hold depends on the poll's kind."""
    if caller.participant_id is None:
        raise DomainError("not_joined")
    ballot = Ballot(options=command.options, value=command.value, text=command.text, confidence=command.confidence)
    return services.VoteRequest(
        participant_id=caller.participant_id,
        event_id=caller.event_id,
        poll_id=command.poll,
        ref=command.ref,
        ballot=ballot,
    )


def vote_ack(command: Command, outcome: services.VoteOutcome) -> dict[str, Any]:
    return outbound.vote_ack(ref=command.ref, outcome=outcome)


@client_frame(
    "vote", roles=VOTERS, fields=VOTE_FIELDS, http_fallback=True, batched=Batching("ballots", vote_request, vote_ack)
)
def vote(command: Command, caller: Caller) -> dict[str, Any]:
    request = vote_request(command, caller)
    outcome = services.vote_cast(
        participant_id=request.participant_id,
        event_id=request.event_id,
        poll_id=request.poll_id,
        ref=request.ref,
        ballot=request.ballot,
    )
    return vote_ack(command, outcome)


@client_frame(
    "profile", roles=PARTICIPANTS, fields={"ref": OPTIONAL_REF, "answers": Field(_answers)}, http_fallback=True
)
def profile(command: Command, caller: Caller) -> dict[str, Any]:
    if caller.participant_id is None:
        raise DomainError("not_joined")
    answers = services.profile_set(
        participant_id=caller.participant_id, event_id=caller.event_id, answers=command.answers
    )
    return outbound.ack_frame(ref=command.ref, profile=answers)


@client_frame(
    "open_poll",
    roles=MODERATORS,
    fields={"ref": OPTIONAL_REF, "poll": POLL, "duration": Field(_duration, required=False)},
)
def open_poll(command: Command, caller: Caller) -> dict[str, Any]:
    poll = services.poll_open(
        event_id=caller.event_id, poll_id=command.poll, user=caller.user, duration=command.duration
    )
    return outbound.ack_frame(ref=command.ref, poll=command.poll, closes_at=outbound.epoch_ms(poll.closes_at))


def _declare_target_action(
    name: str, service: Callable[..., Any], *, target: str, argument: str, confirm: bool = False
) -> None:
    """A moderator command on one thing of the event (`target`, an id): the service is called
    with it as `argument`, and the ack echoes it."""
    fields = {"ref": OPTIONAL_REF, target: _required_id(target)}
    if confirm:
        fields["confirm"] = Field(_confirm)  # must be true

    @client_frame(name, roles=MODERATORS, fields=fields)
    def run(command: Command, caller: Caller) -> dict[str, Any]:
        thing = command.fields[target]
        service(event_id=caller.event_id, user=caller.user, **{argument: thing})
        return outbound.ack_frame(ref=command.ref, **{target: thing})


for _name, _service in (
    ("close_poll", services.poll_close),
    ("reveal_results", services.results_reveal),
    ("hide_results", services.results_hide),
    ("reveal_preferred", services.preferred_reveal),
    ("hide_preferred", services.preferred_hide),
):
    _declare_target_action(_name, _service, target="poll", argument="poll_id")
_declare_target_action("reset_poll", services.poll_reset, target="poll", argument="poll_id", confirm=True)
_declare_target_action("reveal_fact", services.fact_reveal, target="fact", argument="fact_id")
_declare_target_action("hide_fact", services.fact_hide, target="fact", argument="fact_id")
_declare_target_action(
    "reveal_teaching_point", services.teaching_point_reveal, target="teaching_point", argument="teaching_point_id"
)
_declare_target_action(
    "hide_teaching_point", services.teaching_point_hide, target="teaching_point", argument="teaching_point_id"
)


@client_frame("duplicate_poll", roles=MODERATORS, fields={"ref": OPTIONAL_REF, "poll": POLL})
def duplicate_poll(command: Command, caller: Caller) -> dict[str, Any]:
    copy = services.poll_duplicate(event_id=caller.event_id, poll_id=command.poll, user=caller.user)
    return outbound.ack_frame(ref=command.ref, poll=command.poll, copy=copy.id)


@client_frame("new_round", roles=MODERATORS, fields={"ref": OPTIONAL_REF, "poll": POLL})
def new_round(command: Command, caller: Caller) -> dict[str, Any]:
    copy = services.poll_new_round(event_id=caller.event_id, poll_id=command.poll, user=caller.user)
    return outbound.ack_frame(ref=command.ref, poll=command.poll, copy=copy.id, round=copy.round_number)


MAX_QUICK_QUESTION = 300
MAX_QUICK_OPTION = 200
QUICK_KINDS = ("single", "multi", "likert", "numeric", "text", "ranking")


def _quick_question(value: Any) -> str:
    if not isinstance(value, str) or not _encodable(value):
        raise DomainError("bad_request", "question must be a string.")
    if len(value) > MAX_QUICK_QUESTION:
        raise DomainError("invalid_poll", f"A question is limited to {MAX_QUICK_QUESTION} characters.")
    return value


def _quick_kind(value: Any) -> str:
    if value not in QUICK_KINDS:
        raise DomainError("bad_request", f"kind must be one of {', '.join(QUICK_KINDS)}.")
    return value


def _quick_options(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and _encodable(item) for item in value):
        raise DomainError("bad_request", "options must be a list of option labels (strings).")
    if any(len(item) > MAX_QUICK_OPTION for item in value):
        raise DomainError("invalid_poll", f"An option is limited to {MAX_QUICK_OPTION} characters.")
    return [item for item in value if item.strip()]


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise DomainError("bad_request", "acknowledge must be true or false.")
    return value


def _bound(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DomainError("bad_request", "min and max must be numbers.")
    return finite_number(value)


def _unit(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 30:
        raise DomainError("bad_request", "unit must be a string of at most 30 characters.")
    return value


@client_frame(
    "add_poll",
    roles=MODERATORS,
    fields={
        "ref": REF,
        "case": Field(_id("case"), required=False),
        "kind": Field(_quick_kind),
        "question": Field(_quick_question),
        "options": Field(_quick_options, required=False, missing=[]),
        "min": Field(_bound, required=False),
        "max": Field(_bound, required=False),
        "unit": Field(_unit, required=False, missing=""),
        # "I have checked the flagged text", as on the workspace's poll form (issue 16).
        "acknowledge": Field(_flag, required=False, missing=False),
    },
)
def add_poll(command: Command, caller: Caller) -> dict[str, Any]:
    poll = services.quick_poll_add(
        event_id=caller.event_id,
        user=caller.user,
        ref=command.ref,
        case_id=command.case,
        kind=command.kind,
        question=command.question,
        options=command.options,
        numeric=(command.min, command.max, command.unit),
        acknowledged=command.acknowledge,
    )
    return outbound.ack_frame(ref=command.ref, poll=poll.id, case=poll.case_id)


def _declare_answer_action(name: str, *, approve: bool) -> None:
    @client_frame(name, roles=MODERATORS, fields={"ref": OPTIONAL_REF, "answer": _required_id("answer")})
    def run(command: Command, caller: Caller) -> dict[str, Any]:
        services.answer_moderate(event_id=caller.event_id, answer_id=command.answer, approve=approve, user=caller.user)
        return outbound.ack_frame(ref=command.ref, answer=command.answer)


_declare_answer_action("approve_answer", approve=True)
_declare_answer_action("reject_answer", approve=False)


@client_frame("approve_waiting_answers", roles=MODERATORS, fields={"ref": OPTIONAL_REF, "poll": POLL})
def approve_waiting_answers(command: Command, caller: Caller) -> dict[str, Any]:
    approved = services.answers_approve_waiting(event_id=caller.event_id, poll_id=command.poll, user=caller.user)
    return outbound.ack_frame(ref=command.ref, poll=command.poll, approved=approved)


@client_frame(
    "show_segments",
    roles=MODERATORS,
    fields={"ref": OPTIONAL_REF, "attribute": Field(_attribute, required=False)},
)
def show_segments(command: Command, caller: Caller) -> dict[str, Any]:
    services.segments_show(event_id=caller.event_id, attribute=command.attribute, user=caller.user)
    return outbound.ack_frame(ref=command.ref, attribute=command.attribute)


@client_frame("show_case", roles=MODERATORS, fields={"ref": OPTIONAL_REF, "case": _required_id("case")})
def show_case(command: Command, caller: Caller) -> dict[str, Any]:
    services.case_show(event_id=caller.event_id, case_id=command.case, user=caller.user)
    return outbound.ack_frame(ref=command.ref, case=command.case)


def _choice(name: str) -> Callable[[Any], str]:
    # Which values are allowed is the service's rule (polls/services/stage.py); the type is the wire's.
    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value) > MAX_ATTRIBUTE_LENGTH:
            raise DomainError("bad_request", f"{name} must be a short string.")
        return value

    return check


def _direction(value: Any) -> int:
    if isinstance(value, bool) or value not in (1, -1):
        raise DomainError("bad_request", "direction must be 1 (next) or -1 (back).")
    return value


@client_frame("step", roles=STAGE_DRIVERS, fields={"ref": OPTIONAL_REF, "direction": Field(_direction)})
def step(command: Command, caller: Caller) -> dict[str, Any]:
    event = services.screen_step(event_id=caller.event_id, direction=command.direction, user=caller.user)
    return outbound.ack_frame(ref=command.ref, screen=event.screen)


@client_frame(
    "show_screen",
    roles=STAGE_DRIVERS,
    fields={
        "ref": OPTIONAL_REF,
        "screen": Field(_choice("screen")),
        "poll": Field(_id("poll"), required=False),
        "teaching_point": Field(_id("teaching_point"), required=False),
    },
)
def show_screen(command: Command, caller: Caller) -> dict[str, Any]:
    event = services.screen_show(
        event_id=caller.event_id,
        screen=command.screen,
        poll_id=command.poll,
        teaching_point_id=command.teaching_point,
        user=caller.user,
    )
    return outbound.ack_frame(ref=command.ref, screen=event.screen)


def _focus(value: Any) -> str:
    # What a focus key may be is the service's rule (services.stage_pages_set); the type is the wire's.
    if not isinstance(value, str) or len(value) > 200:
        raise DomainError("bad_request", "focus must be a short string.")
    return value


def _pages(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError("bad_request", "pages must be a whole number.")
    return value


@client_frame(
    "stage_pages",
    roles=frozenset({Role.PRESENTER}),
    fields={"ref": OPTIONAL_REF, "focus": Field(_focus), "pages": Field(_pages)},
)
def stage_pages(command: Command, caller: Caller) -> dict[str, Any]:
    services.stage_pages_set(event_id=caller.event_id, focus=command.focus, pages=command.pages)
    return outbound.ack_frame(ref=command.ref)


@client_frame("set_theme", roles=MODERATORS, fields={"ref": OPTIONAL_REF, "theme": Field(_choice("theme"))})
def set_theme(command: Command, caller: Caller) -> dict[str, Any]:
    event = services.theme_set(event_id=caller.event_id, theme=command.theme, user=caller.user)
    return outbound.ack_frame(ref=command.ref, theme=event.theme)


@client_frame("set_text_view", roles=MODERATORS, fields={"ref": OPTIONAL_REF, "view": Field(_choice("view"))})
def set_text_view(command: Command, caller: Caller) -> dict[str, Any]:
    event = services.text_view_set(event_id=caller.event_id, view=command.view, user=caller.user)
    return outbound.ack_frame(ref=command.ref, view=event.text_view)


def _declare_event_action(name: str, service: Callable[..., Any]) -> None:
    @client_frame(name, roles=MODERATORS, fields={"ref": OPTIONAL_REF})
    def run(command: Command, caller: Caller) -> dict[str, Any]:
        event = service(event_id=caller.event_id, user=caller.user)
        return outbound.ack_frame(ref=command.ref, status=event.status)


_declare_event_action("start_event", services.event_start)
_declare_event_action("end_event", services.event_end)


# ------------------------------------------------------------------ audience questions


def _question_text(value: Any) -> str:
    if not isinstance(value, str):
        raise DomainError("bad_request", "text must be a string.")
    return value


def _question_name(value: Any) -> str:
    if not isinstance(value, str):
        raise DomainError("bad_request", "name must be a string.")
    return value


@client_frame(
    "ask",
    roles=PARTICIPANTS,
    fields={"ref": REF, "text": Field(_question_text), "name": Field(_question_name, required=False)},
    http_fallback=True,
)
def ask(command: Command, caller: Caller) -> dict[str, Any]:
    if caller.participant_id is None:
        raise DomainError("not_joined")
    question = services.question_ask(
        participant_id=caller.participant_id,
        event_id=caller.event_id,
        ref=command.ref,
        text=command.text,
        name=command.name,
    )
    return outbound.ack_frame(ref=command.ref, question=question.id)


def _declare_upvote(name: str, *, up: bool) -> None:
    def request(command: Command, caller: Caller) -> services.UpvoteRequest:
        if caller.participant_id is None:
            raise DomainError("not_joined")
        return services.UpvoteRequest(caller.participant_id, caller.event_id, command.ref, command.question, up)

    def ack(command: Command, outcome: services.UpvoteOutcome) -> dict[str, Any]:
        return outbound.ack_frame(ref=command.ref, question=outcome.question_id, votes=outcome.votes)

    @client_frame(
        name,
        roles=PARTICIPANTS,
        fields={"ref": REF, "question": _required_id("question")},
        http_fallback=True,
        batched=Batching("upvotes", request, ack),
    )
    def run(command: Command, caller: Caller) -> dict[str, Any]:
        return ack(command, services.question_upvote(**dataclasses.asdict(request(command, caller))))


_declare_upvote("upvote", up=True)
_declare_upvote("unvote", up=False)

for _name, _service in (
    ("approve_question", services.question_approve),
    ("dismiss_question", services.question_dismiss),
    ("restore_question", services.question_restore),
    ("answer_question", services.question_answer),
    ("pin_question", services.question_pin),
    ("unpin_question", services.question_unpin),
):
    _declare_target_action(_name, _service, target="question", argument="question_id")


@client_frame(
    "merge_question",
    roles=MODERATORS,
    fields={"ref": OPTIONAL_REF, "question": _required_id("question"), "into": _required_id("into")},
)
def merge_question(command: Command, caller: Caller) -> dict[str, Any]:
    services.question_merge(
        event_id=caller.event_id, question_id=command.question, into_id=command.into, user=caller.user
    )
    return outbound.ack_frame(ref=command.ref, question=command.question, into=command.into)


__all__ = [
    "FRAME_TYPES",
    "Caller",
    "Command",
    "Field",
    "FrameType",
    "decode",
    "execute",
    "frame_ref",
    "parse",
]
