"""The live path end to end through caseboard.asgi.application."""

import pytest
from channels.db import database_sync_to_async

from polls import selectors, services
from polls.live.hub import Hub
from polls.models import Vote
from tests.factories import build_world_async, make_event, make_moderator, make_poll, option_ids, user_session
from tests.live import FRAME_TIMEOUT_S, open_socket, receive, receive_type, results_until, send, state_where, wait_until

pytestmark = [pytest.mark.django_db(transaction=True)]


async def world():
    return await build_world_async(teaching_point=True, moderator_session=True)


@database_sync_to_async
def call(fn, **kw):
    return fn(**kw)


async def open_phone(ws, w):
    """A new participant's socket (the join code typed in lower case) and its first state."""
    key = await database_sync_to_async(w.new_phone_key)()
    phone, ok, detail = await ws(f"/ws/e/{w.code.lower()}/", session_key=key)
    assert ok, detail
    return phone, await receive_type(phone, "state")


async def open_moderator(ws, w):
    return await open_socket(ws, w, "moderator")


async def test_participant_gets_state_on_connect(ws):
    w = await world()
    phone, state = await open_phone(ws, w)
    assert state["event"] == {
        "id": w.event.id,
        "code": w.event.code,
        "title": "Test roundtable",
        "status": "draft",
        "profile_questions": [],
        "segment": None,
        "min_cell_size": 5,
        "screen": "join",
        "teaching_point": None,
        "page": {"focus": "", "index": 0, "count": 1},
        "theme": "light",
        "text_view": "list",
    }
    assert state["poll"] is None and state["my_vote"] is None and state["teaching_points"] == []
    assert state["my_profile"] is None  # the phone's own profile answers: none saved yet
    assert "agenda" not in state


async def test_vote_is_acked_counted_once_per_ref_and_changeable(ws):
    w = await world()
    await call(services.poll_open, event_id=w.event.id, poll_id=w.poll.id, user=w.moderator)
    phone, state = await open_phone(ws, w)
    assert state["poll"]["state"] == "open"
    assert state["poll"]["options"] == [
        {"id": w.options[0], "label": "Refer for CAR T"},
        {"id": w.options[1], "label": "Bispecific on a clinical trial"},
    ]
    first, second = w.options
    vote = {"type": "vote", "ref": "v1", "poll": w.poll.id, "options": [first]}
    await send(phone, vote)
    ack = await receive_type(phone, "ack")
    version = ack["results"].pop("version")
    assert ack == {
        "type": "ack",
        "ref": "v1",
        "poll": w.poll.id,
        "options": [first],
        "results": {"type": "results", "poll": w.poll.id, "total": 1},
    }
    assert isinstance(version, int)
    await send(phone, vote)
    assert (await receive_type(phone, "ack"))["ref"] == "v1"
    assert await call(selectors.poll_tally, poll_id=w.poll.id) == (1, {first: 1, second: 0})
    await send(phone, {"type": "vote", "ref": "v2", "poll": w.poll.id, "options": [second]})
    await receive_type(phone, "ack", ref="v2")
    assert await call(selectors.poll_tally, poll_id=w.poll.id) == (1, {first: 0, second: 1})


async def test_a_vote_ack_carries_the_total_that_includes_it(ws):
    w = await world()
    poll = w.poll
    await call(services.poll_open, event_id=w.event.id, poll_id=poll.id, user=w.moderator)
    first, _ = await open_phone(ws, w)
    second, _ = await open_phone(ws, w)
    await send(first, {"type": "vote", "ref": "a", "poll": poll.id, "options": [w.options[0]]})
    one = (await receive_type(first, "ack"))["results"]
    await send(second, {"type": "vote", "ref": "b", "poll": poll.id, "options": [w.options[1]]})
    two = (await receive_type(second, "ack"))["results"]
    assert (one["total"], two["total"]) == (1, 2)
    assert two["version"] > one["version"]
    # Counts stay hidden before the reveal: the ack says how many answered, not what.
    assert set(two) == {"type", "poll", "total", "version"}
    # The broadcast that follows is newer than the ack (phones drop older versions) and agrees with it.
    while True:
        frame = await receive(first)
        results = frame if frame["type"] == "results" else frame.get("results")
        if results and results["poll"] == poll.id and results["version"] > two["version"]:
            break
    assert results["total"] == 2


async def test_results_are_withheld_until_revealed(ws):
    w = await world()
    event, poll = w.event, w.poll
    await call(services.poll_open, event_id=event.id, poll_id=poll.id, user=w.moderator)
    phone, _ = await open_phone(ws, w)
    console, _ = await open_moderator(ws, w)
    await send(phone, {"type": "vote", "ref": "a", "poll": poll.id, "options": [w.options[0]]})
    await receive_type(phone, "ack")
    public = await results_until(phone, poll.id, 1)
    assert "counts" not in public
    private = await results_until(console, poll.id, 1)
    assert private["counts"] == {str(w.options[0]): 1, str(w.options[1]): 0}
    await send(console, {"type": "reveal_results", "ref": "m1", "poll": poll.id})
    assert (await receive_type(console, "ack", ref="m1"))["poll"] == poll.id
    state = await receive_type(phone, "state")
    assert state["poll"]["results_visible"] is True
    assert state["results"]["counts"] == {str(w.options[0]): 1, str(w.options[1]): 0}
    assert state["my_vote"] == {"poll": poll.id, "options": [w.options[0]]}


async def test_votes_on_closed_unknown_and_foreign_polls_are_refused(ws):
    w = await world()
    event, poll = w.event, w.poll
    other = await database_sync_to_async(lambda: make_poll(make_event(cases=[w.case]), w.case, state="open"))()
    other_option = (await call(option_ids, poll=other))[0]
    phone, _ = await open_phone(ws, w)
    await send(phone, {"type": "vote", "ref": "a", "poll": poll.id, "options": [w.options[0]]})
    assert (await receive_type(phone, "error"))["code"] == "poll_not_open"
    await call(services.poll_open, event_id=event.id, poll_id=poll.id, user=w.moderator)
    await call(services.poll_close, event_id=event.id, poll_id=poll.id, user=w.moderator)
    await send(phone, {"type": "vote", "ref": "b", "poll": poll.id, "options": [w.options[0]]})
    err = await receive_type(phone, "error")
    assert err == {"type": "error", "ref": "b", "code": "poll_closed", "message": "This poll is closed."}
    await send(phone, {"type": "vote", "ref": "c", "poll": other.id, "options": [other_option]})
    assert (await receive_type(phone, "error"))["code"] == "unknown_poll"
    await send(phone, {"type": "vote", "ref": "d", "poll": 999999, "options": [1]})
    assert (await receive_type(phone, "error"))["code"] == "unknown_poll"
    assert await database_sync_to_async(Vote.objects.count)() == 0


async def test_non_moderators_cannot_open_the_moderator_socket(ws):
    w = await world()
    phone_key = await database_sync_to_async(w.new_phone_key)()
    _, ok, code = await ws(f"/ws/e/{w.event.code}/moderate/", session_key=phone_key)
    assert not ok and code == 4403
    stranger = await database_sync_to_async(make_moderator)("stranger")
    _, ok, code = await ws(
        f"/ws/e/{w.event.code}/moderate/", session_key=await database_sync_to_async(user_session)(stranger)
    )
    assert not ok and code == 4403
    _, ok, code = await ws(f"/ws/e/{w.event.code}/present/", session_key=phone_key)
    assert not ok and code == 4403


async def test_participant_cannot_send_moderator_commands(ws):
    w = await world()
    phone, _ = await open_phone(ws, w)
    await send(phone, {"type": "open_poll", "ref": "x", "poll": w.poll.id})
    assert await receive_type(phone, "error") == {
        "type": "error",
        "ref": "x",
        "code": "forbidden",
        "message": "open_poll is not allowed on this connection.",
    }
    assert (await call(selectors.poll_for_event, event_id=w.event.id, poll_id=w.poll.id)).state == "draft"


async def test_moderator_of_one_event_cannot_act_on_another(ws):
    w = await world()
    other = await database_sync_to_async(lambda: make_event(cases=[w.case]))()
    key = await database_sync_to_async(user_session)(w.moderator)
    _, ok, code = await ws(f"/ws/e/{other.code}/moderate/", session_key=key)
    assert not ok and code == 4403
    console, _ = await open_moderator(ws, w)
    foreign_poll = await database_sync_to_async(lambda: make_poll(other, w.case))()
    await send(console, {"type": "open_poll", "ref": "x", "poll": foreign_poll.id})
    assert (await receive_type(console, "error"))["code"] == "unknown_poll"


async def test_connection_without_a_participant_session_is_refused(ws):
    w = await world()
    _, ok, code = await ws(f"/ws/e/{w.event.code}/")
    assert not ok and code == 4403
    _, ok, code = await ws("/ws/e/NOPE22/")
    assert not ok and code == 4404


async def test_foreign_origin_is_refused(ws):
    w = await world()
    key = await database_sync_to_async(w.new_phone_key)()
    _, ok, _ = await ws(f"/ws/e/{w.event.code}/", session_key=key, origin="https://evil.example")
    assert not ok


async def test_moderator_runs_the_case_and_every_screen_follows(ws):
    w = await world()
    poll, point = w.poll, w.point
    console, state = await open_moderator(ws, w)
    assert state["agenda"][0]["polls"][0]["id"] == poll.id
    assert state["agenda"][0]["teaching_points"] == [{"id": point.id, "title": "KarMMa-3", "revealed": False}]
    phone, _ = await open_phone(ws, w)
    await send(console, {"type": "show_case", "ref": "1", "case": w.case.id})
    await receive_type(console, "ack", ref="1")
    # A hub that resynchronises may repeat the current state: wait for the one that shows the change.
    shown = await state_where(phone, lambda f: f["case"] is not None)
    assert shown["case"]["title"] == "Case Summary 2"
    assert shown["case"]["language"] == w.case.language == "en"  # the author's, for lang="…" (issue 18)
    assert [line["regimen"] for line in shown["case"]["therapy_lines"]] == ["VRd", "DKd"]
    await send(console, {"type": "open_poll", "ref": "2", "poll": poll.id})
    await receive_type(console, "ack", ref="2")
    opened = await state_where(phone, lambda f: f["poll"] is not None)
    assert opened["poll"]["state"] == "open" and opened["event"]["status"] == "live"
    await send(console, {"type": "reveal_teaching_point", "ref": "3", "teaching_point": point.id})
    await receive_type(console, "ack", ref="3")
    revealed = await state_where(phone, lambda f: f["teaching_points"])
    assert revealed["teaching_points"][0]["title"] == "KarMMa-3"
    await send(console, {"type": "end_event", "ref": "4"})
    assert (await receive_type(console, "ack", ref="4"))["status"] == "ended"
    ended = await state_where(phone, lambda f: f["event"]["status"] == "ended")
    assert ended["event"]["status"] == "ended" and ended["poll"]["state"] == "closed"


async def test_other_events_receive_nothing(ws):
    w = await world()
    other = await world()
    await call(services.poll_open, event_id=w.event.id, poll_id=w.poll.id, user=w.moderator)
    bystander, _ = await open_phone(ws, other)
    phone, _ = await open_phone(ws, w)
    await send(phone, {"type": "vote", "ref": "a", "poll": w.poll.id, "options": [w.options[0]]})
    await receive_type(phone, "ack")
    await results_until(phone, w.poll.id, 1)
    # Nothing of the other event reaches the bystander (a resync may repeat its own state, nothing more).
    while not await bystander.receive_nothing(timeout=0.5):
        frame = await receive(bystander)
        assert frame["type"] == "state" and frame["event"]["id"] == other.event.id, frame
        assert frame["poll"] is None and frame["results"] is None


async def test_ten_phones_seven_three(ws):
    w = await world()
    event, poll = w.event, w.poll
    console, _ = await open_moderator(ws, w)
    await send(console, {"type": "open_poll", "ref": "open", "poll": poll.id})
    await receive_type(console, "ack", ref="open")
    phones = [await open_phone(ws, w) for _ in range(10)]
    for i, (phone, _) in enumerate(phones):
        choice = w.options[0] if i < 7 else w.options[1]
        await send(phone, {"type": "vote", "ref": f"p{i}", "poll": poll.id, "options": [choice]})
    for phone, _ in phones:
        await receive_type(phone, "ack")
    final = await results_until(console, poll.id, 10)
    assert final["counts"] == {str(w.options[0]): 7, str(w.options[1]): 3}
    await send(console, {"type": "close_poll", "ref": "close", "poll": poll.id})
    await receive_type(console, "ack", ref="close")
    await send(console, {"type": "reveal_results", "ref": "rev", "poll": poll.id})
    await receive_type(console, "ack", ref="rev")
    version = await call(lambda: type(event).objects.get(pk=event.id).state_version)
    state = await receive_type(phones[0][0], "state", version=version)
    assert state["results"]["counts"] == {str(w.options[0]): 7, str(w.options[1]): 3}
    assert (await receive(phones[9][0]))["type"] in {"state", "results"}


async def test_a_handshake_that_waited_past_the_admission_deadline_is_refused_and_a_retry_gets_in(ws, settings):
    w = await world()
    key = await database_sync_to_async(w.new_phone_key)()
    settings.CASEBOARD = {**settings.CASEBOARD, "ADMIT_DEADLINE_S": -1.0}  # every wait is too long
    _, ok, code = await ws(f"/ws/e/{w.event.code}/", session_key=key)
    assert not ok and code == 4013
    settings.CASEBOARD = {**settings.CASEBOARD, "ADMIT_DEADLINE_S": 60.0}  # a deadline no handshake here reaches
    phone, ok, _ = await ws(f"/ws/e/{w.event.code}/", session_key=key)
    assert ok
    assert (await receive_type(phone, "state"))["event"]["id"] == w.event.id


async def test_a_closed_socket_leaves_its_process_hub(ws):
    w = await world()
    phone, _ = await open_phone(ws, w)
    other, _ = await open_phone(ws, w)
    hub = Hub.for_running_loop()
    assert len(hub.sockets[w.event.id]) == 2
    await phone.disconnect(timeout=FRAME_TIMEOUT_S)  # returns once the consumer has finished
    await wait_until(lambda: len(hub.sockets.get(w.event.id, ())) == 1, what="the closed socket leaving the hub")
    assert len(hub.sockets[w.event.id]) == 1  # the other phone still gets frames
    await other.disconnect(timeout=FRAME_TIMEOUT_S)
    await wait_until(lambda: w.event.id not in hub.sockets, what="the event leaving the hub")


async def test_after_a_reset_the_phone_is_told_its_vote_is_gone(ws):
    w = await world()
    await call(services.poll_open, event_id=w.event.id, poll_id=w.poll.id, user=w.moderator)
    phone, state = await open_phone(ws, w)
    assert state["poll"]["resets"] == 0
    await send(phone, {"type": "vote", "ref": "v1", "poll": w.poll.id, "options": [w.options[0]]})
    await receive_type(phone, "ack")
    await call(services.poll_close, event_id=w.event.id, poll_id=w.poll.id, user=w.moderator)
    assert (await receive_type(phone, "state"))["my_vote"] == {"poll": w.poll.id, "options": [w.options[0]]}
    await call(services.poll_reset, event_id=w.event.id, poll_id=w.poll.id, user=w.moderator)
    state = await receive_type(phone, "state")
    assert state["poll"]["resets"] == 1 and state["my_vote"] is None
    await call(services.poll_open, event_id=w.event.id, poll_id=w.poll.id, user=w.moderator)
    assert (await receive_type(phone, "state"))["my_vote"] is None
    # The same choice again is a new ballot, counted.
    await send(phone, {"type": "vote", "ref": "v2", "poll": w.poll.id, "options": [w.options[0]]})
    assert (await receive_type(phone, "ack"))["results"]["total"] == 1
