"""The naive baseline: Caseboard's protocol written the way the Channels tutorial suggests.

Every consumer joins the event's group; every vote does a SQL COUNT and a `group_send` of the
full results; every consumer serialises every message itself and builds its own snapshot on
connect. Same models, same database, same session authentication as Caseboard. It exists only
to be measured against (bench/run.py); nothing in the app imports it.
"""

from __future__ import annotations

import json
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import transaction
from django.db.models import Count

from polls import protocol, selectors
from polls.errors import DomainError
from polls.models import Poll, PollState, Vote, VoteChoice, VoteReceipt
from polls.protocol import outbound


def group_name(event_id: int) -> str:
    return f"naive.{event_id}"


@transaction.atomic
def cast_vote(*, participant_id: int, event_id: int, poll_id: int, options: list[int], ref: str) -> None:
    receipt = VoteReceipt.objects.filter(participant_id=participant_id, ref=ref).first()
    if receipt is not None:
        if receipt.ballot != {"options": options}:
            raise DomainError("idempotency_conflict")
        return
    poll = Poll.objects.filter(pk=poll_id, event_id=event_id).first()
    if poll is None:
        raise DomainError("unknown_poll")
    if poll.state != PollState.OPEN:
        raise DomainError("poll_closed" if poll.state == PollState.CLOSED else "poll_not_open")
    if len(options) != 1 or not poll.options.filter(pk=options[0]).exists():
        raise DomainError("invalid_option")
    vote, created = Vote.objects.get_or_create(poll_id=poll_id, participant_id=participant_id)
    if not created:
        vote.choices.all().delete()
    VoteChoice.objects.create(vote=vote, option_id=options[0], poll_id=poll_id)
    VoteReceipt.objects.create(participant_id=participant_id, poll_id=poll_id, ref=ref, ballot={"options": options})


def results(*, poll_id: int) -> dict:
    """A fresh SQL count of the poll, every time."""
    version = time.time_ns() // 1000
    poll = Poll.objects.get(pk=poll_id)
    total = Vote.objects.filter(poll_id=poll_id).count()
    counts = {str(o.id): 0 for o in poll.options.all()}
    for option_id, n in VoteChoice.objects.filter(poll_id=poll_id).values_list("option_id").annotate(n=Count("id")):
        counts[str(option_id)] = n
    return {"poll": poll_id, "total": total, "counts": counts, "visible": poll.results_visible, "version": version}


def ballot(*, participant_id: int, poll_id: int) -> list[int] | None:
    ids = list(
        VoteChoice.objects.filter(vote__participant_id=participant_id, poll_id=poll_id).values_list(
            "option_id", flat=True
        )
    )
    return ids or None


class NaiveConsumer(AsyncWebsocketConsumer):
    moderator = False

    def authorise(self, code: str) -> tuple[int | None, int | None]:
        try:
            event = selectors.event_by_code(code=code)
        except selectors.EventNotFound:
            return None, None
        if self.moderator:
            ok = selectors.user_moderates(user=self.scope.get("user"), event=event)
            return (event.id if ok else None), None
        pid = selectors.participant_id_from_session(session=self.scope.get("session"), event_id=event.id)
        return (event.id if pid else None), pid

    def snapshot(self) -> dict:
        frames = outbound.state_frames(event_id=self.event_id)
        state = frames["moderator" if self.moderator else "public"]
        if not self.moderator and state["poll"]:
            mine = ballot(participant_id=self.participant_id, poll_id=state["poll"]["id"])
            state["my_vote"] = {"poll": state["poll"]["id"], "options": mine} if mine else None
        return state

    async def connect(self) -> None:
        code = self.scope["url_route"]["kwargs"]["code"]
        self.event_id, self.participant_id = await database_sync_to_async(self.authorise)(code)
        if self.event_id is None:
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(group_name(self.event_id), self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps(await database_sync_to_async(self.snapshot)()))

    async def disconnect(self, code: int) -> None:
        if getattr(self, "event_id", None):
            await self.channel_layer.group_discard(group_name(self.event_id), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        ref = None
        try:
            frame = protocol.decode(text_data, max_bytes=4096)
            ref = protocol.frame_ref(frame)
            if frame.get("type") == "vote" and not self.moderator:
                await self.vote(frame, ref)
                return
            if frame.get("type") == "ping":
                await self.send(text_data=json.dumps({"type": "pong", "ref": ref}))
                return
            command = protocol.parse(frame, role="moderator" if self.moderator else "participant")
            reply = await database_sync_to_async(protocol.execute)(
                command, event_id=self.event_id, user=self.scope.get("user")
            )
            await self.send(text_data=json.dumps(reply))
            frames = await database_sync_to_async(outbound.state_frames)(event_id=self.event_id)
            await self.channel_layer.group_send(group_name(self.event_id), {"type": "naive.state", **frames})
        except DomainError as exc:
            await self.send(text_data=json.dumps(protocol.error_frame(ref=ref, code=exc.code)))

    async def vote(self, frame: dict, ref: str | None) -> None:
        poll, options = frame.get("poll"), frame.get("options")
        if ref is None or not isinstance(poll, int) or not isinstance(options, list):
            raise DomainError("bad_request")
        await database_sync_to_async(cast_vote)(
            participant_id=self.participant_id, event_id=self.event_id, poll_id=poll, options=options, ref=ref
        )
        await self.send(text_data=json.dumps({"type": "ack", "ref": ref, "poll": poll, "options": options}))
        tally = await database_sync_to_async(results)(poll_id=poll)
        await self.channel_layer.group_send(group_name(self.event_id), {"type": "naive.results", **tally})

    async def naive_results(self, message: dict) -> None:
        frame = {"type": "results", "poll": message["poll"], "total": message["total"], "version": message["version"]}
        if self.moderator or message["visible"]:
            frame["counts"] = message["counts"]
        await self.send(text_data=json.dumps(frame))

    async def naive_state(self, message: dict) -> None:
        state = dict(message["moderator" if self.moderator else "public"])
        if not self.moderator and state["poll"]:
            mine = await database_sync_to_async(ballot)(participant_id=self.participant_id, poll_id=state["poll"]["id"])
            state["my_vote"] = {"poll": state["poll"]["id"], "options": mine} if mine else None
        await self.send(text_data=json.dumps(state))


class NaiveModeratorConsumer(NaiveConsumer):
    moderator = True
