"""Resource sampling for a benchmark run: the server's CPU and RSS, the generator's own CPU and loop lag.

A background thread samples every `period` seconds with psutil, so the numbers keep coming
even when the generator's event loop is busy. Scenarios mark their start and end; the summary of
a phase is computed from the samples inside it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

import psutil

# A generator core above this share of a core during a phase makes its latencies suspect.
SATURATION_PCT = 90.0
# Other processes (not the server, not the generator) using more than this share of a core make a
# phase "contended": its numbers are not clean measurements of the system under test.
CONTENTION_PCT = 20.0


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def server_usage(pid: int) -> tuple[float, int]:
    """CPU seconds (user + system) and RSS bytes of the server process and its children."""
    cpu, rss = 0.0, 0
    for proc in _tree(pid):
        try:
            with proc.oneshot():
                times = proc.cpu_times()
                cpu += times.user + times.system
                rss += proc.memory_info().rss
        except psutil.Error:
            continue
    return cpu, rss


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores, everything but idle and iowait)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


@dataclass
class Sample:
    t: float
    server_cpu_s: float
    server_rss: int
    gen_cpu_s: float
    machine_busy_s: float


@dataclass
class Monitor:
    server_pid: int
    period: float = 0.25
    samples: list[Sample] = field(default_factory=list)
    lags: list[tuple[float, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self._me = psutil.Process()
        self._thread = threading.Thread(target=self._run, name="bench-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self._sample())
            self._stop.wait(self.period)

    def _sample(self) -> Sample:
        cpu, rss = server_usage(self.server_pid)
        me = self._me.cpu_times()
        return Sample(time.monotonic(), cpu, rss, me.user + me.system, busy_seconds())

    async def watch_loop_lag(self, step: float = 0.05) -> None:
        """Record how late the generator's event loop wakes up: a busy generator shows up here."""
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(step)
            self.lags.append((time.monotonic(), loop.time() - before - step))

    def snapshot(self) -> Sample:
        return self._sample()

    def phase(self, start: Sample, end: Sample, *, phones: int) -> dict:
        """Server CPU and memory, generator load and other processes' load between two snapshots."""
        t0, cpu0, rss0 = start.t, start.server_cpu_s, start.server_rss
        t1, cpu1 = end.t, end.server_cpu_s
        inside = [start, *(s for s in self.samples if t0 < s.t < t1), end]
        peak_rss = max(s.server_rss for s in inside)
        wall = max(t1 - t0, 1e-9)
        gen_avg = 100 * (end.gen_cpu_s - start.gen_cpu_s) / wall
        gen_max = max(
            (
                100 * (b.gen_cpu_s - a.gen_cpu_s) / (b.t - a.t)
                for a, b in zip(inside, inside[1:], strict=False)
                if b.t - a.t > 0.1
            ),
            default=gen_avg,
        )
        foreign = (end.machine_busy_s - start.machine_busy_s) - (cpu1 - cpu0) - (end.gen_cpu_s - start.gen_cpu_s)
        lags = [lag for t, lag in self.lags if t0 <= t <= t1] or [0.0]
        per_k = max(phones, 1) / 1000
        return {
            "wall_s": round(wall, 2),
            "server_cpu_s": round(cpu1 - cpu0, 2),
            "server_cpu_pct_of_core": round(100 * (cpu1 - cpu0) / wall, 1),
            "server_cpu_s_per_1000_phones": round((cpu1 - cpu0) / per_k, 3),
            "server_rss_start_mb": round(rss0 / 2**20, 1),
            "server_rss_peak_mb": round(peak_rss / 2**20, 1),
            "server_rss_peak_per_1000_mb": round(peak_rss / 2**20 / per_k, 1),
            "generator_cpu_avg_pct": round(gen_avg, 1),
            "generator_cpu_max_pct": round(gen_max, 1),
            "generator_loop_lag_max_ms": round(1000 * max(lags), 1),
            "generator_saturated": gen_avg >= SATURATION_PCT,
            "other_processes_cpu_pct": round(max(0.0, 100 * foreign / wall), 1),
            "contended": 100 * foreign / wall >= CONTENTION_PCT,
        }
