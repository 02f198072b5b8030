"""Audience questions end to end through caseboard.asgi.application: ask, upvote, moderate,
who sees what, bad input and attacks from the wrong role or event."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from polls import services
from polls.errors import ERROR_CODES
from polls.models import AudienceQuestion, ModeratorAction, QuestionReceipt, QuestionUpvote
from polls.protocol import outbound
from tests.factories import build_world_async, make_event, make_participant
from tests.live import open_socket, receive, receive_type, reply, send

pytestmark = [pytest.mark.django_db(transaction=True)]


def err(ref, code):
    return {"type": "error", "ref": ref, "code": code, "message": ERROR_CODES[code]}


async def refused_as(socket, frame, code) -> None:
    answer = await command(socket, frame)
    assert (answer["type"], answer["ref"], answer["code"]) == ("error", frame.get("ref"), code), answer


async def questions_where(socket, predicate, timeout: float = 10) -> dict:
    """The next `questions` frame (alone or inside a `state`) for which predicate holds."""
    while True:
        frame = await receive(socket, timeout=timeout)
        if frame["type"] == "state" and "questions" in frame:
            frame = frame["questions"]
        if frame["type"] == "questions" and predicate(frame):
            return frame


def ids(frame) -> list[int]:
    return [item["id"] for item in frame["items"]]


async def command(socket, frame) -> dict:
    await send(socket, frame)
    return await reply(socket)


@database_sync_to_async
def rows():
    return (
        sorted(AudienceQuestion.objects.values_list("id", "state", "pinned", "answered", "merged_into")),
        sorted(QuestionUpvote.objects.values_list("question_id", "participant_id")),
        QuestionReceipt.objects.count(),
    )


async def world(phones=3, **settings):
    w = await build_world_async(poll=False, phones=phones, moderator_session=True)
    if settings:
        for name, value in settings.items():
            setattr(w.event, name, value)
        await database_sync_to_async(w.event.save)()
    return w


async def test_ask_approve_upvote_reach_each_audience_by_its_rule(ws):
    w = await world()
    asker, state = await open_socket(ws, w, index=0)
    assert state["questions"]["items"] == [] and state["questions"]["moderated"] is True
    other, _ = await open_socket(ws, w, index=1)
    console, mstate = await open_socket(ws, w, "moderator")
    projector, _ = await open_socket(ws, w, "presenter")
    assert mstate["questions"]["items"] == []

    ack = await command(asker, {"type": "ask", "ref": "a1", "text": "Is CAR T an option after a bispecific?"})
    assert ack == {"type": "ack", "ref": "a1", "question": ack["question"]}
    qid = ack["question"]
    mine = await questions_where(asker, lambda f: f["items"])
    assert mine["items"] == [
        {
            "id": qid,
            "text": "Is CAR T an option after a bispecific?",
            "votes": 0,
            "state": "pending",
            "pinned": False,
            "answered": False,
            "name": None,
            "mine": True,
            "voted": False,
        }
    ]
    moderated = await questions_where(console, lambda f: f["items"])
    assert moderated["items"][0]["state"] == "pending" and moderated["items"][0]["merged_into"] is None
    # The other phone and the projector get the frame, without someone else's pending question.
    assert (await receive_type(other, "questions"))["items"] == []
    assert (await receive_type(projector, "questions"))["items"] == []

    assert await command(console, {"type": "approve_question", "ref": "m1", "question": qid}) == {
        "type": "ack",
        "ref": "m1",
        "question": qid,
    }
    seen = await questions_where(other, lambda f: f["items"])
    assert seen["items"][0]["state"] == "approved" and seen["items"][0]["mine"] is False

    ack = await command(other, {"type": "upvote", "ref": "u1", "question": qid})
    assert ack == {"type": "ack", "ref": "u1", "question": qid, "votes": 1}
    assert await command(other, {"type": "upvote", "ref": "u1", "question": qid}) == ack  # resend
    voted = await questions_where(other, lambda f: f["items"][0]["votes"] == 1)
    assert voted["items"][0]["voted"] is True
    on_screen = await questions_where(projector, lambda f: f["items"] and f["items"][0]["votes"] == 1)
    assert on_screen["items"][0]["voted"] is False and on_screen["items"][0]["mine"] is False
    by_asker = await questions_where(asker, lambda f: f["items"][0]["votes"] == 1)
    assert by_asker["items"][0]["mine"] is True and by_asker["items"][0]["voted"] is False
    ack = await command(other, {"type": "unvote", "ref": "u2", "question": qid})
    assert ack == {"type": "ack", "ref": "u2", "question": qid, "votes": 0}
    assert await database_sync_to_async(ModeratorAction.objects.filter(action="approve_question").count)() == 1


async def test_versions_grow_and_the_last_frame_has_every_upvote(ws):
    w = await world(phones=12, questions_moderated=False)
    phones = [(await open_socket(ws, w, index=i))[0] for i in range(12)]
    console, _ = await open_socket(ws, w, "moderator")
    qid = (await command(phones[0], {"type": "ask", "ref": "a", "text": "Bridging before CAR T?"}))["question"]
    acks = await asyncio.gather(
        *(command(phone, {"type": "upvote", "ref": f"u{i}", "question": qid}) for i, phone in enumerate(phones))
    )
    assert sorted(a["votes"] for a in acks)[-1] == 12
    versions = []
    frame = None
    while frame is None or frame["items"][0]["votes"] != 12:
        frame = await receive_type(console, "questions")
        versions.append(frame["version"])
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    for i, phone in enumerate(phones):
        last = await questions_where(phone, lambda f: f["items"] and f["items"][0]["votes"] == 12)
        assert last["items"][0]["voted"] is True and last["items"][0]["mine"] is (i == 0)


async def test_a_reconnecting_phone_is_whole_from_state(ws):
    w = await world()
    phone, _ = await open_socket(ws, w, index=0)
    mine = (await command(phone, {"type": "ask", "ref": "a", "text": "Mine, pending"}))["question"]
    await database_sync_to_async(services.question_ask)(
        participant_id=w.participants[1].id, event_id=w.event.id, ref="b", text="Someone else's"
    )
    theirs = (await database_sync_to_async(AudienceQuestion.objects.get)(ref="b")).id
    await database_sync_to_async(services.question_approve)(event_id=w.event.id, question_id=theirs, user=w.moderator)
    await command(phone, {"type": "upvote", "ref": "u", "question": theirs})
    await phone.disconnect()
    again, state = await open_socket(ws, w, index=0)
    items = {item["id"]: item for item in state["questions"]["items"]}
    assert list(items) == [mine, theirs]
    assert (items[mine]["state"], items[mine]["mine"]) == ("pending", True)
    assert (items[theirs]["voted"], items[theirs]["votes"], items[theirs]["mine"]) == (True, 1, False)
    # Resending the ask and the upvote after the reconnect, with the same refs: nothing doubles.
    assert (await command(again, {"type": "ask", "ref": "a", "text": "Mine, pending"}))["question"] == mine
    assert (await command(again, {"type": "upvote", "ref": "u", "question": theirs}))["votes"] == 1
    questions, upvotes, _ = await rows()
    assert len(questions) == 2 and len(upvotes) == 1


async def test_merge_and_pin_reach_phones_and_projector(ws):
    w = await world(phones=4, questions_moderated=False)
    phones = [(await open_socket(ws, w, index=i))[0] for i in range(4)]
    console, _ = await open_socket(ws, w, "moderator")
    projector, _ = await open_socket(ws, w, "presenter")
    kept = (await command(phones[0], {"type": "ask", "ref": "k", "text": "CAR T after bispecifics?"}))["question"]
    dup = (await command(phones[1], {"type": "ask", "ref": "d", "text": "CAR-T after a bispecific?"}))["question"]
    await command(phones[2], {"type": "upvote", "ref": "1", "question": kept})
    await command(phones[2], {"type": "upvote", "ref": "2", "question": dup})
    await command(phones[3], {"type": "upvote", "ref": "3", "question": dup})
    ack = await command(console, {"type": "merge_question", "ref": "m", "question": dup, "into": kept})
    assert ack == {"type": "ack", "ref": "m", "question": dup, "into": kept}
    await command(console, {"type": "pin_question", "ref": "p", "question": kept})
    shown = await questions_where(projector, lambda f: f["items"] and f["items"][0]["pinned"])
    assert [(i["id"], i["votes"], i["pinned"]) for i in shown["items"]] == [(kept, 2, True)]
    on_phone = await questions_where(phones[3], lambda f: f["items"] and f["items"][0]["pinned"])
    assert [(i["id"], i["voted"]) for i in on_phone["items"]] == [(kept, True)]
    moderated = await questions_where(console, lambda f: len(f["items"]) == 2 and f["items"][0]["pinned"])
    assert [(i["id"], i["state"], i["merged_into"]) for i in moderated["items"]] == [
        (kept, "approved", None),
        (dup, "dismissed", kept),
    ]


def applied(current: dict | None, frame: dict) -> dict:
    """A phone's questions after one frame: a `questions` frame replaces them; a `questions_delta`
    applies to the version it names (the one this socket was sent last), as static/js/live.js does."""
    if frame["type"] == "state":
        return frame.get("questions") or current
    if frame["type"] == "questions":
        return frame
    assert current is not None and frame["since"] == current["version"], (frame["since"], current)
    known = {item["id"]: item for item in current["items"]} | {item["id"]: item for item in frame["items"]}
    head = {key: frame[key] for key in ("version", "enabled", "moderated", "names")}
    return {**current, **head, "items": [known[qid] for qid in frame["order"]]}


@database_sync_to_async
def whole_questions(w, index: int) -> dict:
    """The whole `questions` frame phone `index` would get now, read from the database."""
    message = outbound.build_questions_message(w.event.id)
    return json.loads(outbound.questions_text(message, participant_id=w.participants[index].id))


async def test_phones_that_ask_for_deltas_end_on_the_whole_list_from_fewer_bytes(ws):
    """Two phones take `questions_delta` frames (`?questions=delta`), one takes whole frames. Asks
    (one pending, of a delta phone), approvals, upvotes, a merge, a dismissal and a pin later,
    each delta phone's list, rebuilt from its frames, is exactly the whole list it would be sent."""
    w = await world(phones=6)
    deltas = [await open_socket(ws, w, index=i, query="?questions=delta") for i in (0, 1)]
    plain = [(await open_socket(ws, w, index=i))[0] for i in (2, 3, 4, 5)]
    console, _ = await open_socket(ws, w, "moderator")
    texts = ["CAR T after bispecifics?", "CAR-T after a bispecific?", "MRD-guided maintenance?", "Bridging therapy?"]
    asked = [(await command(phone, {"type": "ask", "ref": f"a{i}", "text": text}))["question"]
             for i, (phone, text) in enumerate(zip(plain, texts, strict=True))]  # fmt: skip
    own = await database_sync_to_async(services.question_ask)(
        participant_id=w.participants[0].id, event_id=w.event.id, ref="own", text="Mine, still pending"
    )
    for qid in asked:
        await command(console, {"type": "approve_question", "ref": f"ok{qid}", "question": qid})
    for n, (phone, qid) in enumerate([(p, q) for p in plain for q in asked[:3]]):
        await command(phone, {"type": "upvote", "ref": f"u{n}", "question": qid})
    upvote = database_sync_to_async(services.question_upvote)
    await upvote(participant_id=w.participants[1].id, event_id=w.event.id, ref="d1", question_id=asked[1], up=True)
    await command(console, {"type": "merge_question", "ref": "m", "question": asked[1], "into": asked[0]})
    await command(console, {"type": "dismiss_question", "ref": "x", "question": asked[3]})
    await command(console, {"type": "pin_question", "ref": "p", "question": asked[2]})

    for index, (phone, state) in enumerate(deltas):
        expected = await whole_questions(w, index)
        current, kinds = state["questions"], []
        while current is None or current["items"] != expected["items"]:
            frame = await receive(phone)
            kinds.append(frame["type"])
            current = applied(current, frame)
        assert "questions_delta" in kinds and "questions" not in kinds  # whole lists only inside `state`
        assert [item["id"] for item in current["items"]][: 2 - index] == ([own.id] if index == 0 else []) + [asked[2]]
    assert (await whole_questions(w, 1))["items"][1]["voted"] is True  # its upvote moved with the merge


async def test_moderator_commands_from_a_phone_or_the_projector_are_forbidden(ws):
    w = await world()
    phone, _ = await open_socket(ws, w, index=0)
    projector, _ = await open_socket(ws, w, "presenter")
    qid = (await command(phone, {"type": "ask", "ref": "a", "text": "A question"}))["question"]
    before = await rows()
    for name in ("approve_question", "dismiss_question", "restore_question", "answer_question", "pin_question"):
        for socket in (phone, projector):
            await refused_as(socket, {"type": name, "ref": "x", "question": qid}, "forbidden")
    await refused_as(phone, {"type": "merge_question", "ref": "x", "question": qid, "into": qid}, "forbidden")
    await refused_as(projector, {"type": "ask", "ref": "y", "text": "From the projector"}, "forbidden")
    console, _ = await open_socket(ws, w, "moderator")
    await refused_as(console, {"type": "upvote", "ref": "z", "question": qid}, "forbidden")
    assert await rows() == before


async def test_bad_input_gets_its_code_and_changes_nothing(ws):
    w = await world()
    phone, _ = await open_socket(ws, w, index=0)
    other, _ = await open_socket(ws, w, index=1)
    console, _ = await open_socket(ws, w, "moderator")
    pending = (await command(other, {"type": "ask", "ref": "p", "text": "Someone else's pending"}))["question"]
    dismissed = (await command(other, {"type": "ask", "ref": "d", "text": "Dismissed"}))["question"]
    await command(console, {"type": "dismiss_question", "ref": "m", "question": dismissed})

    @database_sync_to_async
    def foreign_question() -> int:
        event = make_event()
        return services.question_ask(
            participant_id=make_participant(event).id, event_id=event.id, ref="f", text="Another event's"
        ).id

    foreign = await foreign_question()
    before = await rows()
    cases = [
        ({"type": "ask", "ref": "1", "text": ""}, "empty_question"),
        ({"type": "ask", "ref": "2", "text": " \n\t "}, "empty_question"),
        ({"type": "ask", "ref": "3", "text": "x" * 301}, "question_too_long"),
        ({"type": "ask", "ref": "4", "text": "bell\x07"}, "invalid_characters"),
        ({"type": "ask", "ref": "5", "text": "flip \u202eevil"}, "invalid_characters"),
        ({"type": "ask", "ref": "6", "text": "named", "name": "Dr. X"}, "names_not_allowed"),
        ({"type": "ask", "ref": "7", "text": 5}, "bad_request"),
        ({"type": "ask", "ref": "8"}, "bad_request"),
        ({"type": "ask", "text": "no ref"}, "bad_request"),
        ({"type": "upvote", "ref": "9", "question": pending}, "unknown_question"),
        ({"type": "upvote", "ref": "10", "question": dismissed}, "question_dismissed"),
        ({"type": "upvote", "ref": "11", "question": foreign}, "unknown_question"),
        ({"type": "upvote", "ref": "12", "question": 10**12}, "unknown_question"),
        ({"type": "upvote", "ref": "13", "question": "1"}, "bad_request"),
        ({"type": "unvote", "ref": "14", "question": True}, "bad_request"),
    ]
    for frame, code in cases:
        await refused_as(phone, frame, code)
    for name in ("approve_question", "pin_question", "dismiss_question"):
        assert await command(console, {"type": name, "ref": "c", "question": foreign}) == err("c", "unknown_question")
    merge = {"type": "merge_question", "ref": "mm", "question": pending, "into": foreign}
    assert await command(console, merge) == err("mm", "unknown_question")
    assert await rows() == before
    await send(phone, {"type": "ping", "ref": "still-open"})
    assert await reply(phone) == {"type": "pong", "ref": "still-open"}


async def test_a_flood_of_asks_is_refused_past_five_a_minute(ws):
    w = await world()
    phone, _ = await open_socket(ws, w, index=0)
    for n in range(5):
        assert (await command(phone, {"type": "ask", "ref": f"q{n}", "text": f"Question {n}"}))["type"] == "ack"
    assert await command(phone, {"type": "ask", "ref": "q5", "text": "Question 5"}) == err("q5", "too_many_questions")
    # A second socket of the same participant shares the budget.
    again, _ = await open_socket(ws, w, index=0)
    assert await command(again, {"type": "ask", "ref": "q6", "text": "Question 6"}) == err("q6", "too_many_questions")
    assert len((await rows())[0]) == 5


async def test_questions_off_empties_the_audiences_list_and_refuses_asking(ws):
    w = await world()
    phone, _ = await open_socket(ws, w, index=0)
    qid = (await command(phone, {"type": "ask", "ref": "a", "text": "Hello?"}))["question"]
    await database_sync_to_async(services.question_approve)(event_id=w.event.id, question_id=qid, user=w.moderator)

    @database_sync_to_async
    def switch_off():
        w.event.questions_enabled = False
        w.event.save()
        services.questions_settings_changed(event_id=w.event.id, user=w.moderator)

    await switch_off()
    off = await questions_where(phone, lambda f: not f["enabled"])
    assert off["items"] == []
    assert await command(phone, {"type": "ask", "ref": "b", "text": "Hello again?"}) == err("b", "questions_off")
    console, state = await open_socket(ws, w, "moderator")
    assert [i["id"] for i in state["questions"]["items"]] == [qid]  # the moderators keep seeing them
