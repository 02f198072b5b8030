"""A resent `ref` is one vote with the same `ack`; the same `ref` for another ballot is refused and changes nothing."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from polls import services
from tests.factories import build_world_async
from tests.live import OPEN_POLL_WORLD, ack_frame, error_frame, open_phone, reply, send, tally, vote_frame
from tests.reliability.figures import record

pytestmark = [pytest.mark.django_db(transaction=True)]


async def test_same_ref_five_times_is_one_vote_with_the_same_ack(ws):
    w = await build_world_async(**OPEN_POLL_WORLD, phones=1)
    phone = await open_phone(ws, w)
    for _ in range(5):  # fired back to back, as a phone flushing its outbox after a reconnect would
        await send(phone, vote_frame(w, "ref-1"))
    acks = [await reply(phone) for _ in range(5)]
    assert acks == [ack_frame(w, "ref-1")] * 5
    assert await tally(w) == {"total": 1, "counts": dict.fromkeys(w.options, 0) | {w.options[0]: 1}, "votes": 1,
                              "receipts": 1}  # fmt: skip
    record("idempotent resend", resends=5, acks_identical=True, votes_counted=1)


async def test_resend_over_a_new_socket_and_from_a_second_tab_is_still_one_vote(ws):
    w = await build_world_async(**OPEN_POLL_WORLD, phones=1)
    first = await open_phone(ws, w)
    await send(first, vote_frame(w, "ref-1"))
    assert await reply(first) == ack_frame(w, "ref-1")
    await first.disconnect()
    again, second_tab = await open_phone(ws, w), await open_phone(ws, w)
    for socket in (again, second_tab, again, second_tab):
        await send(socket, vote_frame(w, "ref-1"))
    assert [await reply(again) for _ in range(2)] == [ack_frame(w, "ref-1")] * 2
    assert [await reply(second_tab) for _ in range(2)] == [ack_frame(w, "ref-1")] * 2
    assert (await tally(w))["votes"] == 1 and (await tally(w))["receipts"] == 1


async def test_same_ref_with_other_options_is_refused_and_the_first_ballot_stands(ws):
    w = await build_world_async(**OPEN_POLL_WORLD, phones=1)
    phone = await open_phone(ws, w)
    await send(phone, vote_frame(w, "ref-1", option=0))
    assert await reply(phone) == ack_frame(w, "ref-1", option=0)
    before = await tally(w)
    for option in (1, 2):
        await send(phone, vote_frame(w, "ref-1", option=option))
        assert await reply(phone) == error_frame("ref-1", "idempotency_conflict")
    assert await tally(w) == before
    assert before["counts"][w.options[0]] == 1
    # The ballot can still change, with a new ref; and the old ref is still recognised afterwards.
    await send(phone, vote_frame(w, "ref-2", option=1))
    assert await reply(phone) == ack_frame(w, "ref-2", option=1)
    await send(phone, vote_frame(w, "ref-1", option=1))
    assert await reply(phone) == error_frame("ref-1", "idempotency_conflict")
    after = await tally(w)
    assert after["total"] == 1 and after["counts"][w.options[1]] == 1 and after["receipts"] == 2
    record("idempotency conflict", conflicting_resends=3, first_ballot_unchanged=True)


async def test_resend_after_the_poll_closed_gets_the_same_ack(ws):
    """A phone that was offline when the poll closed still learns that its vote counted."""
    w = await build_world_async(**OPEN_POLL_WORLD, phones=1)
    phone = await open_phone(ws, w)
    await send(phone, vote_frame(w, "ref-1"))
    assert await reply(phone) == ack_frame(w, "ref-1")
    await database_sync_to_async(services.poll_close)(event_id=w.event.id, poll_id=w.poll.id, user=w.moderator)
    await send(phone, vote_frame(w, "ref-1"))
    assert await reply(phone) == ack_frame(w, "ref-1")
    await send(phone, vote_frame(w, "ref-2"))
    assert await reply(phone) == error_frame("ref-2", "poll_closed")
    assert (await tally(w))["votes"] == 1
