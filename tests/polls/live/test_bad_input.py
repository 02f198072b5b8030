"""Malformed and hostile frames: each gets its documented `error`, the socket stays open, the database is untouched.

Every case goes through caseboard.asgi.application, compares the whole reply frame, proves the
connection still answers a `ping`, and compares every row of the cases and polls apps before and after.
"""

from __future__ import annotations

import functools
import json
from types import SimpleNamespace

import pytest
from channels.db import database_sync_to_async

from polls import services
from polls.errors import ERROR_CODES
from polls.live import consumers as live_consumers
from polls.live.ratelimit import TokenBucket
from polls.protocol import MAX_REF_LENGTH, Role, types_for
from tests.factories import build_world, make_case, make_event, make_poll, make_teaching_point, option_ids
from tests.frames import BROADCASTS
from tests.live import FRAME_TIMEOUT_S, ManualClock, open_socket, reply
from tests.reliability.dbstate import changed_tables, snapshot

MODERATOR_FRAMES = types_for(Role.MODERATOR)

pytestmark = [pytest.mark.django_db(transaction=True)]

MAX_BYTES = 4096  # CASEBOARD_MAX_FRAME_BYTES default, documented in docs/protocol.md


@database_sync_to_async
def build_hostile_world() -> SimpleNamespace:
    """The world with an open poll (A, B, C), plus every target a hostile frame may aim at."""
    world = build_world(poll=False, teaching_point=True, phones=1, moderator_session=True)
    moderator, event, case = world.moderator, world.event, world.case
    closed = world.add_poll(question="Closed already", opened=True)
    services.poll_close(event_id=event.id, poll_id=closed.id, user=moderator)
    draft = world.add_poll(question="Not opened yet")
    world.poll = world.add_poll(labels=("A", "B", "C"), opened=True)  # the poll on screen
    world.options = option_ids(world.poll)
    stranger_case = make_case(title="Not on the agenda")
    foreign = make_poll(make_event(moderators=[moderator], cases=[case]), case, state="open")
    return SimpleNamespace(
        world=world,
        poll=world.poll.id,
        options=world.options,
        draft=draft.id,
        draft_option=option_ids(draft)[0],
        closed=closed.id,
        closed_option=option_ids(closed)[0],
        foreign=foreign.id,
        foreign_option=option_ids(foreign)[0],
        case=case.id,
        stranger_case=stranger_case.id,
        point=world.point.id,
        foreign_point=make_teaching_point(stranger_case).id,
    )


@pytest.fixture
def bucket_clock(monkeypatch) -> ManualClock:
    """The clock of every socket's rate-limit bucket, moved by the test: refills happen when it says."""
    clock = ManualClock()
    monkeypatch.setattr(live_consumers, "TokenBucket", functools.partial(TokenBucket, clock=clock))
    return clock


def vote(w, **fields) -> str:
    frame = {"type": "vote", "ref": "r1", "poll": w.poll, "options": [w.options[0]]}
    frame.update(fields)
    return json.dumps({k: v for k, v in frame.items() if v is not ...})


def err(ref, code, message=None) -> dict:
    return {"type": "error", "ref": ref, "code": code, "message": message or ERROR_CODES[code]}


BAD_REQUEST_OBJECT = "A message must be a JSON object."
BAD_POLL = "poll must be a positive integer id."
BAD_OPTIONS = "options must be a list of option ids."
BAD_REF = "ref must be a non-empty string."
LONG_REF = f"ref is limited to {MAX_REF_LENGTH} characters."
TOO_LARGE = f"Messages are limited to {MAX_BYTES} bytes."

# (name, frame builder, expected error) for a participant's socket.
PARTICIPANT_CASES = [
    ("invalid-json", lambda w: '{"type": "vote",', err(None, "invalid_json")),
    ("not-json", lambda w: "vote for A please", err(None, "invalid_json")),
    ("empty-text", lambda w: "", err(None, "invalid_json")),
    ("nesting-too-deep", lambda w: "[" * 2000 + "]" * 2000, err(None, "invalid_json")),
    ("list", lambda w: "[]", err(None, "bad_request", BAD_REQUEST_OBJECT)),
    ("list-of-frames", lambda w: f"[{vote(w)}]", err(None, "bad_request", BAD_REQUEST_OBJECT)),
    ("string", lambda w: '"vote"', err(None, "bad_request", BAD_REQUEST_OBJECT)),
    ("number", lambda w: "42", err(None, "bad_request", BAD_REQUEST_OBJECT)),
    ("null", lambda w: "null", err(None, "bad_request", BAD_REQUEST_OBJECT)),
    ("true", lambda w: "true", err(None, "bad_request", BAD_REQUEST_OBJECT)),
    ("missing-type", lambda w: '{"ref": "r1"}', err("r1", "bad_request", "type must be a string.")),
    ("numeric-type", lambda w: '{"type": 5, "ref": "r1"}', err("r1", "bad_request", "type must be a string.")),
    ("null-type", lambda w: '{"type": null}', err(None, "bad_request", "type must be a string.")),
    ("list-type", lambda w: '{"type": ["vote"]}', err(None, "bad_request", "type must be a string.")),
    ("unknown-type", lambda w: '{"type": "explode", "ref": "r1"}', err("r1", "unknown_type")),
    ("type-case", lambda w: vote(w, type="VOTE"), err("r1", "unknown_type")),
    ("missing-ref", lambda w: vote(w, ref=...), err(None, "bad_request", BAD_REF)),
    ("empty-ref", lambda w: vote(w, ref=""), err(None, "bad_request", BAD_REF)),
    ("numeric-ref", lambda w: vote(w, ref=7), err(None, "bad_request", BAD_REF)),
    ("bool-ref", lambda w: vote(w, ref=True), err(None, "bad_request", BAD_REF)),
    ("oversized-ref", lambda w: vote(w, ref="x" * (MAX_REF_LENGTH + 1)), err(None, "bad_request", LONG_REF)),
    ("missing-poll", lambda w: vote(w, poll=...), err("r1", "bad_request", BAD_POLL)),
    ("bool-poll", lambda w: vote(w, poll=True), err("r1", "bad_request", BAD_POLL)),
    ("float-poll", lambda w: vote(w, poll=float(w.poll)), err("r1", "bad_request", BAD_POLL)),
    ("string-poll", lambda w: vote(w, poll=str(w.poll)), err("r1", "bad_request", BAD_POLL)),
    ("negative-poll", lambda w: vote(w, poll=-w.poll), err("r1", "bad_request", BAD_POLL)),
    ("zero-poll", lambda w: vote(w, poll=0), err("r1", "bad_request", BAD_POLL)),
    ("huge-poll", lambda w: vote(w, poll=2**63), err("r1", "bad_request", BAD_POLL)),
    ("enormous-poll", lambda w: vote(w, poll=10**300), err("r1", "bad_request", BAD_POLL)),
    # NaN and Infinity are not JSON (Python reads them; the server refuses them like any invalid JSON).
    ("nan-poll", lambda w: vote(w, ref="r1", poll=float("nan")), err(None, "invalid_json")),
    ("options-object", lambda w: vote(w, options={"id": w.options[0]}), err("r1", "bad_request", BAD_OPTIONS)),
    ("options-scalar", lambda w: vote(w, options=w.options[0]), err("r1", "bad_request", BAD_OPTIONS)),
    ("bool-option", lambda w: vote(w, options=[True]), err("r1", "bad_request", BAD_OPTIONS)),
    ("float-option", lambda w: vote(w, options=[w.options[0] + 0.0]), err("r1", "bad_request", BAD_OPTIONS)),
    ("string-option", lambda w: vote(w, options=[str(w.options[0])]), err("r1", "bad_request", BAD_OPTIONS)),
    ("negative-option", lambda w: vote(w, options=[-w.options[0]]), err("r1", "bad_request", BAD_OPTIONS)),
    ("huge-option", lambda w: vote(w, options=[2**64]), err("r1", "bad_request", BAD_OPTIONS)),
    ("null-option", lambda w: vote(w, options=[None]), err("r1", "bad_request", BAD_OPTIONS)),
    ("empty-options", lambda w: vote(w, options=[]), err("r1", "no_option")),
    ("duplicate-option", lambda w: vote(w, options=[w.options[0]] * 2), err("r1", "duplicate_option")),
    ("too-many-options", lambda w: vote(w, options=list(range(1, 22))), err("r1", "too_many_options")),
    ("two-on-single-choice", lambda w: vote(w, options=w.options[:2]),
     err("r1", "too_many_options", "Choose exactly one option.")),
    ("unknown-poll", lambda w: vote(w, poll=987654321), err("r1", "unknown_poll")),
    ("foreign-poll", lambda w: vote(w, poll=w.foreign, options=[w.foreign_option]), err("r1", "unknown_poll")),
    ("unknown-option", lambda w: vote(w, options=[987654321]), err("r1", "invalid_option")),
    ("option-of-other-poll", lambda w: vote(w, options=[w.closed_option]), err("r1", "invalid_option")),
    ("option-of-foreign-poll", lambda w: vote(w, options=[w.foreign_option]), err("r1", "invalid_option")),
    ("draft-poll", lambda w: vote(w, poll=w.draft, options=[w.draft_option]), err("r1", "poll_not_open")),
    ("closed-poll", lambda w: vote(w, poll=w.closed, options=[w.closed_option]), err("r1", "poll_closed")),
    ("too-large", lambda w: vote(w, pad="x" * MAX_BYTES), err(None, "frame_too_large", TOO_LARGE)),
    # Fewer than 4096 characters but more than 4096 bytes: the limit counts UTF-8 bytes.
    ("too-large-in-bytes", lambda w: json.dumps({"type": "ping", "pad": "é" * 2040}, ensure_ascii=False),
     err(None, "frame_too_large", TOO_LARGE)),
    ("binary", lambda w: vote(w).encode(), err(None, "binary_not_supported")),
    ("binary-garbage", lambda w: b"\x00\xff" * 10, err(None, "binary_not_supported")),
] + [
    (f"{kind}-from-participant", lambda w, kind=kind: json.dumps({"type": kind, "ref": "m1", "poll": w.poll}),
     err("m1", "forbidden", f"{kind} is not allowed on this connection."))
    # The projector's clicker keys (step, show_screen) are the presenter's too: they change what is
    # on screen, never a poll, a vote or a reveal.
    for kind in sorted(MODERATOR_FRAMES) if kind not in {"ping", "step", "show_screen"}
]  # fmt: skip

PRESENTER_CASES = [
    ("vote-from-presenter", lambda w: vote(w), err("r1", "forbidden", "vote is not allowed on this connection.")),
] + [
    (f"{kind}-from-presenter", lambda w, kind=kind: json.dumps({"type": kind, "ref": "m1", "poll": w.poll}),
     err("m1", "forbidden", f"{kind} is not allowed on this connection."))
    # The projector's clicker keys (step, show_screen) are the presenter's too: they change what is
    # on screen, never a poll, a vote or a reveal.
    for kind in sorted(MODERATOR_FRAMES) if kind not in {"ping", "step", "show_screen"}
]  # fmt: skip


def command(kind, **fields):
    return lambda w: json.dumps({"type": kind, "ref": "m1", **{k: v(w) for k, v in fields.items()}})


MODERATOR_CASES = [
    ("vote-from-moderator", lambda w: vote(w), err("r1", "forbidden", "vote is not allowed on this connection.")),
    ("bool-poll", command("open_poll", poll=lambda w: True), err("m1", "bad_request", BAD_POLL)),
    ("string-poll", command("close_poll", poll=lambda w: str(w.poll)), err("m1", "bad_request", BAD_POLL)),
    ("unknown-poll", command("close_poll", poll=lambda w: 987654321), err("m1", "unknown_poll")),
    ("foreign-poll", command("close_poll", poll=lambda w: w.foreign), err("m1", "unknown_poll")),
    ("foreign-poll-reveal", command("reveal_results", poll=lambda w: w.foreign), err("m1", "unknown_poll")),
    ("unknown-case", command("show_case", case=lambda w: 987654321), err("m1", "unknown_case")),
    ("case-off-agenda", command("show_case", case=lambda w: w.stranger_case), err("m1", "unknown_case")),
    ("float-case", command("show_case", case=lambda w: float(w.case)),
     err("m1", "bad_request", "case must be a positive integer id.")),
    ("unknown-point", command("reveal_teaching_point", teaching_point=lambda w: 987654321),
     err("m1", "unknown_teaching_point")),
    ("foreign-point", command("reveal_teaching_point", teaching_point=lambda w: w.foreign_point),
     err("m1", "unknown_teaching_point")),
    ("close-a-draft", command("close_poll", poll=lambda w: w.draft),
     err("m1", "invalid_transition", "A draft poll cannot become closed.")),
    ("start-a-live-event", command("start_event"), err("m1", "invalid_transition", "A live event cannot become live.")),
    ("oversized-ref", lambda w: json.dumps({"type": "start_event", "ref": "y" * 65}),
     err(None, "bad_request", LONG_REF)),
]  # fmt: skip


async def send_raw(socket, data: str | bytes) -> None:
    key = "bytes" if isinstance(data, bytes) else "text"
    await socket.send_input({"type": "websocket.receive", key: data})


async def assert_alive(socket) -> None:
    await send_raw(socket, '{"type": "ping", "ref": "alive"}')
    assert await reply(socket) == {"type": "pong", "ref": "alive"}


async def check_cases(ws, subtests, role: str, cases: list) -> None:
    """One world, a fresh socket per case; each case is reported as its own subtest."""
    w = await build_hostile_world()
    for name, build, expected in cases:
        with subtests.test(msg=name):
            socket, _ = await open_socket(ws, w.world, role, index=0)
            before = await database_sync_to_async(snapshot)()
            await send_raw(socket, build(w))
            assert await reply(socket) == expected
            await assert_alive(socket)
            assert changed_tables(before, await database_sync_to_async(snapshot)()) == []
            await socket.disconnect(timeout=FRAME_TIMEOUT_S)


async def test_participant_bad_frames_get_their_error_and_change_nothing(ws, subtests):
    await check_cases(ws, subtests, "participant", PARTICIPANT_CASES)


async def test_presenter_cannot_vote_or_moderate(ws, subtests):
    await check_cases(ws, subtests, "presenter", PRESENTER_CASES)


async def test_moderator_bad_commands_get_their_error_and_change_nothing(ws, subtests):
    await check_cases(ws, subtests, "moderator", MODERATOR_CASES)


async def test_many_bad_frames_on_one_socket_leave_it_usable_for_a_real_vote(ws):
    w = await build_hostile_world()
    socket, _ = await open_socket(ws, w.world, index=0)
    for _, build, expected in PARTICIPANT_CASES[:15]:
        await send_raw(socket, build(w))
        assert await reply(socket) == expected
    await send_raw(socket, vote(w, ref="good"))
    assert await reply(socket) == {"type": "ack", "ref": "good", "poll": w.poll, "options": [w.options[0]]}


async def test_rate_limited_frames_are_refused_then_the_socket_recovers(ws, settings, bucket_clock):
    settings.CASEBOARD = {**settings.CASEBOARD, "RATE_LIMIT_FRAMES": 5, "RATE_LIMIT_WINDOW_S": 2}
    w = await build_hostile_world()
    socket, _ = await open_socket(ws, w.world, index=0)
    before = await database_sync_to_async(snapshot)()
    for n in range(5):
        await send_raw(socket, json.dumps({"type": "ping", "ref": f"p{n}"}))
    await send_raw(socket, vote(w, ref="over"))
    replies = [await reply(socket) for _ in range(6)]
    assert replies[:5] == [{"type": "pong", "ref": f"p{n}"} for n in range(5)]
    assert replies[5] == err(None, "rate_limited")
    assert changed_tables(before, await database_sync_to_async(snapshot)()) == []
    await send_raw(socket, '{"type": "ping", "ref": "still-over"}')
    assert await reply(socket) == err(None, "rate_limited")  # no time has passed: no token yet
    bucket_clock.advance(0.8)  # the bucket refills at 2.5 frames per second: two tokens
    await assert_alive(socket)


async def test_persistent_flood_is_closed_with_4008_and_records_nothing(ws, settings, bucket_clock):
    # A bucket of 5 and no time passing: 5 frames pass, 25 are refused, the 26th refusal closes.
    settings.CASEBOARD = {**settings.CASEBOARD, "RATE_LIMIT_FRAMES": 5, "RATE_LIMIT_WINDOW_S": 10}
    w = await build_hostile_world()
    socket, _ = await open_socket(ws, w.world, index=0)
    before = await database_sync_to_async(snapshot)()
    for n in range(5):
        await send_raw(socket, json.dumps({"type": "ping", "ref": f"p{n}"}))
    for n in range(40):
        await send_raw(socket, vote(w, ref=f"flood{n}"))
    replies = [await reply(socket) for _ in range(30)]
    assert replies == [{"type": "pong", "ref": f"p{n}"} for n in range(5)] + [err(None, "rate_limited")] * 25
    assert await socket.receive_output(timeout=FRAME_TIMEOUT_S) == {"type": "websocket.close", "code": 4008}
    await socket.receive_nothing(timeout=0.2)  # frames queued behind the close get no answer
    assert changed_tables(before, await database_sync_to_async(snapshot)()) == []


async def test_default_limits_close_a_flood_of_pings(ws, bucket_clock):
    """With the documented defaults (20 frames per 10 s, close at five buckets) a tight loop is cut off:
    20 pings answered, 100 refused, and the 101st refusal closes the socket."""
    w = await build_hostile_world()
    socket, _ = await open_socket(ws, w.world, index=0)
    for n in range(200):
        await send_raw(socket, json.dumps({"type": "ping", "ref": str(n)}))
    kinds = []
    while True:
        output = await socket.receive_output(timeout=FRAME_TIMEOUT_S)
        if output["type"] == "websocket.close":
            assert output["code"] == 4008
            break
        kinds.append(json.loads(output["text"]).get("code", "pong"))
    assert kinds == ["pong"] * 20 + ["rate_limited"] * 100


async def test_a_moderator_clearing_a_queue_is_not_throttled_like_a_phone_but_is_bounded(ws, bucket_clock):
    """The console's bucket (120 per 10 s by default) takes a burst of clicks a phone's (20) refuses;
    past it the console gets `rate_limited` like anyone else."""
    w = await build_hostile_world()
    socket, _ = await open_socket(ws, w.world, "moderator", index=0)
    for n in range(130):
        await send_raw(socket, json.dumps({"type": "ping", "ref": str(n)}))
    kinds = [json.loads((await socket.receive_output(timeout=FRAME_TIMEOUT_S))["text"]) for _ in range(130)]
    kinds = [frame.get("code", frame["type"]) for frame in kinds if frame["type"] in ("pong", "error")]
    assert kinds == ["pong"] * 120 + ["rate_limited"] * 10


async def test_reply_to_a_ref_with_a_lone_surrogate_is_still_valid_utf8(ws):
    """`"\\ud800"` is valid JSON text; echoing it raw would make daphne fail to encode the reply and drop the socket."""
    w = await build_hostile_world()
    socket, _ = await open_socket(ws, w.world, index=0)
    await send_raw(socket, '{"type": "ping", "ref": "\\ud800"}')
    while True:
        text = (await socket.receive_output(timeout=FRAME_TIMEOUT_S))["text"]
        text.encode("utf-8")
        if json.loads(text)["type"] not in BROADCASTS:
            break
    assert json.loads(text)["type"] in {"pong", "error"}
    await assert_alive(socket)


async def test_vote_whose_ref_is_not_valid_unicode_is_a_bad_request(ws):
    w = await build_hostile_world()
    socket, _ = await open_socket(ws, w.world, index=0)
    before = await database_sync_to_async(snapshot)()
    await send_raw(socket, vote(w, ref="\ud800"))
    frame = await reply(socket)
    assert (frame["type"], frame["ref"], frame["code"]) == ("error", None, "bad_request")
    await assert_alive(socket)
    assert changed_tables(before, await database_sync_to_async(snapshot)()) == []
