"""/v1/assets on the real server: reports, units, all-or-nothing, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api._hub import Party, spot


def _report(ref: str, **kw: object) -> dict[str, object]:
    lon, lat = spot()
    return {"ref": ref, "lon": lon, "lat": lat, "max_speed_kt": 120} | kw


def test_report_replace_and_list(green: Party) -> None:
    first = green.op.post("/v1/assets", json={"assets": [_report("TRUCK-1", speed_mps=10)]})
    assert first.status_code == 200, first.text
    (a,) = first.json()
    assert a["speed_mps"] == 10
    assert a["max_speed_mps"] == pytest.approx(120 * 1852 / 3600)
    moved = green.op.post("/v1/assets", json={"assets": [_report("TRUCK-1", altitude_ft=1000)]})
    (b,) = moved.json()
    assert b["id"] == a["id"]  # the same asset, its latest report
    assert b["altitude_m"] == pytest.approx(304.8)
    old = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    stale = green.op.post("/v1/assets", json={"assets": [_report("TRUCK-1", at=old)]})
    assert stale.json()[0]["reported_at"] == b["reported_at"]  # an older report is ignored
    mine = {x["ref"]: x for x in green.op.get("/v1/assets").json()}
    assert mine["TRUCK-1"]["lon"] == b["lon"]
    assert green.obs.post("/v1/assets", json={"assets": [_report("X")]}).status_code == 403


@pytest.mark.parametrize(
    ("report", "where"),
    [
        ({"max_speed_kt": None}, "max_speed"),
        ({"speed_mps": 5, "speed_kt": 5}, "not both"),
        ({"lon": 181}, "lon"),
        ({"max_speed_kt": 0}, "max_speed_kt"),
        ({"max_speed_kt": 10, "speed_kt": 20}, "below the reported speed"),
        ({"at": "2026-12-01T10:00:00"}, "at"),
        ({"at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, "future"),
        ({"max_speed_kt": 100_000}, "max_speed_mps"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_reports_are_refused_whole(civil: Party, report: dict[str, object], where: str) -> None:
    before = civil.op.get("/v1/assets").json()
    good = _report("GOOD-1")
    bad = {k: v for k, v in (_report("BAD-1") | report).items() if v is not None}
    r = civil.op.post("/v1/assets", json={"assets": [good, bad]})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert where in r.text
    assert civil.op.get("/v1/assets").json() == before  # nothing half-written


def test_duplicate_refs_and_empty_batches(civil: Party) -> None:
    assert civil.op.post("/v1/assets", json={"assets": []}).status_code == 422
    dup = civil.op.post("/v1/assets", json={"assets": [_report("D"), _report("D")]})
    assert dup.status_code == 422
    assert "twice" in dup.text
