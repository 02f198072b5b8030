"""The benchmark's smoke profile, end to end: a few hundred phones against Caseboard on daphne.

It asserts correctness only (everyone joins, acked = counted, nothing doubled, every phone
converges on the final tally, the reveal and the reconnect storm reach everyone). Timings are
recorded in the JSON but never asserted: they belong to docs/benchmarks.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
