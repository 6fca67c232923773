"""``deconfliction activity ...`` against a real hub on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "demo"


def _file(as_party: Any, party: str, name: str, *flags: str) -> dict[str, Any]:
    r = as_party(party, "activity", "file", str(EXAMPLES / name), *flags, "--json")
    assert r.code == 0, r.err
    out: dict[str, Any] = json.loads(r.out)
    return out


def test_dry_run_files_nothing(as_party: Any) -> None:
    before = as_party("Blue", "activity", "list", "--scope", "mine", "--json").json()
    r = as_party(
        "Blue",
        "activity",
        "file",
        str(EXAMPLES / "blue-exercise.geojson"),
        "--dry-run",
        "--start-in",
        "3d",
    )
    assert r.code == 0, r.err
    assert r.out.startswith("dry run: nothing was filed\n")
    assert "lead time 3 d (policy: at least 1 h): on time" in r.out
    after = as_party("Blue", "activity", "list", "--scope", "mine", "--json").json()
    assert after == before


def test_late_filing_is_filed_and_flagged(as_party: Any, hub: Any) -> None:
    tra = _file(as_party, "Civil", "civil-tra-reservation.geojson", "--start-in", "3d")
    assert tra["late"] is False
    assert tra["notices"] == []
    r = as_party(
        "Red",
        "activity",
        "file",
        str(EXAMPLES / "red-engagement-zone.geojson"),
        "--start-in",
        "60s",
    )
    assert r.code == 0, r.err
    assert "LATE — filed anyway" in r.out
    assert "policy: at least 6 h" in r.out
    row = next(line for line in r.out.splitlines() if line.startswith("Civil "))
    assert "LATE" in row.split()
    civil = as_party("Civil", "notices", "--json").json()
    late = [n for n in civil if n["late"]]
    assert late
    assert late[0]["lead_time_s"] < 61
    # the table view says it in capitals too
    r = as_party("Civil", "notices")
    assert any("LATE" in line and "engagement zone LAON" in line for line in r.out.splitlines())
    # Civil sees Red's zone (it affects Civil's reservation), without Red's remarks
    shown = as_party("Civil", "activity", "list", "--scope", "affecting", "--json").json()
    zone = next(a for a in shown if a["title"] == "Air-defence engagement zone LAON")
    assert zone["remarks"] is None


def test_flags_override_the_file(as_party: Any) -> None:
    r = _file(
        as_party,
        "Green",
        "blue-exercise.geojson",
        "--start-in",
        "5d",
        "--kind",
        "flight",
        "--title",
        "Relief flight LILLE",
        "--priority",
        "flash",
    )
    a = r["activity"]
    assert (a["kind"], a["title"], a["priority"]) == ("flight", "Relief flight LILLE", "flash")


def test_show_list_amend_and_state_changes(as_party: Any) -> None:
    f = _file(
        as_party,
        "Blue",
        "blue-transit-via-amiens.geojson",
        "--start-in",
        "20d",
        "--title",
        "Transit T1",
    )
    aid = f["activity"]["id"]
    r = as_party("Blue", "activity", "list", "--scope", "mine")
    assert r.code == 0
    assert r.out.splitlines()[0].split() == [
        "ID",
        "OWNER",
        "KIND",
        "STATE",
        "V",
        "START",
        "END",
        "TITLE",
    ]
    assert any(aid in line and "Transit T1" in line for line in r.out.splitlines())
    r = as_party("Blue", "activity", "show", aid)
    assert r.code == 0
    assert "Transit T1  (air_operation, priority)" in r.out
    assert "remarks  2 x NH90" in r.out
    assert "polygon, 4 vertices" in r.out
    # amend: the version is read first (If-Match), the file's title is kept unless flagged
    r = as_party(
        "Blue",
        "activity",
        "amend",
        aid,
        str(EXAMPLES / "blue-transit-north.geojson"),
        "--start-in",
        "20d",
    )
    assert r.code == 0, r.err
    assert r.out.startswith(f"amended air_operation {aid} version 2: ")
    # a stale version: one line, exit code 1
    r = as_party(
        "Blue",
        "activity",
        "amend",
        aid,
        str(EXAMPLES / "blue-transit-north.geojson"),
        "--version",
        "1",
    )
    assert r.code == 1
    assert r.out == ""
    assert r.err == (
        f"deconfliction: error: 409 Version conflict: activity {aid} is at version 2, "
        "the request stated version 1\n"
    )
    r = as_party("Blue", "activity", "activate", aid, "--json")
    assert r.code == 0, r.err
    assert r.json()["activity"]["state"] == "active"
    r = as_party("Blue", "activity", "end", aid)
    assert r.code == 0
    assert r.out.startswith(f"ended air_operation {aid} version 4")
    r = as_party("Blue", "activity", "cancel", aid)
    assert r.code == 1
    assert r.err.startswith("deconfliction: error: 409 Invalid state transition: ")
    assert r.err.count("\n") == 1


def test_cancel(as_party: Any) -> None:
    aid = _file(as_party, "Blue", "blue-exercise.geojson", "--start-in", "10d")["activity"]["id"]
    r = as_party("Blue", "activity", "cancel", aid, "--json")
    assert r.code == 0
    assert r.json()["activity"]["state"] == "cancelled"


def test_need_to_know_and_refusals_are_one_line(as_party: Any, tmp_path: Path) -> None:
    aid = _file(
        as_party, "Blue", "blue-exercise.geojson", "--start-in", "12d", "--title", "Private"
    )["activity"]["id"]
    r = as_party("Red", "activity", "show", aid)
    assert (r.code, r.out) == (1, "")
    assert r.err == f"deconfliction: error: 404 Not found: activity {aid} not found\n"
    # too large a footprint: valid GeoJSON, refused by the hub's policy (422) → exit 1
    doc = json.loads((EXAMPLES / "blue-exercise.geojson").read_text())
    doc["features"][0]["geometry"]["coordinates"] = [[[0, 45], [5, 45], [5, 50], [0, 50], [0, 45]]]
    big = tmp_path / "big.geojson"
    big.write_text(json.dumps(doc))
    r = as_party("Blue", "activity", "file", str(big), "--start-in", "1d")
    assert r.code == 1
    assert r.err.startswith("deconfliction: error: 422 ")
    assert r.err.count("\n") == 1
    # a bad file never reaches the hub: exit 2
    (tmp_path / "bad.geojson").write_text("{")
    r = as_party("Blue", "activity", "file", str(tmp_path / "bad.geojson"))
    assert r.code == 2
    assert r.err.startswith(f"deconfliction: error: {tmp_path / 'bad.geojson'}: not JSON")
    assert "Traceback" not in r.err
