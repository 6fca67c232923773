"""/v1/tracks on the real server: JSON batches and NDJSON, item-by-item refusals with the
rest taken, units, own-party rules, staleness, size caps, and time-to-clear from a live
track."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.api._hub import Hub, Party, activity_body, feature, spot


def _now(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def _track(key: str, **kw: object) -> dict[str, Any]:
    """A report at a place of its own (taken once: ``spot()`` hands out each place once,
    and other modules' worlds need theirs)."""
    return {"key": key, "time": _now(), "lat": _HERE[1], "lon": _HERE[0]} | kw


_HERE = spot()


def _post(p: Party, tracks: list[Any]) -> dict[str, Any]:
    r = p.op.post("/v1/tracks", json={"tracks": tracks})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_batch_is_taken_item_by_item(green: Party) -> None:
    good = _track("HELO-1", altitude_ft=1500, ground_speed_kt=90, track_deg=270.0, icao24="3C65A1")
    items = [
        good,
        _track("BAD-LAT", lat=91),
        _track("BAD-UNITS", altitude_m=100, altitude_ft=300),
        _track("FUTURE", time=_now(minutes=5)),
        _track("OLD", time=_now(hours=-1)),
        _track("NAIVE", time="2026-12-01T10:00:00"),
        {"key": "NOPOS", "time": _now()},
        _track("UNKNOWN", colour="red"),
        _track("HELO-2", ground_speed_mps=40, vertical_rate_fpm=-500),
        "not an object",
    ]
    got = _post(green, items)
    assert got["accepted"] == 2
    reasons = {x["index"]: x["reason"] for x in got["rejected"]}
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6, 7, 9]
    assert "lat" in reasons[1]
    assert "not both" in reasons[2]
    assert "ahead of the hub clock" in reasons[3]
    assert "old on arrival" in reasons[4]
    assert "offset" in reasons[5]
    assert "needs key, time, lat and lon" in reasons[6]
    assert "colour" in reasons[7]
    assert "JSON object" in reasons[9]
    mine = {t["key"]: t for t in green.op.get("/v1/tracks").json()}
    assert set(mine) >= {"HELO-1", "HELO-2"}
    h = mine["HELO-1"]
    assert h["altitude_m"] == pytest.approx(457.2)
    assert h["ground_speed_mps"] == pytest.approx(90 * 1852 / 3600)
    assert (h["icao24"], h["source"], h["party"]) == ("3c65a1", "own", green.id)
    assert mine["HELO-2"]["vertical_rate_mps"] == pytest.approx(-500 * 0.3048 / 60)


def test_ndjson_and_going_backwards(green: Party) -> None:
    t0 = datetime.now(UTC) - timedelta(seconds=10)
    lines = [
        json.dumps(_track("UAV-7", time=(t0 + timedelta(seconds=s)).isoformat()))
        for s in (0, 2, 1, 2, 3)
    ]
    body = "\n".join([*lines[:2], "{not json", *lines[2:], ""]).encode()
    r = green.op.post("/v1/tracks", content=body, headers={"content-type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["accepted"] == 3  # 0 s, 2 s, 3 s
    reasons = {x["index"]: x["reason"] for x in got["rejected"]}
    assert sorted(reasons) == [2, 3, 4]
    assert "not JSON" in reasons[2]
    assert "goes backwards" in reasons[3]
    assert "repeats the time" in reasons[4]
    # a later batch can't go back either
    again = _post(green, [_track("UAV-7", time=(t0 + timedelta(seconds=1)).isoformat())])
    assert again["accepted"] == 0


def test_own_party_and_roles(green: Party, red: Party) -> None:
    lon, lat = spot()
    red_act = red.file(activity_body("red sortie", feature(lon, lat)))["activity"]["id"]
    green_act = green.file(activity_body("green patrol", feature(lon, lat)))["activity"]["id"]
    got = _post(
        green,
        [
            _track("LINKED", activity_id=green_act),
            _track("THEIRS", activity_id=red_act),
            _track("NOSUCH", activity_id="00000000-0000-0000-0000-000000000001"),
            _track("BADID", activity_id="nope"),
        ],
    )
    assert got["accepted"] == 1
    reasons = [x["reason"] for x in got["rejected"]]
    assert "no live activity of yours" in reasons[0]
    assert "no live activity of yours" in reasons[1]
    assert "UUID" in reasons[2]
    linked = {t["key"]: t for t in green.op.get("/v1/tracks").json()}["LINKED"]
    assert linked["activity_id"] == green_act
    assert "LINKED" not in {t["key"] for t in red.op.get("/v1/tracks").json()}  # need to know
    assert green.obs.post("/v1/tracks", json={"tracks": [_track("X")]}).status_code == 403


def test_whole_request_errors_are_problem_details(green: Party) -> None:
    for body, ctype in (
        (b"{not json", "application/json"),
        (b'{"reports": []}', "application/json"),
        (b"[]", "application/json"),
    ):
        r = green.op.post("/v1/tracks", content=body, headers={"content-type": ctype})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    many = [_track(f"T{i}") for i in range(10_001)]
    r = green.op.post("/v1/tracks", json={"tracks": many})
    assert r.status_code == 422
    assert "10001 reports exceed the limit of 10000" in r.text
    huge = b'{"tracks": [' + b" " * (9 * 1024 * 1024) + b"]}"
    r = green.op.post("/v1/tracks", content=huge, headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_a_full_batch_of_ten_thousand(civil: Party) -> None:
    lon, lat = spot()
    items = [
        {
            "key": f"ADSB-{i:05d}",
            "time": _now(),
            "lat": lat,
            "lon": lon + i * 1e-4,
            "source": "adsb",
        }
        for i in range(10_000)
    ]
    got = _post(civil, items)
    assert (got["accepted"], got["rejected"]) == (10_000, [])
    assert len(civil.op.get("/v1/tracks").json()) >= 10_000


def test_a_live_track_moves_its_asset_for_time_to_clear(blue: Party, green: Party) -> None:
    """Green's slow asset was reported far away; its live track (same key as the asset's
    ref) puts it under Blue's new activity: Green is affected, with the time to clear."""
    lon, lat = spot()
    far = {"ref": "SLOW-9", "lon": lon + 5, "lat": lat, "max_speed_kt": 10}
    r = green.op.post("/v1/assets", json={"assets": [far]})
    assert r.status_code == 200, r.text
    _post(green, [_track("SLOW-9", lon=lon, lat=lat)])  # newer than the asset report
    filed = blue.file(activity_body("blue strike", feature(lon, lat)))
    (to_green,) = [n for n in filed["notices"] if n["recipient"] == green.id]
    (need,) = to_green["clearance"]
    assert need["max_speed_mps"] == pytest.approx(10 * 1852 / 3600)
    assert need["distance_m"] < 20_000  # from the track's position, not the asset report's


def test_the_websocket_ingest_stream(hub: Hub, green: Party) -> None:
    """One report, a batch and NDJSON on one connection, each answered; an unreadable
    message is an error and the stream stays open; observers and strangers are refused."""
    url = hub.ws_url.replace("/v1/stream", "/v1/tracks/stream")
    with connect(url, additional_headers={"Authorization": f"Bearer {green.operator}"}) as ws:
        ws.send(json.dumps(_track("WS-1")))
        assert json.loads(ws.recv()) == {"accepted": 1, "rejected": []}
        ws.send(json.dumps({"tracks": [_track("WS-2"), _track("WS-3", lat=95)]}))
        got = json.loads(ws.recv())
        assert got["accepted"] == 1
        assert [r["index"] for r in got["rejected"]] == [1]
        ws.send("\n".join(json.dumps(_track(f"WS-{i}")) for i in (4, 5)))
        assert json.loads(ws.recv())["accepted"] == 2
        ws.send('{"tracks": 3}')
        assert json.loads(ws.recv())["type"] == "error"
        ws.send(json.dumps(_track("WS-6")))  # still open
        assert json.loads(ws.recv())["accepted"] == 1
    keys = {t["key"] for t in green.op.get("/v1/tracks").json()}
    assert {"WS-1", "WS-2", "WS-4", "WS-5", "WS-6"} <= keys
    with connect(url, additional_headers={"Authorization": f"Bearer {green.observer}"}) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008
    with connect(url) as ws:  # browsers: the token as the first message
        ws.send(json.dumps({"token": "dh_not-a-token"}))
        with pytest.raises(ConnectionClosed):
            ws.recv()
