"""``assets``, ``message`` and ``admin party escalation`` against a real hub."""

from __future__ import annotations

from typing import Any


def test_assets_report_and_list(as_party: Any) -> None:
    r = as_party(
        "Civil",
        "assets",
        "report",
        "CAL-9",
        "2.5",
        "49.1",
        "--max-speed-kt",
        "160",
        "--altitude-ft",
        "9000",
    )
    assert r.code == 0, r.err
    assert r.out.startswith("asset CAL-9 (")
    r = as_party("Civil", "assets", "list")
    assert r.code == 0
    row = next(line for line in r.out.splitlines() if line.startswith("CAL-9"))
    assert "2743" in row  # 9,000 ft in metres
    assert "160" in row
    bad = as_party("Civil", "assets", "report", "X", "200", "0", "--max-speed-kt", "10")
    assert bad.code == 1
    assert "422" in bad.err


def test_escalation_ladder_and_level_tokens(as_party: Any, hub: Any) -> None:
    r = as_party(
        "admin",
        "admin",
        "party",
        "escalation",
        "Green",
        "--level",
        "watch commander=15",
        "--level",
        "liaison HQ=30",
    )
    assert r.code == 0, r.err
    assert "level 1 watch commander (15 min to answer)" in r.out
    assert "level 2 liaison HQ (30 min to answer)" in r.out
    shown = as_party("admin", "admin", "party", "escalation", "Green", "--json")
    assert [lv["name"] for lv in shown.json()["levels"]] == ["watch commander", "liaison HQ"]
    t = as_party("admin", "admin", "token", "create", "Green", "--level", "2")
    assert t.code == 0, t.err
    assert "(escalation level 2)" in t.out
    assert as_party("admin", "admin", "token", "create", "Green", "--level", "3").code == 1
    assert (
        as_party("admin", "admin", "party", "escalation", "Green", "--level", "nonsense").code == 2
    )
    assert as_party("Blue", "admin", "party", "escalation", "Green", "--clear").code == 1  # 403
    cleared = as_party("admin", "admin", "party", "escalation", "Green", "--clear", "--json")
    assert cleared.json()["levels"] == []
    del hub


def test_message_send_and_thread(as_party: Any, hub: Any) -> None:
    vol = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-4.0, 45.0]},
        "properties": {
            "radius_m": 2000,
            "altitude_lower_m": 0,
            "altitude_upper_m": 1000,
            "time_start": "2026-12-22T10:00:00Z",
            "time_end": "2026-12-22T11:00:00Z",
        },
    }
    body = {
        "kind": "flight",
        "title": "t",
        "volumes": {"type": "FeatureCollection", "features": [vol]},
    }
    with hub.http(hub.tokens["Red"]) as red:
        red_act = red.post("/v1/activities", json=body | {"title": "red base"}).json()["activity"]
    with hub.http(hub.tokens["Blue"]) as blue:
        assert blue.post("/v1/activities", json=body | {"title": "blue over"}).status_code == 201
    r = as_party(
        "Blue",
        "message",
        "send",
        "please confirm your altitude",
        "--activity",
        red_act["id"],
        "--template",
        "request_clarification",
    )
    assert r.code == 0, r.err
    assert "request for clarification" in r.out
    assert "ledger receipt seq" in r.out
    t = as_party("Red", "message", "thread", "--activity", red_act["id"])
    assert t.code == 0
    assert "request_clarification" in t.out
    assert as_party("Blue", "message", "thread").code == 2  # neither --activity nor --conflict
