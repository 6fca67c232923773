"""``deconfliction demo``: the whole scenario against the real server, then exit."""

from __future__ import annotations

import json

from tests.cli.conftest import cli_subprocess


def test_demo_scenario_outcome() -> None:
    r = cli_subprocess("demo", "--exit-after-scenario", "--port", "0", "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    steps = {s["step"]: s for s in res["steps"]}
    assert set(res["tokens"]) == {"Blue", "Red", "Green", "Civil"}
    assert res["url"].startswith("http://127.0.0.1:")
    # ample lead time: Civil told 3 days ahead of Blue's exercise
    ample = steps["ample_lead_time"]
    assert ample["late"] is False
    assert ample["lead_time_s"] > 72 * 3600
    # Red's filing 1 minute before start: flagged late on Civil's notice
    late = steps["late"]
    assert late["late"] is True
    assert late["filing_late"] is True
    assert 0 < late["lead_time_s"] <= 60
    assert late["required_lead_time_s"] == 6 * 3600
    assert late["insufficient"] is True  # Civil's aircraft cannot get clear in a minute
    assert late["acknowledged"] is True
    assert res["outcome"]["ledger_verifies"] is True
    # crossing the hospital: Blue learns category and footprint (not the name); Red nothing
    d = steps["disclosure"]
    assert d["conflict_id"]
    assert d["blue_sees_site"] == {"category": "medical", "name": None}
    assert d["red_sees_site"] is False
    # the amendment moves away: resolved, Green's notice superseded and Green told
    done = steps["resolved"]
    assert done["version"] == 2
    assert done["conflict_status"] == "resolved"
    assert done["superseded_notices"] >= 1
    assert done["no_longer_affected_notices"] == 1
    assert done["stale_retry"].startswith("409 Version conflict")
    assert res["outcome"]["late_notice_flagged"] is True
    assert res["outcome"]["notices"]["Civil"] == {"notices": 2, "late": 1}
    # the live picture: own aircraft (and real traffic) raise the tactical alerts
    live = steps["live"]
    assert live["positions"] >= 3
    assert "incursion" in live["alerts"]["Red"]  # its engagement zone is being entered
    assert "incursion" in live["alerts"]["Green"]  # RELIEF-2, about to enter it
    assert {"incursion", "proximity"} <= set(live["alerts"]["Civil"])  # CAL-01
    assert "proximity" in live["alerts"]["Blue"]  # VIPER-1 head-on with CAL-01


def test_demo_narration() -> None:
    r = cli_subprocess("demo", "--no-serve", "--port", "0")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Civil's notice: lead time 3 d (policy for air_operation: at least 1 h): on time" in out
    assert "(policy for hazard: at least 6 h): LATE" in out
    assert "are left: INSUFFICIENT NOTICE" in out
    assert "Civil downloads its view of the ledger" in out
    (prox, *_) = [line for line in out.splitlines() if "PROXIMITY" in line]
    assert "Civil CAL-01" in prox
    assert "Blue VIPER-1" in prox
    assert ": separation lost in" in prox
    assert "INCURSION Green RELIEF-2 entering in" in out
    assert "Red's declared area" in out
    assert "disclosure recorded: Blue now sees the site's category (medical)" in out
    assert "conflict with the hospital resolved" in out
    assert "Green's earlier notice: superseded" in out
    assert "API docs: http://127.0.0.1:" in out
    assert "The console: open http://127.0.0.1:" in out
    assert out.count("    admin  dh_") == 1
    assert "Serving until Ctrl-C" not in out


def test_demo_needs_an_empty_hub(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert cli_subprocess("admin", "init", "--data-dir", str(tmp_path)).returncode == 0
    r = cli_subprocess("demo", "--no-serve", "--port", "0", "--data-dir", str(tmp_path))
    assert r.returncode == 1
    assert (
        r.stderr
        == f"deconfliction: error: the demo needs an empty hub, and {tmp_path} already has parties\n"
    )


def test_demo_serves_until_interrupted() -> None:
    import signal
    import subprocess
    import sys

    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "deconfliction.cli", "demo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = ""
    for line in proc.stdout:
        if line.startswith("The hub: "):
            url = line.split()[2]
        if line.startswith("Serving until Ctrl-C."):
            break
    try:
        assert httpx.get(f"{url}/readyz", timeout=5).json()["status"] == "ready"
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "stopping the hub" in rest
