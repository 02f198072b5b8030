"""Property: whatever frames arrive, each gets exactly one reply and only a valid command changes the database.

Hypothesis throws raw text, binary frames, arbitrary JSON, dictionaries with random keys and values,
and near-valid frames (a valid vote or moderator command with one field mutated) at a participant
and at a moderator socket. After each frame a `ping` with a fresh ref follows, so the replies must
be exactly [the frame's reply, that pong]: a second reply, a silent drop or a closed socket all fail.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from polls.errors import ERROR_CODES
from polls.protocol import MAX_REF_LENGTH, Role, types_for
from tests.factories import build_world, make_event, make_poll, option_ids
from tests.live import FRAME_TIMEOUT_S, open_socket
from tests.reliability.dbstate import changed_tables, snapshot

MODERATOR_FRAMES = types_for(Role.MODERATOR)
PARTICIPANT_FRAMES = types_for(Role.PARTICIPANT)

pytestmark = [pytest.mark.django_db(transaction=True)]

VOTE_TABLES = {"polls.Vote", "polls.VoteChoice", "polls.VoteReceipt"}
REPLIES = {"ack", "error", "pong"}
FIELDS = ["type", "ref", "poll", "options", "case", "teaching_point", "value", "text", "confidence", "duration"]
TYPES = sorted({*PARTICIPANT_FRAMES, *MODERATOR_FRAMES, "state", "results", "ack", "VOTE", ""})
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-3, max_value=2**64)
    | st.floats()
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
refs = st.sampled_from(["a", "b", "c"]) | st.text(max_size=MAX_REF_LENGTH + 2) | json_values


@database_sync_to_async
def build_fuzz_world() -> SimpleNamespace:
    """The world with an open poll (A, B, C), a draft poll, and another event's open poll."""
    world = build_world(labels=("A", "B", "C"), opened=True, teaching_point=True, phones=1, moderator_session=True)
    draft = world.add_poll(question="Later")
    foreign = make_poll(make_event(cases=[world.case]), world.case, state="open")
    return SimpleNamespace(
        world=world,
        poll=world.poll.id,
        options=world.options,
        ids=[
            world.poll.id,
            draft.id,
            foreign.id,
            world.case.id,
            world.point.id,
            *world.options,
            *option_ids(foreign),
            0,
            -1,
        ],
    )


def frames(w: SimpleNamespace, role: str) -> st.SearchStrategy:
    ids = st.sampled_from(w.ids) | json_values
    valid_vote = st.fixed_dictionaries(
        {
            "type": st.just("vote"),
            "ref": st.sampled_from(["a", "b", "c", "d"]),
            "poll": st.just(w.poll),
            "options": st.lists(st.sampled_from(w.options), min_size=1, max_size=1),
        }
    )
    command = st.fixed_dictionaries(
        {"type": st.sampled_from(sorted(MODERATOR_FRAMES)), "ref": refs},
        optional={"poll": ids, "case": ids, "teaching_point": ids},
    )
    base = valid_vote if role == "participant" else command

    def mutate(frame: dict, field: str, value, drop: bool) -> dict:
        frame = dict(frame)
        if drop:
            frame.pop(field, None)
        else:
            frame[field] = value
        return frame

    near_valid = st.builds(mutate, base, st.sampled_from(FIELDS), ids | refs, st.booleans())
    random_dicts = st.builds(
        lambda d, kind: {**d, "type": kind} if kind is not None else d,
        st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), json_values, max_size=6),
        st.none() | st.sampled_from(TYPES) | json_values,
    )

    def as_json(values: st.SearchStrategy) -> st.SearchStrategy:
        return st.builds(lambda v, ascii_: json.dumps(v, ensure_ascii=ascii_), values, st.booleans())

    return st.one_of(
        as_json(base),
        as_json(near_valid),
        as_json(random_dicts),
        as_json(json_values),
        st.text(max_size=300),
        st.binary(max_size=300),
        st.integers(min_value=4000, max_value=6000).map(lambda n: '{"type":"ping","pad":"' + "x" * n + '"}'),
    )


def usable_ref(data) -> str | None:
    """The ref a reply must echo: the frame's ref when it is a 1-64 character string, else null.

    A frame with NaN or Infinity is not JSON (Python's json reads them; the server refuses them as
    invalid_json, with no ref to echo), so the oracle refuses them too."""

    def not_json(name: str):
        raise ValueError(name)

    try:
        frame = json.loads(data, parse_constant=not_json) if isinstance(data, str) else None
    except (ValueError, RecursionError):
        return None
    ref = frame.get("ref") if isinstance(frame, dict) else None
    return ref if isinstance(ref, str) and 0 < len(ref) <= MAX_REF_LENGTH else None


async def next_reply(socket) -> dict:
    while True:
        output = await socket.receive_output(timeout=FRAME_TIMEOUT_S)
        assert output["type"] == "websocket.send", f"socket closed: {output}"
        text = output["text"]
        text.encode("utf-8")  # daphne sends UTF-8: a reply that cannot be encoded would crash the socket
        frame = json.loads(text)
        if frame["type"] not in ("state", "results"):
            return frame


@pytest.fixture
def world() -> dict:
    """Built by the first example and shared by the rest (hypothesis reuses function-scoped fixtures)."""
    return {}


async def fuzz_socket(ws, world: dict, data, role: str) -> None:
    if "w" not in world:
        world["w"] = await build_fuzz_world()
    w = world["w"]
    socket, _ = await open_socket(ws, w.world, role, index=0)
    sent = data.draw(st.lists(frames(w, role), min_size=1, max_size=6), label="frames")
    before = await database_sync_to_async(snapshot)()
    acks = []
    for n, raw in enumerate(sent):
        await socket.send_input({"type": "websocket.receive", "bytes" if isinstance(raw, bytes) else "text": raw})
        await socket.send_input({"type": "websocket.receive", "text": json.dumps({"type": "ping", "ref": f"~{n}"})})
        reply = await next_reply(socket)
        assert reply["type"] in REPLIES
        event(f"{role} reply: {reply['type']} {reply.get('code', '')}".strip())
        assert reply["ref"] == usable_ref(raw)
        if reply["type"] == "error":
            assert reply["code"] in ERROR_CODES and reply["code"] != "server_error"
            assert isinstance(reply["message"], str) and reply["message"]
        if reply["type"] == "ack":
            acks.append((json.loads(raw)["type"], reply))
        assert await next_reply(socket) == {"type": "pong", "ref": f"~{n}"}
    after = await database_sync_to_async(snapshot)()
    await socket.disconnect(timeout=FRAME_TIMEOUT_S)
    changed = changed_tables(before, after)
    if not acks:
        assert changed == []
    elif role == "participant":
        assert {kind for kind, _ in acks} == {"vote"}
        assert set(changed) <= VOTE_TABLES
        new_refs = {r["ref"] for r in after["polls.VoteReceipt"]} - {r["ref"] for r in before["polls.VoteReceipt"]}
        assert new_refs <= {reply["ref"] for _, reply in acks}
        assert len([v for v in after["polls.Vote"] if v["poll_id"] == w.poll]) <= 1  # one ballot per participant


@given(data=st.data())
@FUZZ
async def test_participant_socket_survives_arbitrary_frames(ws, world, data, settings):
    # One socket per example on a fixture that lives across examples: no caps on frames or sockets.
    settings.CASEBOARD = {**settings.CASEBOARD, "RATE_LIMIT_FRAMES": 10_000, "SOCKETS_PER_SESSION": 10_000}
    await fuzz_socket(ws, world, data, "participant")


@given(data=st.data())
@FUZZ
async def test_moderator_socket_survives_arbitrary_frames(ws, world, data, settings):
    # One socket per example on a fixture that lives across examples: no caps on frames or sockets.
    settings.CASEBOARD = {**settings.CASEBOARD, "RATE_LIMIT_FRAMES": 10_000, "SOCKETS_PER_SESSION": 10_000}
    await fuzz_socket(ws, world, data, "moderator")
