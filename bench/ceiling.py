"""The ceiling: a bare `websockets` broadcast server speaking the subset of the protocol the benchmark uses.

No Django, no database, no channel layer: ballots live in a dict. It accepts phones on
`/ws/e/<CODE>/` (identified by their `sessionid` cookie) and the moderator on
`/ws/e/<CODE>/moderate/`, sends a `state` frame on connect, acks votes, and broadcasts results
coalesced like Caseboard (at most one frame per interval, a final exact frame when votes stop),
each frame serialised once. `GET /count.json` returns the tally so the harness can compare it
with the acks. Bound to 127.0.0.1 only.

    python -m bench.ceiling --port 8765 --poll 1 --options 1,2,3,4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from http import HTTPStatus
from http.cookies import SimpleCookie

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

PATH = re.compile(r"^/ws/e/(?P<code>[A-Za-z0-9]{1,16})/(?P<moderate>moderate/)?$")


def dumps(frame: dict) -> str:
    return json.dumps(frame, separators=(",", ":"))


def now_us() -> int:
    return time.time_ns() // 1000


class Room:
    def __init__(self, *, poll_id: int, option_ids: list[int], interval: float) -> None:
        self.poll_id = poll_id
        self.option_ids = option_ids
        self.interval = interval
        self.poll_state = "draft"
        self.visible = False
        self.version = 1
        self.ballots: dict[str, tuple[int, ...]] = {}
        self.receipts: dict[tuple[str, str], tuple[int, ...]] = {}
        self.phones: set[ServerConnection] = set()
        self.moderators: set[ServerConnection] = set()
        self.dirty = False
        self.flusher: asyncio.Task | None = None
        self.last_flush = 0.0

    # -------------------------------------------------------------- frames

    def tally(self) -> tuple[int, dict[str, int]]:
        counts = {str(oid): 0 for oid in self.option_ids}
        for ballot in self.ballots.values():
            for oid in ballot:
                counts[str(oid)] += 1
        return len(self.ballots), counts

    def results(self, *, with_counts: bool) -> dict:
        version = now_us()
        total, counts = self.tally()
        frame = {"type": "results", "poll": self.poll_id, "total": total, "version": version}
        if with_counts:
            frame["counts"] = counts
        return frame

    def state(self, *, moderator: bool) -> dict:
        poll = {
            "id": self.poll_id,
            "case": 1,
            "kind": "single",
            "question": "What next?",
            "state": self.poll_state,
            "results_visible": self.visible,
            "options": [{"id": oid, "label": f"Option {oid}"} for oid in self.option_ids],
        }
        results = None
        if self.poll_state != "draft":
            results = self.results(with_counts=moderator or self.visible)
        return {
            "type": "state",
            "version": self.version,
            "event": {"id": 1, "code": "BENCH", "title": "Benchmark plenary", "status": "live"},
            "case": {"id": 1, "title": "Bench case"},
            "poll": poll,
            "results": results,
            "teaching_points": [],
        }

    def broadcast_state(self) -> None:
        self.version += 1
        broadcast(self.phones, dumps(self.state(moderator=False)))
        broadcast(self.moderators, dumps(self.state(moderator=True)))

    def broadcast_results(self) -> None:
        public = self.results(with_counts=self.visible)
        broadcast(self.phones, dumps(public))
        broadcast(self.moderators, dumps({**public, "counts": self.tally()[1]}))

    # ---------------------------------------------------------- coalescing

    def mark_dirty(self) -> None:
        self.dirty = True
        if self.flusher is None:
            self.flusher = asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.dirty:
                wait = self.last_flush + self.interval - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self.dirty = False
                self.last_flush = loop.time()
                self.broadcast_results()
        finally:
            self.flusher = None

    # ------------------------------------------------------------ commands

    def vote(self, who: str, frame: dict) -> dict:
        ref = frame.get("ref")
        options = frame.get("options")
        if not isinstance(ref, str) or not isinstance(options, list) or frame.get("poll") != self.poll_id:
            return {"type": "error", "ref": ref if isinstance(ref, str) else None, "code": "bad_request"}
        ballot = tuple(options)
        seen = self.receipts.get((who, ref))
        if seen is not None:
            if seen == ballot:
                return {"type": "ack", "ref": ref, "poll": self.poll_id, "options": list(ballot)}
            return {"type": "error", "ref": ref, "code": "idempotency_conflict"}
        if self.poll_state != "open":
            return {
                "type": "error",
                "ref": ref,
                "code": "poll_closed" if self.poll_state == "closed" else "poll_not_open",
            }
        if len(ballot) != 1 or ballot[0] not in self.option_ids:
            return {"type": "error", "ref": ref, "code": "invalid_option"}
        self.receipts[(who, ref)] = ballot
        if self.ballots.get(who) != ballot:
            self.ballots[who] = ballot
            self.mark_dirty()
        return {"type": "ack", "ref": ref, "poll": self.poll_id, "options": list(ballot)}

    def moderate(self, frame: dict) -> dict:
        kind, ref = frame.get("type"), frame.get("ref")
        if kind == "open_poll":
            self.poll_state = "open"
        elif kind == "close_poll":
            self.poll_state = "closed"
        elif kind == "reveal_results":
            self.visible = True
        elif kind == "hide_results":
            self.visible = False
        elif kind == "ping":
            return {"type": "pong", "ref": ref}
        else:
            return {"type": "error", "ref": ref, "code": "unknown_type"}
        self.broadcast_state()
        return {"type": "ack", "ref": ref, "poll": self.poll_id}


def _session(connection: ServerConnection) -> str | None:
    cookie = SimpleCookie()
    cookie.load(connection.request.headers.get("Cookie", ""))
    morsel = cookie.get("sessionid")
    return morsel.value if morsel else None


def make_handlers(room: Room):
    def process_request(connection: ServerConnection, request):
        if request.path == "/count.json":
            total, counts = room.tally()
            return connection.respond(HTTPStatus.OK, dumps({"votes": total, "choices": total, "counts": counts}) + "\n")
        if not PATH.match(request.path):
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        if not request.headers.get("Origin", "").startswith("http://127.0.0.1"):
            return connection.respond(HTTPStatus.FORBIDDEN, "bad origin\n")
        return None

    async def handler(connection: ServerConnection) -> None:
        moderator = bool(PATH.match(connection.request.path)["moderate"])
        who = _session(connection) or f"anon-{id(connection)}"
        members = room.moderators if moderator else room.phones
        state = room.state(moderator=moderator)
        if not moderator:
            ballot = room.ballots.get(who)
            state["my_vote"] = {"poll": room.poll_id, "options": list(ballot)} if ballot else None
        members.add(connection)
        try:
            await connection.send(dumps(state))
            async for text in connection:
                try:
                    frame = json.loads(text)
                except ValueError:
                    await connection.send(dumps({"type": "error", "ref": None, "code": "invalid_json"}))
                    continue
                if moderator:
                    reply = room.moderate(frame)
                elif frame.get("type") == "vote":
                    reply = room.vote(who, frame)
                elif frame.get("type") == "ping":
                    reply = {"type": "pong", "ref": frame.get("ref")}
                else:
                    reply = {"type": "error", "ref": frame.get("ref"), "code": "forbidden"}
                await connection.send(dumps(reply))
        except ConnectionClosed:
            pass  # a phone that dropped (the reconnect storm aborts every socket)
        finally:
            members.discard(connection)

    return process_request, handler


async def serve_forever(port: int, room: Room) -> None:
    process_request, handler = make_handlers(room)
    async with serve(
        handler,
        "127.0.0.1",
        port,
        process_request=process_request,
        compression=None,
        ping_interval=20,
        ping_timeout=20,
        backlog=2048,
        max_size=2**16,
    ) as server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.ceiling")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--poll", type=int, default=1)
    parser.add_argument("--options", default="1,2,3,4")
    parser.add_argument("--interval", type=float, default=0.25, help="results coalescing interval (s)")
    args = parser.parse_args(argv)
    room = Room(poll_id=args.poll, option_ids=[int(x) for x in args.options.split(",")], interval=args.interval)
    try:
        import uvloop

        uvloop.run(serve_forever(args.port, room))
    except ImportError:
        asyncio.run(serve_forever(args.port, room))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
