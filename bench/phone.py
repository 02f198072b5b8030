"""One simulated client of the benchmark (a phone or the moderator) and what it saw, with timestamps."""

from __future__ import annotations

import asyncio
import json
import time

from bench import wsclient

loads = json.loads
# As static/js/live.js: these errors mean "send the same ref again", 2 s later.
RETRY_CODES = {"unavailable", "server_error", "rate_limited"}
VOTE_RETRY_S = 2.0


def wall_us() -> int:
    return time.time_ns() // 1000


def error_name(exc: BaseException) -> str:
    if isinstance(exc, wsclient.HandshakeError):
        return f"http_{exc.status}" if exc.status else "closed_during_handshake"
    return type(exc).__name__


class Client:
    """One websocket client (a phone or the moderator) and what it saw."""

    def __init__(self, plan: dict, session: str, *, moderator: bool = False) -> None:
        base = plan["url"].rstrip("/")
        self.url = f"{base}/ws/e/{plan['code']}/" + ("moderate/" if moderator else "")
        self.origin = plan["origin"]
        self.session = session
        self.conn: wsclient.Connection | None = None
        self.state_fut: asyncio.Future | None = None
        self.waiters: dict[str, asyncio.Future] = {}
        self.open_event = asyncio.Event()
        self.recording = False
        self.frames: list[tuple[float, int, int]] = []  # broadcast results seen while recording
        self.last_version = -1
        self.last_total: int | None = None
        self.results_received = 0
        self.reveal_armed = False
        self.counts_at: float | None = None
        self.counts_total: int | None = None
        self.my_vote = None
        self.state_results_total: int | None = None
        self.vote: dict | None = None
        self.stray_errors = 0

    @property
    def connected(self) -> bool:
        return self.conn is not None and self.conn.is_open

    async def open(self) -> float:
        """Connect and wait for the first `state`; seconds from dialling to that frame."""
        start = time.monotonic()
        state_fut = self.state_fut = asyncio.get_running_loop().create_future()
        self.conn = await wsclient.connect(
            self.url, origin=self.origin, cookie=f"sessionid={self.session}", on_text=self.on_text
        )
        self.conn.closed.add_done_callback(lambda _: self._closed(state_fut))
        if await state_fut is None:
            raise ConnectionError("closed before state")
        return time.monotonic() - start

    def drop(self) -> None:
        """A network loss: the socket goes away without a closing handshake."""
        if self.conn is not None:
            self.conn.abort()

    def _closed(self, state_fut: asyncio.Future) -> None:
        if not state_fut.done():
            state_fut.set_result(None)
        for fut in self.waiters.values():
            if not fut.done():
                fut.set_result(None)
        self.waiters.clear()

    def on_text(self, text: str) -> None:
        self.on_frame(loads(text))

    def on_frame(self, frame: dict) -> None:
        now = time.monotonic()
        kind = frame.get("type")
        if kind == "results":
            self.on_results(now, frame)
        elif kind == "state":
            poll = frame.get("poll")
            if poll and poll.get("state") == "open":
                self.open_event.set()
            self.my_vote = frame.get("my_vote")
            results = frame.get("results")
            self.state_results_total = results.get("total") if results else None
            if results:
                self.on_results(now, results)
            if self.state_fut is not None and not self.state_fut.done():
                self.state_fut.set_result(now)
        elif kind in ("ack", "error"):
            own = frame.get("results")
            if kind == "ack" and isinstance(own, dict) and own.get("poll") == frame.get("poll"):
                self.accept_own_total(own)
            fut = self.waiters.pop(frame.get("ref"), None)
            if fut is not None and not fut.done():
                fut.set_result((now, wall_us(), frame))
            elif kind == "error":
                self.stray_errors += 1

    def on_results(self, now: float, results: dict) -> None:
        if self.reveal_armed and self.counts_at is None and "counts" in results:
            self.counts_at = now
            self.counts_total = sum(results["counts"].values())
        version = results.get("version", 0)
        if version < self.last_version:
            return  # stale: a client drops it
        self.last_version = version
        self.last_total = results.get("total")
        self.results_received += 1
        if self.recording:
            self.frames.append((now, version, self.last_total))

    def accept_own_total(self, results: dict) -> None:
        """A vote ack's total (it includes the vote): shown like a results frame, not one more frame."""
        version = results.get("version", 0)
        if version >= self.last_version:
            self.last_version = version
            self.last_total = results.get("total")

    async def request(self, frame: dict, wait_s: float):
        """Send a frame with a ref and wait for its ack or error: (monotonic, wall µs, frame) or None."""
        fut = asyncio.get_running_loop().create_future()
        self.waiters[frame["ref"]] = fut
        try:
            if self.conn is None or not self.conn.send_text(json.dumps(frame)):
                return None
            return await asyncio.wait_for(fut, wait_s)
        except TimeoutError:
            return None
        finally:
            self.waiters.pop(frame["ref"], None)

    async def cast(self, *, at: float, poll: int, option: int, ref: str, ack_timeout: float) -> None:
        """Vote at a pre-drawn time (once the poll shows as open), retrying `unavailable` with the same ref."""
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        if not self.connected:
            self.vote = {"error": "disconnected"}
            return
        if not self.open_event.is_set():
            try:
                await asyncio.wait_for(self.open_event.wait(), 10)
            except TimeoutError:
                pass
        record: dict = {"send": time.monotonic(), "option": option, "retries": 0}
        self.vote = record
        deadline = record["send"] + ack_timeout
        frame = {"type": "vote", "ref": ref, "poll": poll, "options": [option]}
        for attempt in range(4):
            answer = await self.request(frame, max(0.1, deadline - time.monotonic()))
            if answer is None:
                record["error"] = "closed" if not self.connected else "ack_timeout"
                return
            now, wall, reply = answer
            if reply["type"] == "ack":
                record.update(ack=now, ack_wall=wall, ack_total="results" in reply)
                record.pop("error", None)
                return
            record["error"] = reply.get("code")
            if record["error"] not in RETRY_CODES or attempt == 3:
                return
            record["retries"] += 1
            await asyncio.sleep(VOTE_RETRY_S)


def vote_to_screen(phone: Client, final_total: int | None) -> float | None:
    """Send → the phone first shows a total that includes its vote: its ack's, or a broadcast's."""
    vote = phone.vote or {}
    if vote.get("ack_total"):
        return vote["ack"] - vote["send"]
    return vote_to_broadcast(phone, phone, final_total)


def vote_to_broadcast(phone: Client, viewer: Client, final_total: int | None) -> float | None:
    """Send → first broadcast results frame on `viewer` that provably includes the phone's vote
    (see docs/benchmarks.md); `viewer` is the phone itself or the moderator's console."""
    vote = phone.vote or {}
    if "ack" not in vote:
        return None
    for at, version, total in viewer.frames:
        if at < vote["send"]:
            continue
        if version > vote["ack_wall"] or (final_total is not None and total == final_total):
            return at - vote["send"]
    return None
