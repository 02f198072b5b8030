"""The benchmark's smoke profile, end to end: a few hundred phones against Caseboard on daphne.

It asserts correctness only (everyone joins, acked = counted, nothing doubled, every phone
converges on the final tally, the reveal and the reconnect storm reach everyone). Timings are
recorded in the JSON but never asserted: they belong to docs/benchmarks.md.

The before / after comparison (`--baseline`) is checked on made-up records: which runs pair up,
and where its noise band draws the line. It runs no server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import compare
from bench.run import schedule

ROOT = Path(__file__).resolve().parent.parent


def test_smoke_profile_is_correct(tmp_path):
    out = tmp_path / "smoke.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--profile", "smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.exists(), done.stdout + done.stderr
    (run,) = json.loads(out.read_text())["runs"]
    verdict = run["correctness"]
    assert verdict["problems"] == [], done.stdout
    phones = run["phones"]
    assert verdict["acked"] == verdict["counted"] == phones
    assert verdict["acked_equals_counted"] is True
    assert verdict["share_final_tally"] == 1.0
    assert verdict["reveal_reached_share"] == 1.0
    assert verdict["reconnected_share"] == 1.0
    assert verdict["my_vote_correct_share"] == 1.0
    assert run["database"]["participants_with_two_votes"] == 0
    assert run["database"]["choices"] == phones
    assert done.returncode == 0, done.stdout + done.stderr


def _record(system: str, *, ack_p99_ms: float, ok: bool = True, phones: int = 2000) -> dict:
    scenarios = {"join": {"connected": phones}, "vote": {"ack_latency": {"p99_ms": ack_p99_ms}}}
    return {"system": system, "phones": phones, "generator": {"scenarios": scenarios}, "correctness": {"ok": ok}}


def test_before_after_pairs_each_baseline_run_with_the_current_run_of_its_system():
    runs = [
        _record("daphne@7d6a9eb", ack_p99_ms=1000),
        _record("daphne", ack_p99_ms=1400),  # 1.4x: inside the band
        _record("uvicorn@7d6a9eb", ack_p99_ms=400),
        _record("uvicorn", ack_p99_ms=700),  # 1.75x and 300 ms apart: worse
        _record("ceiling", ack_p99_ms=50),
    ]
    daphne, uvicorn = compare.before_after(runs)
    assert (daphne["system"], daphne["baseline"], daphne["verdict"]) == ("daphne", "daphne@7d6a9eb", "not worse")
    assert daphne["figures"]["ack_p99_ms"] == {"before": 1000, "after": 1400, "ratio": 1.4, "worse": False}
    assert (uvicorn["verdict"], uvicorn["worse"]) == ("worse", ["ack_p99_ms"])


def test_noise_band_needs_both_the_factor_and_the_floor():
    assert not compare.worse("latency", 20, 60)  # 3x, but 40 ms apart
    assert compare.worse("latency", 200, 400)
    assert not compare.worse("broadcast", 300, 500)  # within one 0.25 s results frame
    assert compare.worse("count", 2000, 1999)  # a phone lost is worse
    assert compare.worse("rate", 6000, 3900)
    assert compare.worse("latency", 500, None) and not compare.worse("latency", None, 500)


def test_a_baseline_run_that_was_correct_makes_a_failing_current_run_worse():
    (pair,) = compare.before_after(
        [_record("daphne@abc1234", ack_p99_ms=100), _record("daphne", ack_p99_ms=100, ok=False)]
    )
    assert pair["worse"] == ["correctness"]


def test_before_and_after_run_back_to_back_and_alternate_which_goes_first():
    plan = schedule(["naive", "daphne", "ceiling"], [2000, 5000], "7d6a9eb")
    assert plan == [
        (2000, ["naive", "daphne@7d6a9eb", "daphne", "ceiling"]),
        (5000, ["naive", "daphne", "daphne@7d6a9eb", "ceiling"]),
    ]
    assert schedule(["daphne"], [300], None) == [(300, ["daphne"])]
