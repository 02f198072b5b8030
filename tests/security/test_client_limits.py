"""Finding 12 (issue 11): one client made 115–138 participant sessions a second, stuffed 400
ballots in 7 s through fresh sessions, voted 73 times a second over the HTTP fallback, opened
3,000 sockets in one session and held 1,500 half-sent HTTP requests open for 90 s.

Attacked through the ASGI application and through a real daphne (the launcher `make run` uses
for the timeouts)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import pytest
from channels.db import database_sync_to_async
from websockets.exceptions import InvalidStatus

from caseboard import timeouts
from polls import services
from tests.daphne import serve_demo
from tests.factories import make_case, make_event, make_moderator, make_participant, make_poll, participant_session
from tests.security.asgi import Browser
from tests.security.conftest import Client, receive_type, run_django

asgi = pytest.mark.django_db(transaction=True)
CAP = 5  # CASEBOARD_SOCKETS_PER_SESSION


@database_sync_to_async
def open_event():
    moderator = make_moderator()
    case = make_case()
    event = make_event(cases=[case], moderators=[moderator])
    poll = make_poll(event, case)
    services.poll_open(event_id=event.id, poll_id=poll.id, user=moderator)
    return event, poll, participant_session(make_participant(event)), participant_session(make_participant(event))


@asgi
async def test_one_session_holds_a_few_sockets_per_role_not_thousands(ws, asgi_sockets):
    event, _, phone, other_phone = await open_event()
    held = []
    for _ in range(CAP):
        communicator, ok, _ = await ws(f"/ws/e/{event.code}/", session_key=phone)
        assert ok
        held.append(communicator)
    for _ in range(3):
        _, ok, code = await ws(f"/ws/e/{event.code}/", session_key=phone)
        assert (ok, code) == (False, 4409)
    _, ok, _ = await ws(f"/ws/e/{event.code}/", session_key=other_phone)  # another phone is not affected
    assert ok
    await held.pop().disconnect()  # a closed tab frees its place
    _, ok, _ = await ws(f"/ws/e/{event.code}/", session_key=phone)
    assert ok


@asgi
async def test_a_socket_ended_without_a_disconnect_gives_its_place_back(ws, asgi_sockets):
    """daphne cancels a consumer that outlives application_close_timeout (or is shut down), and
    such a consumer never handles websocket.disconnect: its place in the per-session count and in
    the hub must be given back all the same, or a phone is locked out with 4409."""
    from polls.live.hub import Hub

    event, _, phone, _ = await open_event()
    for _ in range(CAP + 2):
        communicator, ok, code = await ws(f"/ws/e/{event.code}/", session_key=phone)
        assert ok, code
        communicator.future.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await communicator.future
    assert event.id not in Hub.for_running_loop().sockets
    _, ok, code = await ws(f"/ws/e/{event.code}/", session_key=phone)
    assert ok, code


@asgi
async def test_new_participant_sessions_per_address_have_a_budget(asgi_sockets, settings):
    settings.CASEBOARD = {**settings.CASEBOARD, "JOINS_PER_MINUTE": 6}
    event, _, _, _ = await open_event()
    phones = [Browser("198.51.100.40") for _ in range(8)]
    statuses = [(await phone.get(f"/e/{event.code}/"))[0] for phone in phones]
    assert statuses == [200] * 6 + [429] * 2
    assert (await phones[0].get(f"/e/{event.code}/"))[0] == 200  # a joined phone reloads
    assert (await Browser("198.51.100.41").get(f"/e/{event.code}/"))[0] == 200  # another address


@asgi
async def test_the_http_fallback_has_its_own_rate_limit_per_session(asgi_sockets):
    event, poll, _, _ = await open_event()
    option = await database_sync_to_async(lambda: poll.options.first().id)()
    voter = Browser("198.51.100.50")
    assert (await voter.get(f"/e/{event.code}/"))[0] == 200
    replies = []
    for n in range(30):
        frame = {"type": "vote", "ref": f"r{n}", "poll": poll.id, "options": [option]}
        status, body = await voter.post_json(f"/e/{event.code}/vote", frame)
        replies.append((status, body.get("code") or body["type"]))
    accepted = [r for r in replies if r == (200, "ack")]
    assert 0 < len(accepted) <= 20, replies
    assert replies[-1] == (429, "rate_limited")
    status, body = await voter.request("GET", f"/e/{event.code}/state.json")
    assert status == 429
    other = Browser("198.51.100.50")
    await other.get(f"/e/{event.code}/")
    assert (await other.request("GET", f"/e/{event.code}/state.json"))[0] == 200  # another session


# ------------------------------------------------------------------ through daphne

OPEN_DEMO_POLL = """
from polls import services
from polls.models import Event
event = Event.objects.get(code="CASE2")
poll = event.polls.filter(kind="single").first()
services.poll_open(event_id=event.id, poll_id=poll.id, user=event.moderators.first())
print(poll.id, poll.options.first().id)
"""


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    server = serve_demo(tmp_path_factory.mktemp("caseboard-limits"), CASEBOARD_JOINS_PER_MINUTE="20")
    try:
        yield server
    finally:
        server.stop()


def test_through_daphne_fresh_sessions_from_one_address_are_budgeted(limited):
    statuses = [Client(limited, source="127.0.0.41").get("/e/CASE2/")[0] for _ in range(30)]
    assert statuses.count(200) == 20 and statuses[-1] == 429
    assert Client(limited, source="127.0.0.42").get("/e/CASE2/")[0] == 200


def test_through_daphne_one_session_cannot_open_thousands_of_sockets(limited):
    phone = Client(limited, source="127.0.0.43").join()
    opened, refused = [], 0
    with contextlib.ExitStack() as stack:
        for _ in range(40):
            try:
                opened.append(stack.enter_context(phone.ws("/ws/e/CASE2/")))
            except InvalidStatus as refusal:
                assert refusal.response.status_code == 403
                refused += 1
        assert (len(opened), refused) == (CAP, 40 - CAP)
        receive_type(opened[0], "state")


def test_through_daphne_the_fallback_refuses_a_vote_flood(limited):
    poll, option = map(int, run_django(limited, OPEN_DEMO_POLL).split()[-2:])
    voter = Client(limited, source="127.0.0.44").join()
    statuses = []
    started = time.monotonic()
    for n in range(60):
        body = f'{{"type": "vote", "ref": "f{n}", "poll": {poll}, "options": [{option}]}}'.encode()
        statuses.append(voter.post("/e/CASE2/vote", body)[0])
    elapsed = time.monotonic() - started
    # The websocket's budget: 20 per 10 s (plus what refilled while the flood ran).
    assert statuses.count(200) <= 20 + 2 * elapsed + 1, statuses
    assert statuses[-1] == 429


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = serve_demo(
        tmp_path_factory.mktemp("caseboard-serve"), launcher=("-m", "caseboard.serve", "--http-idle-timeout", "3")
    )
    try:
        yield server
    finally:
        server.stop()


def test_half_sent_requests_are_closed_after_the_idle_timeout(served):
    phone = Client(served).join()
    with phone.ws("/ws/e/CASE2/") as live:
        receive_type(live, "state")
        stalled = []
        for _ in range(300):
            connection = socket.create_connection(("127.0.0.1", served.port), timeout=30)
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # never finished
            stalled.append(connection)
        started = time.monotonic()
        closed = 0
        for connection in stalled:
            try:
                closed += connection.recv(1024) == b""  # the server hung up
            except OSError:
                closed += 1
            finally:
                connection.close()
        held = time.monotonic() - started
        assert closed == 300 and held < 15, (closed, held)  # plain daphne: 60 s
        # A websocket quiet for longer than the idle timeout is not an idle HTTP connection.
        live.send('{"type": "ping", "ref": "still"}')
        assert receive_type(live, "pong")["ref"] == "still"
    assert Client(served).get("/healthz")[0] == 200


def test_serve_sets_request_timeouts_unless_given():
    assert timeouts.request_timeouts(["app"]) == (20.0, ["--http-timeout", "30", "app"])
    assert timeouts.request_timeouts(["--http-timeout", "5", "--http-idle-timeout", "7", "app"]) == (
        7.0,
        ["--http-timeout", "5", "app"],
    )
