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

from bench.monitor import Monitor
from bench.phone import Client, error_name, vote_to_broadcast, vote_to_screen
from bench.stats import latency_summary

OPTION_WEIGHTS = (0.4, 0.3, 0.2, 0.1)


def backoff_delay(attempt: int, rng: random.Random) -> float:
    """static/js/live.js: 0.5 s doubling to 15 s, with +/-50% jitter."""
    return min(15.0, 0.5 * 2 ** min(attempt, 10)) * (0.5 + rng.random())


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
        self.jitter = random.Random(plan["seed"] + 1)
        self.out: dict = {"phones": n, "scenarios": {}}

    def write(self, path: str) -> None:
        with open(path, "w") as fh:
            json.dump(self.out, fh, indent=1)

    async def _connect_all(self, offsets: list[float]) -> dict:
        """Dial every phone at its offset; a failed phone retries with live.js's backoff until the window closes."""
        t0 = time.monotonic()
        deadline = t0 + max(offsets, default=0) + self.t["retry_window_s"]
        times: list[float] = []
        first: Counter = Counter()
        every: Counter = Counter()
        attempts = Counter()
        last = [t0]

        async def one(phone: Client, offset: float) -> None:
            await asyncio.sleep(offset)
            started = time.monotonic()
            for attempt in range(1000):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                attempts["total"] += 1
                try:
                    await asyncio.wait_for(phone.open(), min(self.t["open_timeout_s"], remaining))
                    times.append(time.monotonic() - started)
                    last[0] = max(last[0], time.monotonic())
                    return
                except Exception as exc:
                    phone.drop()
                    every[error_name(exc)] += 1
                    if attempt == 0:
                        first[error_name(exc)] += 1
                await asyncio.sleep(backoff_delay(attempt, self.jitter))

        tasks = [asyncio.ensure_future(one(p, o)) for p, o in zip(self.phones, offsets, strict=True)]
        _, pending = await asyncio.wait(tasks, timeout=deadline - t0 + 5)
        for task in pending:
            task.cancel()
        connected = sum(p.connected for p in self.phones)
        return {
            "connected": connected,
            "failed": len(self.phones) - len(times),
            "refused_first_attempt": sum(first.values()),
            "first_attempt_errors": dict(first),
            "errors": dict(every),
            "attempts": attempts["total"],
            "latency": latency_summary(times),
            "last_state_after_s": round(last[0] - t0, 2),
        }

    async def join(self) -> dict:
        start = self.monitor.snapshot()
        dialled = await self._connect_all(self.join_at)
        end = self.monitor.snapshot()
        usage = self.monitor.phase(start, end, phones=dialled["connected"])
        added = max(0, usage["server_rss_peak_mb"] - usage["server_rss_start_mb"])
        dialled["join_latency"] = dialled.pop("latency")
        return {
            **dialled,
            "server_rss_added_per_1000_mb": round(added / max(dialled["connected"], 1) * 1000, 1),
            **usage,
        }

    async def vote(self) -> dict:
        for phone in self.phones:
            phone.recording, phone.frames = True, []
        self.moderator.recording, self.moderator.frames = True, []
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
        v2b = [x for x in (vote_to_broadcast(self.phones[i], self.phones[i], final_total) for i in connected)]
        v2p = [x for x in (vote_to_broadcast(self.phones[i], self.moderator, final_total) for i in connected)]
        for phone in [*self.phones, self.moderator]:
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
            "vote_to_broadcast": latency_summary(x for x in v2b if x is not None),
            "vote_to_console": latency_summary(x for x in v2p if x is not None),
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
        dialled = await self._connect_all(self.rejoin_at)
        end = self.monitor.snapshot()
        final = self.moderator.last_total
        voted = [p for p in self.phones if p.vote and "ack" in p.vote and p.connected]
        correct = [p for p in voted if p.my_vote and p.my_vote.get("options") == [p.vote["option"]]]
        dialled["resync_latency"] = dialled.pop("latency")
        return {
            "phones": len(self.phones),
            "reconnected": dialled.pop("connected"),
            **dialled,
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
