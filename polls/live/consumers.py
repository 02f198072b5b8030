"""Websocket consumers: routers that authenticate, subscribe to the fan-out hub and dispatch commands."""

from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import Error as DatabaseError
from django.utils import translation

from caseboard import i18n
from caseboard.clientip import scope_client_ip
from polls import protocol, selectors, services
from polls.errors import DomainError
from polls.joins import join_blocked, record_join_failure
from polls.live.hub import Hub, audience
from polls.live.ratelimit import TokenBucket
from polls.live.votewriter import WRITERS, ParticipantReader
from polls.protocol import Role, inbound, outbound

logger = logging.getLogger(__name__)

# Close codes (documented in docs/protocol.md). The app's own are in 4000-4999: daphne's websocket
# library (autobahn) refuses to send 1008, 1011 or 1013, so a flooder closed with 1008 stayed connected.
CLOSE_UNAUTHORISED = 4403
CLOSE_UNKNOWN_EVENT = 4404
CLOSE_FLOOD = 4008
CLOSE_TOO_MANY_JOINS = 4429
CLOSE_SERVER_ERROR = 4011
CLOSE_TRY_AGAIN_LATER = 4013
CLOSE_TOO_MANY_SOCKETS = 4409


def socket_language(scope) -> str:
    """The language of the page that opened this socket, for the `message` of its error frames.

    The page puts it on the socket's URL (`lang`, views._page_config), so admitting a phone costs
    no database read (issue 17); a missing or unknown one falls back to the reader's chosen
    language (Django's language cookie), then English.
    """
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (
        i18n.supported((query.get("lang") or [""])[0])
        or i18n.chosen_language(scope.get("cookies") or {})
        or settings.LANGUAGE_CODE
    )


class InFlight:
    """Client frames this process is handling; a graceful shutdown (caseboard/serve.py) waits for them.

    Counted from dispatch, so a frame is in flight from the moment the consumer takes it.
    """

    def __init__(self) -> None:
        self.count = 0
        self.completed = 0

    @contextmanager
    def command(self):
        self.count += 1
        try:
            yield
        finally:
            self.count -= 1
            self.completed += 1


IN_FLIGHT = InFlight()


class SessionSockets:
    """Open sockets per browser session and role in this process (CASEBOARD_SOCKETS_PER_SESSION).

    A few tabs or projectors per session are normal; thousands are one client holding the
    server's memory and fan-out time. Counted per process: a cluster of N workers lets a
    session hold N times the cap (a cluster-wide count would cost a cache round trip per
    handshake of a join burst).
    """

    def __init__(self) -> None:
        self.open: dict[tuple[str, str], int] = {}

    def take(self, key: tuple[str, str], cap: int) -> bool:
        count = self.open.get(key, 0)
        if count >= cap:
            return False
        self.open[key] = count + 1
        return True

    def release(self, key: tuple[str, str]) -> None:
        count = self.open.get(key, 0) - 1
        if count > 0:
            self.open[key] = count
        else:
            self.open.pop(key, None)


SESSION_SOCKETS = SessionSockets()


class Refused(Exception):
    def __init__(self, close_code: int) -> None:
        self.close_code = close_code


class AccessRevoked(Exception):
    """The user behind a console or projector lost the right to it since the socket opened."""


class EventConsumer(AsyncWebsocketConsumer):
    # Sockets get frames from the per-process Hub, not from a channel of their own: an alias
    # that names no layer stops Channels from subscribing every connection to the layer.
    channel_layer_alias = "caseboard-consumers-use-the-hub"
    role: str = ""
    frame_budget = "RATE_LIMIT_FRAMES"  # the CASEBOARD setting: frames per RATE_LIMIT_WINDOW_S
    event_id: int | None = None
    participant_id: int | None = None
    closing: bool = True  # until connect() has admitted the socket
    socket_slot: tuple[str, str] | None = None  # this socket's place in SESSION_SOCKETS

    # --------------------------------------------------------------- access

    def authorise(self, code: str) -> int | None:
        """Return the event id this connection may follow, or None (sync: reads the database)."""
        raise NotImplementedError

    def admit(self, code: str, ip: str) -> int:
        """The event id, or Refused with a close code (sync).

        Unknown codes count as failed joins of the client's IP. Once an IP is over the limit,
        only connections whose session already belongs to the event get in; every other attempt
        gets 4429 whether the code exists or not, so guessing reveals nothing.
        """
        if self.past_admit_deadline():
            # This handshake waited too long for the database thread: past the deadline its
            # client has given up (daphne drops it at 5 s, a browser at 10 s). Admitting it anyway
            # only delays the ones still waiting; in a reconnect storm that turned into retries
            # piling on retries until almost nobody got back in (measured, docs/benchmarks.md).
            raise Refused(CLOSE_TRY_AGAIN_LATER)
        # The limit is read only on the way to a refusal: an admitted phone gets in either way,
        # and a join burst then costs no cache round trip per phone.
        try:
            event_id = self.authorise(code)
        except selectors.EventNotFound:
            blocked = join_blocked(ip)
            record_join_failure(ip)
            raise Refused(CLOSE_TOO_MANY_JOINS if blocked else CLOSE_UNKNOWN_EVENT) from None
        if event_id is None:
            raise Refused(CLOSE_TOO_MANY_JOINS if join_blocked(ip) else CLOSE_UNAUTHORISED)
        return event_id

    async def admitted(self, code: str, ip: str) -> int:
        """The event id, or Refused with a close code: admit() on the database thread."""
        return await database_sync_to_async(self.admit)(code, ip)

    def past_admit_deadline(self) -> bool:
        return time.monotonic() - self.connect_started > settings.CASEBOARD["ADMIT_DEADLINE_S"]

    async def connect(self) -> None:
        self.connect_started = time.monotonic()
        self.language = socket_language(self.scope)
        code = self.scope["url_route"]["kwargs"]["code"]
        try:
            # The client's address by the trusted-proxy rule (caseboard.clientip middleware).
            self.event_id = await self.admitted(code, scope_client_ip(self.scope))
        except Refused as refused:
            self.event_id = None
            await self.close(code=refused.close_code)
            return
        except Exception:
            # Database or session cache unreachable: a clean close the client retries with backoff.
            logger.warning("could not admit a %s connection", self.role, exc_info=True)
            self.event_id = None
            await self.close(code=CLOSE_SERVER_ERROR)
            return
        limits = settings.CASEBOARD
        session_key = getattr(self.scope.get("session"), "session_key", None) or ""
        slot = (session_key, self.role)
        if not SESSION_SOCKETS.take(slot, limits["SOCKETS_PER_SESSION"]):
            self.event_id = None
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.socket_slot = slot
        self.bucket = TokenBucket(capacity=limits[self.frame_budget], per_seconds=limits["RATE_LIMIT_WINDOW_S"])
        self.max_bytes = limits["MAX_FRAME_BYTES"]
        self.hub = Hub.current()
        self.closing = False
        await self.accept()
        try:
            await self.hub.attach(self.event_id, self)
            await self.send_snapshot()
        except Exception:
            # Channel layer or database down: without its group the socket would miss broadcasts
            # silently. Close it; the client reconnects with backoff and resyncs from `state`.
            logger.warning("could not subscribe a %s connection", self.role, exc_info=True)
            self.closing = True
            await self.close(code=CLOSE_SERVER_ERROR)

    async def send_snapshot(self) -> None:
        state = await self.hub.state(self.event_id)
        await self.deliver(state)
        results = self.hub.latest_results(self.event_id, state["poll"])
        if results is not None:
            await self.deliver(results)

    async def disconnect(self, code: int) -> None:
        self.release_socket_slot()
        if self.event_id is not None and getattr(self, "hub", None) is not None:
            await self.hub.detach(self.event_id, self)

    def release_socket_slot(self) -> None:
        if self.socket_slot is not None:
            SESSION_SOCKETS.release(self.socket_slot)
            self.socket_slot = None

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the socket ends. disconnect() runs only when websocket.disconnect is
            # handled; a consumer that daphne cancels (stuck past application_close_timeout,
            # server shutdown) or that raised never gets there, and its place in the
            # per-session count and its hub membership would leak for the life of the process:
            # enough such ends lock a phone out with 4409 until a restart.
            self.release_socket_slot()
            hub = getattr(self, "hub", None)
            if self.event_id is not None and hub is not None and hub.forget(self.event_id, self):
                hub.leave_soon(self.event_id)

    async def websocket_disconnect(self, message: dict) -> None:
        # Channels' version also hops to the database thread to close stale connections, once
        # per closing socket: in a reconnect storm that is thousands of trips queued in front of
        # the ballots, for nothing (see dispatch). These sockets join no channel-layer groups.
        await self.disconnect(message.get("code", 1005))
        raise StopConsumer()

    async def deliver(self, message: dict) -> None:
        seat = audience(self.role)
        if message["kind"] == "questions":
            text = outbound.questions_text(message, audience=seat)
        elif message["kind"] == "state":
            questions = message.get("questions")
            text = protocol.with_server_time(
                message[seat], outbound.questions_text(questions, audience=seat) if questions else None
            )
        else:
            text = message[seat]
        await self.send(text_data=text)

    # -------------------------------------------------------------- frames

    async def dispatch(self, message: dict) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        # Channels' own dispatch first hops to the database thread (close_old_connections) for
        # every message: a thread round trip per ballot, queued behind whatever the database is
        # doing. Every database call here runs through database_sync_to_async, which closes stale
        # connections itself, so the hop bought nothing (9% of a daphne profile at 5,000 phones).
        if message["type"] != "websocket.receive":
            await handler(message)
            return
        with IN_FLIGHT.command():
            await handler(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return  # frames queued behind a close
        ref = None
        try:
            if not self.bucket.allow():
                if self.bucket.flooding:
                    self.closing = True
                    await self.close(code=CLOSE_FLOOD)
                    return
                raise DomainError("rate_limited")
            frame = protocol.decode(text_data, max_bytes=self.max_bytes)
            ref = protocol.frame_ref(frame)
            command = protocol.parse(frame, role=self.role)
            caller = inbound.Caller(
                event_id=self.event_id, user=self.scope.get("user"), participant_id=self.participant_id
            )
            spec = command.spec
            if spec.inline:
                reply = spec.handler(command, caller)
            elif spec.batched:
                # Every socket's ballots (and upvotes) go through the process's writer of their
                # kind: one transaction for all that arrived meanwhile (polls/live/votewriter.py).
                writer = WRITERS[spec.batched.writer].current()
                outcome = await writer.submit(spec.batched.request(command, caller))
                reply = spec.batched.ack(command, outcome)
            else:
                reply = await database_sync_to_async(self.run)(command, caller)
            await self.after_ack(reply)
            await self.reply(reply)
        except AccessRevoked:
            await self.revoke()
        except DomainError as exc:
            await self.reply(protocol.error_frame(ref=ref, code=exc.code, message=exc.message, **exc.details))
        except DatabaseError:
            logger.warning("database unavailable while handling a %s frame", self.role, exc_info=True)
            await self.reply(protocol.error_frame(ref=ref, code="unavailable"))
        except Exception:
            logger.exception("unexpected error handling a %s frame", self.role)
            await self.reply(protocol.error_frame(ref=ref, code="server_error"))

    def run(self, command: protocol.Command, caller: inbound.Caller) -> dict:
        """Carry out a command on the database thread; returns the reply frame."""
        return protocol.execute(
            command, event_id=caller.event_id, user=caller.user, participant_id=caller.participant_id
        )

    def still_allowed(self) -> bool:
        """Whether this connection may still follow its event, as of now (sync: reads the database)."""
        return True

    async def recheck_access(self) -> None:
        if not self.closing and not await database_sync_to_async(self.still_allowed)():
            await self.revoke()

    async def revoke(self) -> None:
        self.closing = True
        await self.close(code=CLOSE_UNAUTHORISED)

    async def after_ack(self, reply: dict) -> None:
        """Hook for per-connection bookkeeping after a command succeeded."""

    async def reply(self, frame: dict) -> None:
        if frame.get("type") == "error":
            # The catalogue's messages are lazy (polls/errors.py): rendered in this socket's page
            # language. The code stays the machine's contract.
            with translation.override(getattr(self, "language", settings.LANGUAGE_CODE)):
                frame = {**frame, "message": str(frame["message"])}
        text = protocol.dumps(frame)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # A client-chosen string with a lone surrogate (a JSON "\ud800" escape) cannot go out as
            # UTF-8; daphne would raise and drop the socket. Escape it the way it came in.
            text = json.dumps(frame, separators=(",", ":"))
        await self.send(text_data=text)


class ParticipantConsumer(EventConsumer):
    role = Role.PARTICIPANT
    my_profile_json: str | None = None  # this phone's own profile answers, serialised for its `state`

    def authorise(self, code: str) -> int | None:
        session = self.scope.get("session")
        event_id = selectors.event_id_by_code(code=code)
        self.participant_id = selectors.participant_id_from_session(session=session, event_id=event_id)
        if self.participant_id is None:
            # The cached id may belong to an event since deleted and recreated under the same code.
            event_id = selectors.event_id_by_code(code=code, fresh=True)
            self.participant_id = selectors.participant_id_from_session(session=session, event_id=event_id)
        if self.participant_id is None:
            return None
        self.follow(
            selectors.participant_ballots(participant_id=self.participant_id),
            selectors.participant_profile(participant_id=self.participant_id),
        )
        return event_id

    async def admitted(self, code: str, ip: str) -> int:
        """A phone that joined the event before (its session says so) is admitted without the
        database thread: the event id from this process's memory, the session from its cache
        (Redis in production) on a pool thread, and its earlier ballots and profile read with those of every
        phone joining meanwhile (ParticipantReader, two queries per batch). A join burst of thousands then queues no
        trip per phone in front of the ballots (issue 17). Anything else, a first connection to
        an event this process has not seen, a refusal, goes the way of admit()."""
        event_id = selectors.remembered_event_id(code=code)
        cached_data = getattr(self.scope.get("session"), "cached_data", None)  # caseboard.sessions
        if event_id is None or cached_data is None:
            return await super().admitted(code, ip)
        # A cache round trip on a pool thread (Django's async cache calls would queue it on the
        # database thread); a miss goes the way of admit().
        data = await sync_to_async(cached_data, thread_sensitive=False)()
        joined = (data or {}).get(selectors.PARTICIPANT_SESSION_KEY)
        participant_id = joined.get(str(event_id)) if isinstance(joined, dict) else None
        if not isinstance(participant_id, int):
            return await super().admitted(code, ip)
        self.participant_id = participant_id
        ballots, profile = await ParticipantReader.current().submit(participant_id)
        if self.past_admit_deadline():
            raise Refused(CLOSE_TRY_AGAIN_LATER)  # as in admit(): its client has given up
        self.follow(ballots, profile)
        return event_id

    def follow(self, ballots: dict[int, dict], profile: dict[str, str] | None) -> None:
        """What this phone's socket keeps of its participant: its ballots (for `my_vote`) and its
        profile answers (`my_profile`)."""
        self.ballots = ballots
        self._my_vote_json: dict[int | None, str] = {}
        self.resets_seen: dict[int, int] = {}
        # `?questions=delta`: this phone applies `questions_delta` frames (docs/protocol.md); the
        # version of the last questions it was sent, whole or as a delta, is their base.
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.questions_delta = query.get("questions") == ["delta"]
        self.questions_seen: int | None = None
        self.my_profile_json = protocol.dumps(protocol.my_profile(profile))

    def forget_reset_ballot(self, message: dict) -> None:
        """A poll whose votes were reset since this socket last heard of it: its ballot is gone."""
        poll_id, resets = message["poll"], message.get("resets", 0)
        if poll_id is None:
            return
        if resets > self.resets_seen.get(poll_id, resets):
            self.ballots.pop(poll_id, None)
            self._my_vote_json.pop(poll_id, None)
        self.resets_seen[poll_id] = resets

    async def deliver(self, message: dict) -> None:
        # The phone's own view of the questions: its pending ones, `mine` and `voted`.
        if message["kind"] == "questions":
            text = None
            if self.questions_delta and self.questions_seen is not None:
                if self.questions_seen >= message["version"]:
                    return  # a `state` already carried these questions, or newer ones
                text = outbound.questions_delta_text(
                    message, since=self.questions_seen, participant_id=self.participant_id
                )
            if text is None:
                text = outbound.questions_text(message, participant_id=self.participant_id)
            self.questions_seen = message["version"]
        elif message["kind"] == "state":
            self.forget_reset_ballot(message)
            questions = message.get("questions")
            if questions:
                self.questions_seen = questions["version"]
            questions_json = (
                outbound.questions_text(questions, participant_id=self.participant_id) if questions else None
            )
            text = protocol.personal_state(
                message["public"], self.my_vote_json(message["poll"]), questions_json, self.my_profile_json
            )
        else:
            text = message["public"]
        await self.send(text_data=text)

    def my_vote_json(self, poll_id: int | None) -> str:
        # Serialised once per ballot, not once per state frame: a reveal writes to every phone.
        cached = self._my_vote_json.get(poll_id)
        if cached is None:
            ballot = self.ballots.get(poll_id) if poll_id else None
            cached = self._my_vote_json[poll_id] = protocol.dumps(protocol.my_vote(poll_id, ballot))
        return cached

    async def after_ack(self, reply: dict) -> None:
        if "profile" in reply:  # the ack of a `profile` frame: the next state shows the new answers
            self.my_profile_json = protocol.dumps(protocol.my_profile(reply["profile"]))
        ballot = protocol.ballot_from_ack(reply)
        if ballot is not None:
            self.ballots[reply["poll"]] = ballot
            self._my_vote_json.pop(reply["poll"], None)


class PresenterConsumer(EventConsumer):
    role = Role.PRESENTER

    def authorise(self, code: str) -> int | None:
        event = selectors.event_by_code(code=code)
        ok = selectors.may_present(user=self.scope.get("user"), session=self.scope.get("session"), event=event)
        return event.id if ok else None

    def still_allowed(self) -> bool:
        session = self.scope.get("session")
        event = selectors.event_by_id(event_id=self.event_id)
        if selectors.presenter_key_granted(session=session, event=event):
            return True
        user = self.scope.get("user")
        return selectors.user_still_moderates(
            user_id=getattr(user, "pk", None), session_key=getattr(session, "session_key", None), event_id=event.id
        )


class ModeratorConsumer(EventConsumer):
    role = Role.MODERATOR
    frame_budget = "RATE_LIMIT_MODERATOR_FRAMES"

    def authorise(self, code: str) -> int | None:
        try:
            return selectors.event_for_moderator(user=self.scope.get("user"), code=code).id
        except selectors.EventNotFound:
            return None

    def still_allowed(self) -> bool:
        user, session = self.scope.get("user"), self.scope.get("session")
        return selectors.user_still_moderates(
            user_id=getattr(user, "pk", None), session_key=getattr(session, "session_key", None), event_id=self.event_id
        )

    def run(self, command: protocol.Command, caller: inbound.Caller) -> dict:
        # Authorised as of now, not as of the handshake: a logout, a removal from the event or a
        # deactivated account stops the next command (and the socket) at once.
        if not self.still_allowed():
            raise AccessRevoked
        return super().run(command, caller)


class PanelistConsumer(ParticipantConsumer):
    """Faculty voting from their own view: the same ballots, counted apart from the audience.

    A panelist is either a browser that opened a panelist link (the invitation, kept in its
    session) or a logged-in account on the event's panel."""

    role = Role.PANELIST
    invited: bool = False
    # The panel answers no profile questions: its state carries no `my_profile` (the class default).

    def authorise(self, code: str) -> int | None:
        event = selectors.event_by_code(code=code)
        session = self.scope.get("session")
        self.participant_id = selectors.invited_panelist_id(session=session, event_id=event.id)
        self.invited = self.participant_id is not None
        if not self.invited:
            user = self.scope.get("user")
            if not user or not user.is_authenticated:
                return None
            try:
                self.participant_id = services.panelist_participant(event=event, user=user).id
            except DomainError:
                return None
        self.ballots = selectors.participant_ballots(participant_id=self.participant_id)
        self._my_vote_json: dict[int | None, str] = {}
        self.resets_seen: dict[int, int] = {}
        return event.id

    def still_allowed(self) -> bool:
        # An invited panelist holds the panel only while the link stands: a withdrawn link
        # closes the socket (services.panelist_invitation_revoke announces the change).
        if not self.invited:
            return True
        invited_now = selectors.invited_panelist_id(session=self.scope.get("session"), event_id=self.event_id)
        return invited_now == self.participant_id
