"""A quick poll from the console (issue 16): `add_poll` through the real application. It joins the
agenda after its case's polls, is audited, runs like any other poll, is made once per ref, and
bad input gets its error code with nothing saved."""

import pytest
from channels.db import database_sync_to_async

from cases.identifiers import warm
from cases.models import IdentifierAcknowledgement
from polls.models import ModeratorAction, Poll
from tests.factories import build_world_async, make_case, make_event, make_moderator
from tests.live import ack_and_state, open_socket, receive_type, send

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True, scope="module")
def identifier_guard_loaded():
    """The guard's first use loads its models (seconds); a server does it at start (cases.identifiers)."""
    warm()


@database_sync_to_async
def db(fn):
    return fn()


async def console(ws):
    w = await build_world_async(moderator_session=True, labels=("A", "B"))
    socket, state = await open_socket(ws, w, "moderator")
    return w, socket, state


async def test_a_quick_poll_joins_the_agenda_is_audited_and_runs_like_any_other(ws):
    w, socket, _ = await console(ws)
    later = await db(lambda: make_case(title="Second case"))
    await db(lambda: w.event.agenda.create(case=later, position=9))
    frame = {"type": "add_poll", "ref": "q1", "kind": "single", "question": "Transplant now?",
             "options": ["Yes", " ", "No"]}  # fmt: skip
    await send(socket, frame)
    ack, shown = await ack_and_state(socket, "q1")
    assert ack["type"] == "ack", ack
    assert ack["case"] == w.case.id
    poll = await db(lambda: Poll.objects.get(pk=ack["poll"]))
    assert (poll.event_id, poll.state, poll.kind) == (w.event.id, "draft", "single")
    assert await db(lambda: [o.label for o in poll.options.all()]) == ["Yes", "No"]  # the blank one dropped
    # On the agenda, after the case's existing poll; audited.
    assert [p["question"] for p in shown["agenda"][0]["polls"]] == ["What next?", "Transplant now?"]
    assert await db(lambda: ModeratorAction.objects.filter(action="add_poll", target=f"poll:{poll.id}").exists())
    # A resend of the same ref makes nothing more.
    await send(socket, frame)
    again = await receive_type(socket, "ack", ref="q1")
    assert again["poll"] == poll.id and await db(lambda: Poll.objects.filter(event=w.event).count()) == 2
    # It is opened like any other poll.
    await send(socket, {"type": "open_poll", "ref": "o1", "poll": poll.id})
    _, opened = await ack_and_state(socket, "o1")
    assert opened["poll"]["state"] == "open"
    # Ready-made kinds: a rating scale to a later case, a free-text question, a number with bounds.
    await send(socket, {"type": "add_poll", "ref": "q2", "kind": "likert", "case": later.id,
                        "question": "How confident?", "options": ["1", "2", "3", "4", "5"]})  # fmt: skip
    assert (await receive_type(socket, "ack", ref="q2"))["case"] == later.id
    await send(socket, {"type": "add_poll", "ref": "q3", "kind": "text", "question": "One word?"})
    await receive_type(socket, "ack", ref="q3")
    await send(socket, {"type": "add_poll", "ref": "q4", "kind": "numeric", "question": "Months?", "min": 0,
                        "max": 60, "unit": "months"})  # fmt: skip
    await receive_type(socket, "ack", ref="q4")
    kinds = await db(lambda: list(Poll.objects.filter(event=w.event).values_list("kind", "case_id")))
    assert sorted(kinds) == sorted(
        [("single", w.case.id), ("single", w.case.id), ("likert", later.id), ("text", w.case.id),
         ("numeric", w.case.id)]
    )  # fmt: skip


@pytest.mark.parametrize(
    "frame, code, words",
    [
        ({"kind": "single", "question": "Which?", "options": ["Only one"]}, "invalid_poll", "at least two options"),
        ({"kind": "single", "question": "", "options": ["A", "B"]}, "invalid_poll", "required"),
        ({"kind": "numeric", "question": "How many?"}, "invalid_poll", "smallest and its largest"),
        ({"kind": "numeric", "question": "How many?", "min": 5, "max": 5}, "invalid_poll", "larger than the smallest"),
        ({"kind": "single", "question": "John Smith, MRN 4471923?", "options": ["A", "B"]}, "invalid_poll",
         "patient identifier"),
        ({"kind": "vote", "question": "Which?"}, "bad_request", "kind must be"),
        ({"kind": "single", "question": "Which?", "options": "A, B"}, "bad_request", "options must be"),
        ({"kind": "single", "question": "Which?", "options": ["A", "B"], "case": 999999}, "unknown_case", ""),
    ],
)  # fmt: skip
async def test_bad_quick_polls_get_their_error_and_save_nothing(ws, frame, code, words):
    w, socket, _ = await console(ws)
    await send(socket, {"type": "add_poll", "ref": "bad", **frame})
    error = await receive_type(socket, "error", ref="bad")
    assert error["code"] == code and words in error["message"], error
    assert await db(lambda: Poll.objects.filter(event=w.event).count()) == 1


async def test_a_case_of_another_event_cannot_receive_a_quick_poll(ws):
    w, socket, _ = await console(ws)
    elsewhere = await db(lambda: make_event(moderators=[make_moderator()], cases=[make_case(title="Theirs")]))
    theirs = await db(lambda: elsewhere.cases.get())
    await send(socket, {"type": "add_poll", "ref": "x", "kind": "text", "question": "Q?", "case": theirs.id})
    assert (await receive_type(socket, "error", ref="x"))["code"] == "unknown_case"
    assert not await db(lambda: Poll.objects.filter(case=theirs).exists())


async def test_participants_and_the_projector_cannot_add_polls(ws):
    w = await build_world_async(moderator_session=True, phones=1)
    for role in ("participant", "presenter"):
        socket, _ = await open_socket(ws, w, role, **({"index": 0} if role == "participant" else {}))
        await send(socket, {"type": "add_poll", "ref": "p", "kind": "text", "question": "Mine?"})
        assert (await receive_type(socket, "error", ref="p"))["code"] in {"forbidden", "unknown_type"}
    assert await db(lambda: Poll.objects.filter(event=w.event).count()) == 1


async def test_a_flagged_quick_poll_is_added_once_the_moderator_acknowledges_it(ws):
    """The guard's message says to tick "I have checked the flagged text": the console's form has
    that box (`acknowledge`), and ticking it records who acknowledged what kind where, never the text."""
    w, socket, _ = await console(ws)
    flagged = {"type": "add_poll", "kind": "single", "question": "Call 617-555-0142 before dosing?",
               "options": ["Yes", "No"]}  # fmt: skip
    await send(socket, {**flagged, "ref": "plain"})
    refused = await receive_type(socket, "error", ref="plain")
    assert refused["code"] == "invalid_poll" and "I have checked the flagged text" in refused["message"]
    await send(socket, {**flagged, "ref": "ticked", "acknowledge": True})
    ack, _ = await ack_and_state(socket, "ticked")
    assert ack["type"] == "ack", ack
    poll_id = ack["poll"]
    rows = await db(lambda: list(IdentifierAcknowledgement.objects.filter(case=w.case).values()))
    assert rows and all(row["where"].startswith(f"Poll {poll_id}:") for row in rows)
    assert {row["user_id"] for row in rows} == {w.moderator.id}
    assert all("617" not in str(value) for row in rows for value in row.values())  # never the text
    assert await db(
        lambda: ModeratorAction.objects.filter(action="acknowledge_identifiers", target=f"poll:{poll_id}").exists()
    )
    # Acknowledged, the poll does not stop the event going live.
    await send(socket, {"type": "start_event", "ref": "go"})
    assert (await receive_type(socket, "ack", ref="go"))["type"] == "ack"


async def test_acknowledge_must_be_a_boolean(ws):
    w, socket, _ = await console(ws)
    await send(socket, {"type": "add_poll", "ref": "b", "kind": "text", "question": "Q?", "acknowledge": "yes"})
    assert (await receive_type(socket, "error", ref="b"))["code"] == "bad_request"
    assert not await db(lambda: IdentifierAcknowledgement.objects.exists())
