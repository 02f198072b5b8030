"""Two ballots used to stop an event: huge numbers overflowed the mean, and a poison ballot failed
its whole batch. Attacked through daphne, the default server."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed

from tests.security.conftest import Client, receive_type, run_django

UNBOUNDED_NUMERIC_POLL = """
from polls import services
from polls.models import Event, Poll
event = Event.objects.get(code="CASE2")
poll = Poll.objects.create(event=event, case=event.cases.first(), kind="numeric", question="How many months?")
user = event.moderators.first()
services.poll_open(event_id=event.id, poll_id=poll.id, user=user)
print(poll.id)
"""

# What no check lets through any more, written straight into the database as an attacker with an
# older version (or a database console) could have left it.
STORED_POISON = """
from polls.models import Participant, Poll, Vote
poll = Poll.objects.get(pk={poll})
for value in (1.7e308, 1.7e308, -1.7e308, float("inf"), float("nan"), 12.0):
    Vote.objects.create(poll=poll, participant=Participant.objects.create(event=poll.event), value_number=value)
"""


@pytest.fixture(scope="module")
def poll_id(daphne) -> int:
    return int(run_django(daphne, UNBOUNDED_NUMERIC_POLL).strip().splitlines()[-1])


def vote_text(poll: int, ref: str, value_json: str) -> str:
    return f'{{"type": "vote", "ref": "{ref}", "poll": {poll}, "value": {value_json}}}'


def test_huge_and_non_finite_numbers_are_refused_one_by_one_and_the_socket_goes_on(daphne, poll_id):
    phone = Client(daphne).join()
    with phone.ws("/ws/e/CASE2/") as socket:
        receive_type(socket, "state")
        for ref, value in [("big", "1.7e308"), ("digits", "1" + "0" * 400), ("inf", "Infinity"), ("nan", "NaN")]:
            socket.send(vote_text(poll_id, ref, value))
        replies = [receive_type(socket, "error") for _ in range(4)]
        assert [r["code"] for r in replies] == ["out_of_range", "out_of_range", "invalid_json", "invalid_json"]
        socket.send(vote_text(poll_id, "fine", "12"))
        ack = receive_type(socket, "ack")
        assert ack["ref"] == "fine" and ack["value"] == 12.0


def test_a_poison_ballot_over_the_http_fallback_gets_a_json_error_not_a_debug_page(daphne, poll_id):
    phone = Client(daphne).join()
    status, body = phone.post("/e/CASE2/vote", vote_text(poll_id, "poison", "1" + "0" * 400).encode())
    assert status == 400
    assert json.loads(body)["code"] == "out_of_range"


def test_values_stored_by_other_means_cannot_stop_the_event(daphne, poll_id):
    run_django(daphne, STORED_POISON.format(poll=poll_id))
    phone = Client(daphne).join()
    status, body = phone.get("/e/CASE2/state.json")
    assert status == 200, body[:300]

    moderator = Client(daphne).login()
    status, body = moderator.get(f"/e/CASE2/polls/{poll_id}/results.json")
    assert status == 200, body[:300]
    numeric = json.loads(body)["numeric"]
    assert numeric["n"] >= 1 and numeric["max"] <= 1e15 and numeric["mean"] is not None

    with moderator.ws("/ws/e/CASE2/moderate/") as console:
        receive_type(console, "state")
        console.send(json.dumps({"type": "close_poll", "ref": "close", "poll": poll_id}))
        assert receive_type(console, "ack")["ref"] == "close"
        console.send(json.dumps({"type": "reset_poll", "ref": "reset", "poll": poll_id, "confirm": True}))
        assert receive_type(console, "ack")["ref"] == "reset"
    status, _ = moderator.get("/e/CASE2/export.csv")
    assert status == 200


def test_a_flood_is_closed_by_daphne_with_an_application_close_code(daphne):
    phone = Client(daphne).join()
    with phone.ws("/ws/e/CASE2/") as socket:
        receive_type(socket, "state")
        with pytest.raises(ConnectionClosed) as closed:
            for n in range(2000):
                socket.send(json.dumps({"type": "ping", "ref": str(n)}))
            while True:
                socket.recv(timeout=20)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008


@pytest.mark.parametrize(
    "origin",
    ["http://localhost:1234", "https://127.0.0.1:{port}", "http://127.0.0.1:1", "null", "http://evil.example"],
)
def test_a_websocket_from_another_origin_is_refused_even_with_the_moderators_cookies(daphne, origin):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    moderator = Client(daphne).login()
    headers = {**moderator.ws_headers(), "Origin": origin.format(port=daphne.port)}
    with pytest.raises(InvalidStatus) as refused:
        connect(daphne.url.replace("http://", "ws://") + "/ws/e/CASE2/moderate/", additional_headers=headers)
    assert refused.value.response.status_code == 403
    with moderator.ws("/ws/e/CASE2/moderate/") as console:  # the site's own origin still works
        assert receive_type(console, "state")["type"] == "state"


def test_a_participant_sees_the_apps_own_404_page_never_a_debug_page(daphne):
    status, body = Client(daphne).get("/e/NOSUCH9/state.json")
    assert status == 404
    status, body = Client(daphne).get("/no/such/page/")
    text = body.decode()
    assert status == 404 and "Caseboard" in text
    assert "Traceback" not in text and "DEBUG = True" not in text and "URLconf" not in text
