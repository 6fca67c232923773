"""The soak script's small version: 25 seconds of nominal load with live tracks on the real
hub, which must run clean (no error, every notice received, every track batch taken) and
report its figures. The 30-minute run with the growth limits is ``make soak``; growth over
25 seconds is noise, so this run does not judge it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_short_soak_runs_clean_and_reports_its_figures() -> None:
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "soak.py"),
        "--duration", "25",
        "--window", "5",
        "--warmup", "5",
        "--preload", "200",
        "--rate", "4",
        "--tracks", "100",
        "--lifetime", "5",
        "--max-growth", "100",
    ]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["bench"] == "soak"
    assert out["errors"] == {}
    assert out["notices_missing"] == 0
    assert out["filings"] >= 60
    assert out["track_batches"] >= 15
    assert out["cancelled"] >= 40  # each filing cancelled 5 s later: the live set is level
    assert len(out["windows"]) == 5
    for key in ("rss_growth", "fd_growth", "filing_p50_drift", "notice_p99_drift"):
        assert isinstance(out[key], float)
    assert all(w["fds"] > 0 and w["rss_mb"] > 0 for w in out["windows"])
