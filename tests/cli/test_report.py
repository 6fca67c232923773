"""``deconfliction report activity ID --out FILE`` against a real hub on loopback."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.cli.conftest import Hub, Result

Run = Callable[..., Result]

# a remote spot no other CLI test files at (the demo's examples are over northern France)
LON, LAT = 100.0, -40.0


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _body(title: str, start: timedelta, hours: float, radius_m: float = 8_000.0) -> dict[str, Any]:
    t0 = datetime.now(UTC) + start
    return {
        "kind": "air_operation",
        "title": title,
        "volumes": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [LON, LAT]},
                    "properties": {
                        "radius_m": radius_m,
                        "altitude_lower_m": 0,
                        "altitude_upper_m": 3000,
                        "time_start": _iso(t0),
                        "time_end": _iso(t0 + timedelta(hours=hours)),
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def story(hub: Hub) -> dict[str, Any]:
    """Civil's activity and Green's slow helicopter where Blue files an air operation two
    minutes before it starts (policy: 1 h): Civil's notice is LATE, Green's LATE and
    INSUFFICIENT. Civil reads and acknowledges; Green does not answer."""
    with hub.http(hub.tokens["Civil"]) as civil:
        r = civil.post("/v1/activities", json=_body("civil calibration", timedelta(hours=3), 2))
        assert r.status_code == 201, r.text
    with hub.http(hub.tokens["Green"]) as green:
        asset = {"ref": "HELO-R1", "lon": LON, "lat": LAT + 0.02, "max_speed_kt": 40}
        r = green.post("/v1/assets", json={"assets": [asset]})
        assert r.status_code == 200, r.text
    with hub.http(hub.tokens["Blue"]) as blue:
        r = blue.post("/v1/activities", json=_body("blue strike drill", timedelta(minutes=2), 4))
        assert r.status_code == 201, r.text
    filed: dict[str, Any] = r.json()
    notices = {n["recipient"]: n for n in filed["notices"]}
    to_civil, to_green = notices[hub.parties["Civil"]], notices[hub.parties["Green"]]
    assert (to_civil["late"], to_civil["insufficient"]) == (True, False)
    assert (to_green["late"], to_green["insufficient"]) == (True, True)
    with hub.http(hub.tokens["Civil"]) as civil:
        assert civil.post(f"/v1/notices/{to_civil['id']}/read").status_code == 200
        assert civil.post(f"/v1/notices/{to_civil['id']}/acknowledge").status_code == 200
    return filed


_RESOURCE = re.compile(
    r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*https?:|url\(\s*["']?\s*https?:|@import""",
    re.I,
)


def test_the_report_is_one_self_contained_file(
    story: dict[str, Any], as_party: Run, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    aid = story["activity"]["id"]
    r = as_party("Blue", "report", "activity", aid, "--out", str(out))
    assert r.code == 0, r.err
    said = rf"wrote {re.escape(str(out))}: 'blue strike drill', 2 notice\(s\), \d+ event\(s\)\n"
    assert re.fullmatch(said, r.out), r.out
    assert list(tmp_path.iterdir()) == [out]  # the temporary file was renamed
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # the header
    assert "blue strike drill" in page
    assert aid in page
    assert "air_operation" in page
    assert "Blue" in page
    # the notice table: recipients by name, the flags in words
    assert ">Civil<" in page
    assert ">Green<" in page
    assert ">LATE<" in page
    assert ">INSUFFICIENT<" in page
    assert "acknowledged" in page
    assert "Time to acknowledge" in page
    # two embedded pictures, real PNGs
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', page)
    assert len(images) == 2
    for data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")
    # nothing is loaded from anywhere: no resource URL, no external stylesheet or script
    assert _RESOURCE.search(page) is None
    assert "<script" not in page
    assert "<link" not in page


def test_json_output_and_an_atomic_replacement(
    story: dict[str, Any], as_party: Run, tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    out.write_text("old report")
    r = as_party("Blue", "report", "activity", story["activity"]["id"], "--out", str(out), "--json")
    assert r.code == 0, r.err
    doc = r.json()
    assert isinstance(doc, dict)
    assert (doc["out"], doc["notices"], doc["bytes"]) == (str(out), 2, out.stat().st_size)
    assert "old report" not in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


def test_errors_are_one_line_and_write_nothing(
    story: dict[str, Any], as_party: Run, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    unknown = uuid4()
    r = as_party("Blue", "report", "activity", str(unknown), "--out", str(out))
    assert r.code == 1
    assert r.err == f"deconfliction: error: 404 Not found: activity {unknown} not found\n"
    # another party's activity: the hub's 404, exactly as for an unknown one
    aid = story["activity"]["id"]
    r = as_party("Civil", "report", "activity", aid, "--out", str(out))
    assert r.code == 1
    assert r.err == f"deconfliction: error: 404 Not found: activity {aid} not found\n"
    r = as_party("Blue", "report", "activity", aid, "--out", str(tmp_path / "no" / "r.html"))
    assert r.code == 2
    assert r.err.count("\n") == 1
    assert "does not exist" in r.err
    r = as_party("Blue", "report", "activity", aid, "--out", str(tmp_path))
    assert r.code == 2
    assert "is a directory" in r.err
    r = as_party("Blue", "report", "activity", aid)
    assert r.code == 2
    assert "--out" in r.err
    assert list(tmp_path.iterdir()) == []
