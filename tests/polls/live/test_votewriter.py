"""The process's vote writer: concurrent sockets' ballots share transactions, each socket gets its own answer."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError

from polls import services
from polls.ballots import Ballot
from polls.live.votewriter import VoteWriter
from polls.models import Vote
from tests.factories import build_world_async
from tests.live import open_phone, open_socket, receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)


async def open_phones(ws, w):
    return [await open_phone(ws, w, index) for index in range(len(w.phone_keys))]


async def test_concurrent_votes_share_transactions_and_each_phone_gets_its_own_answer(ws):
    w = await build_world_async(opened=True, phones=40)
    poll, options = w.poll, w.options
    phones = await open_phones(ws, w)
    writer = VoteWriter.current()
    batches_before = writer.batches
    for i, phone in enumerate(phones):
        ballot = [999_999] if i == 7 else [options[i % 2]]
        await send(phone, {"type": "vote", "ref": f"v{i}", "poll": poll.id, "options": ballot})
    replies = await asyncio.gather(*(receive_type(p, "ack" if i != 7 else "error") for i, p in enumerate(phones)))
    assert replies[7]["code"] == "invalid_option" and replies[7]["ref"] == "v7"
    assert all(r["ref"] == f"v{i}" for i, r in enumerate(replies))
    assert all(r["options"] == [options[i % 2]] for i, r in enumerate(replies) if i != 7)
    assert await database_sync_to_async(Vote.objects.filter(poll=poll).count)() == 39
    assert writer.batches - batches_before < 39  # ballots shared transactions
    assert writer.largest_batch > 1


async def test_a_failed_batch_answers_unavailable_and_the_resend_counts_once(ws, monkeypatch):
    w = await build_world_async(opened=True, phones=5)
    poll, options = w.poll, w.options
    phones = await open_phones(ws, w)
    real = services.votes_cast
    failures = iter([True])

    def flaky(requests):
        if next(failures, False):
            raise OperationalError("database is locked")
        return real(requests)

    monkeypatch.setattr(services, "votes_cast", flaky)
    await send(phones[0], {"type": "vote", "ref": "x", "poll": poll.id, "options": [options[0]]})
    error = await receive_type(phones[0], "error")
    assert error["code"] == "unavailable" and error["ref"] == "x"
    for phone in phones:
        await send(phone, {"type": "vote", "ref": "x", "poll": poll.id, "options": [options[0]]})
    for phone in phones:
        assert (await receive_type(phone, "ack"))["ref"] == "x"
    assert await database_sync_to_async(Vote.objects.filter(poll=poll).count)() == 5


async def test_a_room_upvoting_at_once_shares_transactions_and_counts_each_upvote_once(ws):
    from polls.live.votewriter import UpvoteWriter
    from polls.models import QuestionUpvote

    w = await build_world_async(poll=False, phones=30, moderator_session=True)
    w.event.questions_moderated = False
    await database_sync_to_async(w.event.save)()
    phones = await open_phones(ws, w)
    await send(phones[0], {"type": "ask", "ref": "q", "text": "Bridging before CAR T?"})
    question = (await receive_type(phones[0], "ack"))["question"]
    writer = UpvoteWriter.current()
    for i, phone in enumerate(phones):
        target = 987_654 if i == 5 else question  # one bad upvote fails alone
        await send(phone, {"type": "upvote", "ref": f"u{i}", "question": target})
        await send(phone, {"type": "upvote", "ref": f"u{i}", "question": target})  # and a resend
    replies = [[await receive_type(p, "ack" if i != 5 else "error") for _ in range(2)] for i, p in enumerate(phones)]
    assert {r["code"] for r in replies[5]} == {"unknown_question"}
    assert all(r["ref"] == f"u{i}" and r["question"] == question for i, rs in enumerate(replies) if i != 5 for r in rs)
    assert max(r["votes"] for i, rs in enumerate(replies) if i != 5 for r in rs) == 29
    assert await database_sync_to_async(QuestionUpvote.objects.filter(question_id=question).count)() == 29
    assert writer.largest_batch > 1 and writer.batches < 60  # upvotes shared transactions


async def test_a_join_burst_reads_the_phones_ballots_together_and_each_gets_its_own(ws):
    """Phones that joined before are admitted without a trip each to the database thread: their
    earlier ballots are read together (ParticipantReader) and each state carries that phone's own."""
    from polls.live.votewriter import ParticipantReader

    w = await build_world_async(opened=True, phones=24)
    poll, options = w.poll, w.options
    for index in range(0, 24, 3):  # a third of them voted before the burst (a reconnect storm)
        await database_sync_to_async(services.vote_cast)(
            participant_id=w.participants[index].id, event_id=w.event.id, poll_id=poll.id, ref=f"b{index}",
            ballot=Ballot(options=[options[index % 2]]),
        )  # fmt: skip
    await open_phone(ws, w, 0)  # this process learns the event's code
    reader = ParticipantReader.current()
    before = reader.batches
    sockets = await asyncio.gather(*(open_socket(ws, w, index=i) for i in range(24)))
    for index, (_, state) in enumerate(sockets):
        expected = {"poll": poll.id, "options": [options[index % 2]]} if index % 3 == 0 else None
        mine = state["my_vote"]
        assert (mine and {"poll": mine["poll"], "options": mine["options"]}) == expected, (index, mine)
    assert reader.batches - before < 24 and reader.largest_batch > 1


async def test_a_phone_whose_session_is_not_in_the_cache_is_admitted_from_the_database(ws):
    from django.core.cache import cache

    from polls.live.votewriter import ParticipantReader

    w = await build_world_async(opened=True, phones=2)
    await open_phone(ws, w, 0)  # the process learns the event's code
    before = ParticipantReader.current().batches
    await database_sync_to_async(cache.clear)()  # Redis restarted empty, or the entry expired
    _, state = await open_socket(ws, w, index=1)
    assert state["type"] == "state" and ParticipantReader.current().batches == before  # admit() read it
