"""Websocket consumers: routers that authenticate, subscribe to the fan-out hub and dispatch commands."""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import Error as DatabaseError

from polls import commands, protocol, selectors
from polls.errors import DomainError
from polls.fanout import Hub, audience
from polls.protocol import Role
from polls.ratelimit import TokenBucket

logger = logging.getLogger(__name__)

# Close codes (documented in docs/protocol.md).
CLOSE_UNAUTHORISED = 4403
CLOSE_UNKNOWN_EVENT = 4404
CLOSE_FLOOD = 1008


class EventConsumer(AsyncWebsocketConsumer):
    # Sockets get frames from the per-process Hub, not from a channel of their own: an alias
    # that names no layer stops Channels from subscribing every connection to the layer.
    channel_layer_alias = "caseboard-consumers-use-the-hub"
    role: str = ""
    event_id: int | None = None
    participant_id: int | None = None

    # --------------------------------------------------------------- access

    def authorise(self, code: str) -> int | None:
        """Return the event id this connection may follow, or None (sync: reads the database)."""
        raise NotImplementedError

    async def connect(self) -> None:
        code = self.scope["url_route"]["kwargs"]["code"]
        try:
            self.event_id = await database_sync_to_async(self.authorise)(code)
        except selectors.EventNotFound:
            await self.close(code=CLOSE_UNKNOWN_EVENT)
            return
        if self.event_id is None:
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        limits = settings.CASEBOARD
        self.bucket = TokenBucket(capacity=limits["RATE_LIMIT_FRAMES"], per_seconds=limits["RATE_LIMIT_WINDOW_S"])
        self.max_bytes = limits["MAX_FRAME_BYTES"]
        self.hub = Hub.current()
        await self.accept()
        await self.hub.attach(self.event_id, self)
        await self.send_snapshot()

    async def send_snapshot(self) -> None:
        state = await self.hub.state(self.event_id)
        await self.deliver(state)
        results = self.hub.latest_results(self.event_id, state["poll"])
        if results is not None:
            await self.deliver(results)

    async def disconnect(self, code: int) -> None:
        if self.event_id is not None and getattr(self, "hub", None) is not None:
            await self.hub.detach(self.event_id, self)

    async def deliver(self, message: dict) -> None:
        await self.send(text_data=message[audience(self.role)])

    # -------------------------------------------------------------- frames

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        ref = None
        try:
            if not self.bucket.allow():
                if self.bucket.refused > 5 * self.bucket.capacity:
                    await self.close(code=CLOSE_FLOOD)
                    return
                raise DomainError("rate_limited")
            frame = protocol.decode(text_data, max_bytes=self.max_bytes)
            ref = protocol.frame_ref(frame)
            command = protocol.parse(frame, role=self.role)
            if command.type == "ping":
                await self.reply({"type": "pong", "ref": command.ref})
                return
            reply = await database_sync_to_async(commands.execute)(
                command, event_id=self.event_id, user=self.scope.get("user"), participant_id=self.participant_id
            )
            await self.after_ack(reply)
            await self.reply(reply)
        except DomainError as exc:
            await self.reply(protocol.error_frame(ref=ref, code=exc.code, message=exc.message))
        except DatabaseError:
            logger.warning("database unavailable while handling a %s frame", self.role, exc_info=True)
            await self.reply(protocol.error_frame(ref=ref, code="unavailable"))
        except Exception:
            logger.exception("unexpected error handling a %s frame", self.role)
            await self.reply(protocol.error_frame(ref=ref, code="server_error"))

    async def after_ack(self, reply: dict) -> None:
        """Hook for per-connection bookkeeping after a command succeeded."""

    async def reply(self, frame: dict) -> None:
        await self.send(text_data=protocol.dumps(frame))


class ParticipantConsumer(EventConsumer):
    role = Role.PARTICIPANT

    def authorise(self, code: str) -> int | None:
        event = selectors.event_by_code(code=code)
        self.participant_id = selectors.participant_id_from_session(
            session=self.scope.get("session"), event_id=event.id
        )
        if self.participant_id is None:
            return None
        self.ballots = selectors.participant_ballots(participant_id=self.participant_id)
        return event.id

    async def deliver(self, message: dict) -> None:
        text = message["public"]
        if message["kind"] == "state":
            poll_id = message["poll"]
            ballot = self.ballots.get(poll_id) if poll_id else None
            text = protocol.with_my_vote(text, {"poll": poll_id, "options": ballot} if ballot else None)
        await self.send(text_data=text)

    async def after_ack(self, reply: dict) -> None:
        if "options" in reply:
            self.ballots[reply["poll"]] = reply["options"]


class PresenterConsumer(EventConsumer):
    role = Role.PRESENTER

    def authorise(self, code: str) -> int | None:
        event = selectors.event_by_code(code=code)
        ok = selectors.may_present(user=self.scope.get("user"), session=self.scope.get("session"), event=event)
        return event.id if ok else None


class ModeratorConsumer(EventConsumer):
    role = Role.MODERATOR

    def authorise(self, code: str) -> int | None:
        try:
            return selectors.event_for_moderator(user=self.scope.get("user"), code=code).id
        except selectors.EventNotFound:
            return None
