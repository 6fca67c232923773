"""The tactical engine on the real server: tracks posted as a client would, alerts raised
once on the parties' streams (and on the ledger), listed by GET /v1/alerts, cleared when
the situation ends — incursion, proximity and non-conformance."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api._hub import (
    Hub,
    Party,
    activity_body,
    add_parties,
    bootstrap,
    data_dir,
    feature,
    spot,
)


@pytest.fixture(scope="module")
def ps() -> Iterator[dict[str, Party]]:
    """A hub of its own (its alerts would otherwise be told during other modules' tests),
    cycling every 0.5 s."""
    with data_dir("alerts") as data:
        h = Hub(data, env={"DECONFLICTION_TACTICAL_CYCLE_S": "0.5"})
        h.admin = bootstrap(data)
        h.start()
        parties = add_parties(h, h.admin)
        try:
            yield parties
        finally:
            for p in parties.values():
                p.close()
            h.stop()
            assert "Traceback" not in h.log(), h.log()


@pytest.fixture
def blue(ps: dict[str, Party]) -> Party:
    return ps["Blue"]


@pytest.fixture
def red(ps: dict[str, Party]) -> Party:
    return ps["Red"]


@pytest.fixture
def green(ps: dict[str, Party]) -> Party:
    return ps["Green"]


@pytest.fixture
def civil(ps: dict[str, Party]) -> Party:
    return ps["Civil"]


KT = 1852 / 3600


def _post(p: Party, *tracks: dict[str, Any]) -> None:
    r = p.op.post("/v1/tracks", json={"tracks": list(tracks)})
    assert r.status_code == 200, r.text
    assert r.json()["rejected"] == [], r.text


def _track(key: str, lon: float, lat: float, **kw: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {"key": key, "time": now, "lon": lon, "lat": lat, "altitude_m": 1000.0} | kw


def _wait(what: str, check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _alerts(p: Party, kind: str) -> list[dict[str, Any]]:
    r = p.op.get("/v1/alerts")
    assert r.status_code == 200, r.text
    return [a for a in r.json() if a["kind"] == kind]


def _events(p: Party, since: int, type_: str) -> list[dict[str, Any]]:
    return [e for e in p.events(since) if e["type"] == type_]


def test_incursion_is_raised_once_to_both_and_cleared(red: Party, civil: Party) -> None:
    lon, lat = spot()
    zone = feature(lon, lat, half=0.05, start=timedelta(minutes=-1), hours=2)
    act = red.file(activity_body("red live fire", zone, kind="hazard"))["activity"]["id"]
    red_since, civil_since = red.last_seq(), civil.last_seq()
    # 20 km west of the zone's edge, flying east at 250 kt: inside in about 2.5 minutes…
    # … more than the 120 s look-ahead: nothing yet
    west = lon - 0.05 - 0.28
    _post(civil, _track("AFR123", west, lat, ground_speed_kt=250, track_deg=90.0))
    time.sleep(2.5)
    assert _alerts(civil, "incursion") == []
    # 8 km out: about 62 s to entry
    west = lon - 0.05 - 0.11
    _post(civil, _track("AFR123", west, lat, ground_speed_kt=250, track_deg=90.0))
    (a,) = _wait("the incursion alert", lambda: _alerts(civil, "incursion"))
    assert a["activity_id"] == act
    assert sorted(a["parties"]) == sorted([red.id, civil.id])
    assert a["tracks"] == [{"party": civil.id, "key": "AFR123"}]
    assert 30 < a["time_to_s"] < 90
    assert _alerts(red, "incursion")[0]["key"] == a["key"]  # the zone's owner too
    time.sleep(2.5)  # several cycles: raised once, not re-sent each cycle
    notices = {}
    for p, since in ((red, red_since), (civil, civil_since)):
        (raised,) = _events(p, since, "alert.raised")
        assert raised["data"]["alert"]["key"] == a["key"]
        n = notices[p.name] = raised["data"]["notice"]
        assert (n["reason"], n["alert_id"], n["recipient"]) == ("alert", a["id"], p.id)
        assert (n["activity_id"], n["needs_answer"], n["late"]) == (act, True, False)
        assert "INCURSION: Civil AFR123 entering in" in n["summary"]
        assert "'red live fire' of Red" in n["summary"]
        assert n["receipt"] is not None  # on the ledger, like any notice
    assert notices["Civil"]["owner"] == red.id  # each is told of the other's answer
    r = civil.op.post(f"/v1/notices/{notices['Civil']['id']}/acknowledge")
    assert r.status_code == 200, r.text
    # it turns away: cleared, told to both
    _post(civil, _track("AFR123", west - 0.01, lat, ground_speed_kt=250, track_deg=270.0))
    _wait("the clearing", lambda: _events(civil, civil_since, "alert.cleared"))
    assert _alerts(civil, "incursion") == []
    assert [e["data"]["alert"]["key"] for e in _events(red, red_since, "alert.cleared")] == [
        a["key"]
    ]
    # the unanswered notice is superseded (it would climb Red's ladder for nothing), the
    # acknowledged one stays acknowledged
    got = {n["id"]: n["status"] for n in red.op.get("/v1/notices").json()}
    assert got[notices["Red"]["id"]] == "superseded"
    got = {n["id"]: n["status"] for n in civil.op.get("/v1/notices").json()}
    assert got[notices["Civil"]["id"]] == "acknowledged"
    entries = red.op.get("/v1/ledger", params={"limit": 10_000}).text
    assert '"alert.raised"' in entries
    assert '"alert.cleared"' in entries


def test_proximity_between_parties_not_within_one(blue: Party, green: Party) -> None:
    lon, lat = spot()
    since = blue.last_seq()
    # head on, 20 km apart, 200 kt each: separation (5 NM) lost in about 37 s
    east = lon + 0.2 / 0.7  # ≈ 20 km at this latitude band
    _post(blue, _track("B1", lon, lat, ground_speed_kt=200, track_deg=90.0))
    _post(blue, _track("B2", lon, lat + 0.01, ground_speed_kt=200, track_deg=90.0))  # own
    _post(green, _track("G1", east, lat, ground_speed_kt=200, track_deg=270.0))
    got = _wait("the proximity alerts", lambda: _alerts(blue, "proximity"))
    time.sleep(1.5)  # a cycle more: both pairs are in
    got = _alerts(blue, "proximity")
    pairs = {frozenset(t["key"] for t in a["tracks"]) for a in got}
    assert pairs == {frozenset({"B1", "G1"}), frozenset({"B2", "G1"})}  # never B1 with B2
    for a in got:
        assert a["cpa_distance_m"] < 9_260
        assert 10 < a["time_to_s"] < 60
        assert sorted(a["parties"]) == sorted([blue.id, green.id])
    raised = _events(blue, since, "alert.raised")
    assert len(raised) == 2
    for e in raised:  # no activity: the notice is about the tracks alone
        n = e["data"]["notice"]
        assert (n["reason"], n["activity_id"], n["owner"]) == ("alert", None, green.id)
        assert n["summary"].startswith("PROXIMITY: ")
    assert _alerts(green, "proximity")


def test_a_linked_track_outside_its_activity_is_non_conforming(
    blue: Party, red: Party, green: Party
) -> None:
    """Blue's helicopter flies 20 km outside the area Blue declared: Blue and Green (whose
    activity Blue's affects) are told; Red (not concerned) is not."""
    lon, lat = spot()
    zone = feature(lon, lat, half=0.05, start=timedelta(minutes=-1), hours=2)
    green.file(activity_body("green convoy", zone))
    act = blue.file(activity_body("blue patrol", zone))["activity"]["id"]
    _post(blue, _track("HELO-3", lon, lat, activity_id=act))  # inside: conforming
    time.sleep(2.5)
    assert _alerts(blue, "non_conforming") == []
    _post(blue, _track("HELO-3", lon + 0.3, lat, activity_id=act))  # ~20 km outside
    (a,) = _wait("the non-conforming alert", lambda: _alerts(blue, "non_conforming"))
    assert a["activity_id"] == act
    assert a["contingent"] is False
    assert a["position"][0] == round(lon + 0.3, 6)
    assert sorted(a["parties"]) == sorted([blue.id, green.id])
    assert _alerts(green, "non_conforming")[0]["key"] == a["key"]
    assert _alerts(red, "non_conforming") == []  # only the parties concerned
