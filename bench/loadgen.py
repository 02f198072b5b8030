"""Load generator: N phones and one moderator against one server, four scenarios, every wait bounded.

    python -m bench.loadgen --plan plan.json --out result.json

The plan (written by bench/run.py) names the server, the event, the poll, the session keys
and the timings. All random draws (join times, vote times and choices, reconnect jitter) come
from the plan's seed, so every system under test sees the same load. Results are written after
each scenario, so a run cut short still leaves what it measured. Only 127.0.0.1 is contacted.
Definitions of every figure are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import time
from collections import Counter

from bench import wsclient
from bench.monitor import Monitor
from bench.stats import latency_summary

loads = json.loads
RETRY_CODES = {"unavailable", "server_error"}
OPTION_WEIGHTS = (0.4, 0.3, 0.2, 0.1)


def wall_us() -> int:
    return time.time_ns() // 1000


def error_name(exc: BaseException) -> str:
    if isinstance(exc, wsclient.HandshakeError):
        return f"http_{exc.status}" if exc.status else "handshake_failed"
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
        self.frames: list[tuple[float, int, int]] = []
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
                record.update(ack=now, ack_wall=wall)
                record.pop("error", None)
                return
            record["error"] = reply.get("code")
            if record["error"] not in RETRY_CODES or attempt == 3:
                return
            record["retries"] += 1
            await asyncio.sleep(0.2 * 2**attempt)


def vote_to_screen(phone: Client, final_total: int | None) -> float | None:
    """Send → first results frame that provably includes the vote (see docs/benchmarks.md)."""
    vote = phone.vote or {}
    if "ack" not in vote:
        return None
    for at, version, total in phone.frames:
        if at < vote["send"]:
            continue
        if version > vote["ack_wall"] or (final_total is not None and total == final_total):
            return at - vote["send"]
    return None


class Generator:
    def __init__(self, plan: dict) -> None:
        self.plan = plan
        self.t = plan["timing"]
        self.phones = [Client(plan, key) for key in plan["sessions"]]
        self.moderator = Client(plan, plan["moderator_session"], moderator=True)
        self.monitor = Monitor(plan["server_pid"])
        rng = random.Random(plan["seed"])
        n = len(self.phones)
        self.join_at = [rng.uniform(0, self.t["join_spread_s"]) for _ in range(n)]
        self.vote_at = [rng.uniform(0, self.t["vote_window_s"]) for _ in range(n)]
        self.choice = rng.choices(plan["options"], weights=OPTION_WEIGHTS[: len(plan["options"])], k=n)
        self.rejoin_at = [rng.uniform(0, self.t["reconnect_spread_s"]) for _ in range(n)]
        self.out: dict = {"phones": n, "scenarios": {}}

    def write(self, path: str) -> None:
        with open(path, "w") as fh:
            json.dump(self.out, fh, indent=1)

    async def _connect_all(self, offsets: list[float]) -> tuple[list[float], Counter, float]:
        t0 = time.monotonic()
        times: list[float] = []
        errors: Counter = Counter()
        last = [t0]

        async def one(phone: Client, offset: float) -> None:
            await asyncio.sleep(offset)
            try:
                times.append(await asyncio.wait_for(phone.open(), self.t["open_timeout_s"]))
                last[0] = max(last[0], time.monotonic())
            except Exception as exc:
                phone.drop()
                errors[error_name(exc)] += 1

        tasks = [asyncio.ensure_future(one(p, o)) for p, o in zip(self.phones, offsets, strict=True)]
        _, pending = await asyncio.wait(tasks, timeout=max(offsets, default=0) + self.t["open_timeout_s"] + 5)
        for task in pending:
            task.cancel()
        errors["unfinished"] += len(pending)
        return times, errors, last[0] - t0

    async def join(self) -> dict:
        start = self.monitor.snapshot()
        times, errors, burst = await self._connect_all(self.join_at)
        end = self.monitor.snapshot()
        connected = sum(p.connected for p in self.phones)
        usage = self.monitor.phase(start, end, phones=connected)
        added = max(0, usage["server_rss_peak_mb"] - usage["server_rss_start_mb"])
        return {
            "connected": connected,
            "failed": len(self.phones) - len(times),
            "errors": dict(+errors),
            "join_latency": latency_summary(times),
            "last_state_after_s": round(burst, 2),
            "server_rss_added_per_1000_mb": round(added / max(connected, 1) * 1000, 1),
            **usage,
        }

    async def vote(self) -> dict:
        for phone in self.phones:
            phone.recording, phone.frames = True, []
        self.moderator.recording = True
        start = self.monitor.snapshot()
        opened = await self.moderator.request(
            {"type": "open_poll", "ref": "open-1", "poll": self.plan["poll"]}, self.t["command_timeout_s"]
        )
        if opened is None or opened[2]["type"] != "ack":
            return {
                "error": f"open_poll failed: {opened and opened[2]}",
                **self.monitor.phase(start, self.monitor.snapshot(), phones=0),
            }
        t0 = time.monotonic()
        connected = [i for i, p in enumerate(self.phones) if p.connected]
        tasks = [
            asyncio.ensure_future(
                self.phones[i].cast(
                    at=t0 + self.vote_at[i],
                    poll=self.plan["poll"],
                    option=self.choice[i],
                    ref=f"v{i}",
                    ack_timeout=self.t["ack_timeout_s"],
                )
            )
            for i in connected
        ]
        _, pending = await asyncio.wait(tasks, timeout=self.t["vote_window_s"] + self.t["ack_timeout_s"] + 15)
        for task in pending:
            task.cancel()
        votes = [self.phones[i].vote or {} for i in connected]
        acked = sum("ack" in v for v in votes)
        last_ack = max((v["ack"] for v in votes if "ack" in v), default=time.monotonic())
        converged_at = await self._settle(acked)
        end = self.monitor.snapshot()
        final_total = self.moderator.last_total
        v2s = [x for x in (vote_to_screen(self.phones[i], final_total) for i in connected) if x is not None]
        for phone in self.phones:
            phone.recording = False
        return {
            "connected": len(connected),
            "sent": sum("send" in v for v in votes),
            "acked": acked,
            "errors": dict(Counter(v["error"] for v in votes if "error" in v)),
            "retries": sum(v.get("retries", 0) for v in votes),
            "unfinished": len(pending),
            "ack_latency": latency_summary(v["ack"] - v["send"] for v in votes if "ack" in v),
            "vote_to_screen": latency_summary(v2s),
            "saw_own_vote": len(v2s),
            "final_total_seen_by_moderator": final_total,
            "last_total_histogram": dict(Counter(str(self.phones[i].last_total) for i in connected)),
            "converged_after_last_ack_s": None if converged_at is None else round(converged_at - last_ack, 2),
            "results_frames_per_phone": round(
                sum(self.phones[i].results_received for i in connected) / max(len(connected), 1), 1
            ),
            "vote_window_s": round(last_ack - t0, 2),
            **self.monitor.phase(start, end, phones=len(connected)),
        }

    async def _settle(self, acked: int) -> float | None:
        """Wait until every connected phone shows the moderator's latest total (at least the acks)."""
        deadline = time.monotonic() + self.t["settle_timeout_s"]
        while time.monotonic() < deadline:
            final = self.moderator.last_total
            if final is not None and final >= acked:
                if all(p.last_total == final for p in self.phones if p.connected):
                    return time.monotonic()
            await asyncio.sleep(0.1)
        return None

    async def reveal(self) -> dict:
        start = self.monitor.snapshot()
        timeout = self.t["command_timeout_s"]
        closed = await self.moderator.request(
            {"type": "close_poll", "ref": "close-1", "poll": self.plan["poll"]}, timeout
        )
        connected = [p for p in self.phones if p.connected]
        for phone in self.phones:
            phone.reveal_armed, phone.counts_at = True, None
        t0 = time.monotonic()
        revealed = await self.moderator.request(
            {"type": "reveal_results", "ref": "reveal-1", "poll": self.plan["poll"]}, timeout
        )
        deadline = time.monotonic() + self.t["reveal_timeout_s"]
        while time.monotonic() < deadline and any(p.counts_at is None for p in connected if p.connected):  # noqa: ASYNC110 (polls many clients)
            await asyncio.sleep(0.02)
        end = self.monitor.snapshot()
        reached = [p.counts_at - t0 for p in connected if p.counts_at is not None]
        return {
            "connected": len(connected),
            "close_ack": bool(closed and closed[2]["type"] == "ack"),
            "reveal_ack": bool(revealed and revealed[2]["type"] == "ack"),
            "reached": len(reached),
            "reveal_latency": latency_summary(reached),
            "reveal_to_last_phone_ms": round(1000 * max(reached), 1)
            if len(reached) == len(connected) and reached
            else None,
            "counts_total_histogram": dict(Counter(str(p.counts_total) for p in connected)),
            **self.monitor.phase(start, end, phones=len(connected)),
        }

    async def reconnect(self) -> dict:
        start = self.monitor.snapshot()
        closing = [p.conn.closed for p in self.phones if p.connected]
        for phone in self.phones:
            phone.drop()
        if closing:
            await asyncio.wait(closing, timeout=10)
        for phone in self.phones:
            phone.my_vote, phone.state_results_total = None, None
        times, errors, burst = await self._connect_all(self.rejoin_at)
        end = self.monitor.snapshot()
        final = self.moderator.last_total
        voted = [p for p in self.phones if p.vote and "ack" in p.vote and p.connected]
        correct = [p for p in voted if p.my_vote and p.my_vote.get("options") == [p.vote["option"]]]
        return {
            "phones": len(self.phones),
            "reconnected": sum(p.connected for p in self.phones),
            "failed": len(self.phones) - len(times),
            "errors": dict(+errors),
            "resync_latency": latency_summary(times),
            "last_state_after_s": round(burst, 2),
            "my_vote_correct": len(correct),
            "my_vote_expected": len(voted),
            "state_total_final": sum(p.state_results_total == final for p in self.phones if p.connected),
            **self.monitor.phase(start, end, phones=len(self.phones)),
        }

    async def run(self, out: str) -> None:
        self.monitor.start()
        lag = asyncio.ensure_future(self.monitor.watch_loop_lag())
        try:
            await asyncio.wait_for(self.moderator.open(), self.t["open_timeout_s"])
            for name in ("join", "vote", "reveal", "reconnect"):
                self.out["scenarios"][name] = await getattr(self, name)()
                self.write(out)
        finally:
            lag.cancel()
            self.monitor.stop()
            for client in [self.moderator, *self.phones]:
                client.drop()
            self.write(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.loadgen")
    parser.add_argument("--plan", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    with open(args.plan) as fh:
        plan = json.load(fh)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    async def go() -> None:
        await Generator(plan).run(args.out)

    try:
        import uvloop

        uvloop.run(go())
    except ImportError:
        asyncio.run(go())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
