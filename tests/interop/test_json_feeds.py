"""aircraft.json and OpenSky state vectors: good documents, bad documents, bad items."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from deconfliction.errors import InvalidInput
from deconfliction.interop import parse_aircraft_json, parse_opensky_states
from deconfliction.model import AltitudeReference, TrackSource

PARTY = UUID(int=5)
NOW = 1_633_608_800.0


def aircraft_doc(*items: Any, now: Any = NOW) -> str:
    return json.dumps({"now": now, "messages": 12345, "aircraft": list(items)})


READSB = {
    "hex": "4CA1F3",
    "type": "adsb_icao",
    "flight": "RYR12AB ",
    "alt_baro": 36000,
    "alt_geom": 36500,
    "gs": 450.2,
    "track": 90.5,
    "baro_rate": -1280,
    "geom_rate": -1300,
    "lat": 48.85,
    "lon": 2.35,
    "seen_pos": 1.5,
    "seen": 0.2,
}


def test_a_readsb_aircraft_becomes_a_report() -> None:
    result = parse_aircraft_json(aircraft_doc(READSB), PARTY)
    (r,) = result.accepted
    assert result.rejected == ()
    assert result.skipped == 0
    assert r.key == "4ca1f3"
    assert r.icao24 == "4ca1f3"
    assert r.source is TrackSource.AIRCRAFT_JSON
    assert r.time == datetime.fromtimestamp(NOW - 1.5, UTC)
    assert r.altitude_m == pytest.approx(10_972.8)
    assert r.altitude_ref is AltitudeReference.BAROMETRIC
    assert r.ground_speed_mps == pytest.approx(231.6, abs=0.1)
    assert r.vertical_rate_mps == pytest.approx(-6.502)
    assert r.track_deg == 90.5
    assert r.callsign == "RYR12AB"
    assert r.party == PARTY


def test_geometric_altitude_and_rate_are_the_fallback() -> None:
    item = {k: v for k, v in READSB.items() if k not in ("alt_baro", "baro_rate")}
    (r,) = parse_aircraft_json(aircraft_doc(item), PARTY).accepted
    assert r.altitude_ref is AltitudeReference.GEOMETRIC
    assert r.altitude_m == pytest.approx(36_500 * 0.3048)
    assert r.vertical_rate_mps == pytest.approx(-1300 * 0.3048 / 60)


def test_ground_means_on_the_ground_with_unknown_altitude() -> None:
    (r,) = parse_aircraft_json(aircraft_doc({**READSB, "alt_baro": "ground"}), PARTY).accepted
    assert r.on_ground
    assert r.altitude_m is None


def test_the_old_dump1090_names_are_read() -> None:
    old = {"hex": "3c6586", "altitude": 24000, "speed": 300, "vert_rate": 640, "track": 10,
           "lat": 50.03, "lon": 8.57, "seen_pos": 0.0, "flight": "DLH4AB"}  # fmt: skip
    (r,) = parse_aircraft_json(aircraft_doc(old).encode(), PARTY).accepted
    assert r.altitude_m == pytest.approx(7315.2)
    assert r.ground_speed_mps == pytest.approx(154.33, abs=0.01)
    assert r.vertical_rate_mps == pytest.approx(3.2512, abs=1e-3)


def test_items_without_position_are_skipped_and_bad_ones_named() -> None:
    items = [
        {"hex": "3c6586", "alt_baro": 24000, "seen": 1},  # 0 no position: skipped
        READSB,  # 1
        "4ca1f3",  # 2
        {**READSB, "hex": None},  # 3
        {**READSB, "seen_pos": None, "seen": None},  # 4
        {**READSB, "lat": "north"},  # 5
        {**READSB, "alt_baro": 123_100},  # 6
        {**READSB, "gs": True},  # 7
        {**READSB, "flight": 7},  # 8
        {**READSB, "lat": 95.0},  # 9
        {**READSB, "lat": None},  # 10 one coordinate only
        {**READSB, "hex": "~2b0f10", "lat": 48.0},  # 11 non-ICAO address: taken
        {**READSB, "hex": "4ca1f3x"},  # 12
    ]
    result = parse_aircraft_json(aircraft_doc(*items), PARTY)
    assert [r.key for r in result.accepted] == ["4ca1f3", "~2b0f10"]
    assert result.skipped == 1
    reasons = {r.index: r.reason for r in result.rejected}
    assert reasons == {
        2: "not a JSON object (str)",
        3: "no hex (aircraft address)",
        4: "no seen_pos (age of the position)",
        5: "lat 'north' is not a number",
        6: "altitude 37521 m (123100 ft) is implausible (outside -457..18288 m)",
        7: "gs must be a number, got bool",
        8: "flight must be a string, got int",
        9: "lat: must be between -90 and 90, got 95.0",
        10: "no position (latitude or longitude missing)",
        12: "address '4ca1f3x' is not 6 hex digits (or ~ and 6)",
    }


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ("", "aircraft.json", "not JSON"),
        (b"\xff\xfe", "aircraft.json", "not JSON"),
        ("{", "aircraft.json", "not JSON"),
        ("[]", "aircraft.json", "must be a JSON object"),
        ('{"aircraft": []}', "aircraft.json.now", "is missing"),
        ('{"now": "soon", "aircraft": []}', "aircraft.json.now", "is not a number"),
        ('{"now": 1e999, "aircraft": []}', "aircraft.json.now", "must be finite"),
        ('{"now": 1}', "aircraft.json.aircraft", "must be a list"),
        ('{"now": 1, "aircraft": {}}', "aircraft.json.aircraft", "must be a list"),
    ],
)
def test_a_bad_aircraft_document_is_refused_whole(
    data: str | bytes, field: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_aircraft_json(data, PARTY)
    assert exc.value.field == field
    assert reason in exc.value.reason


# --- OpenSky --------------------------------------------------------------------------------

STATE = ["4ca1f3", "RYR12AB ", "Ireland", 1633608790, 1633608791, 2.35, 48.85, 10972.8,
         False, 231.5, 90.5, -6.5, None, 11125.2, "1000", False, 0]  # fmt: skip


def opensky(*states: Any) -> str:
    return json.dumps({"time": 1633608800, "states": list(states)})


def test_an_opensky_state_becomes_a_report() -> None:
    (r,) = parse_opensky_states(opensky(STATE), PARTY).accepted
    assert r.source is TrackSource.OPENSKY
    assert r.key == "4ca1f3"
    assert r.time == datetime.fromtimestamp(1633608790, UTC)
    assert (r.lat, r.lon) == (48.85, 2.35)
    assert r.altitude_m == 10972.8
    assert r.altitude_ref is AltitudeReference.BAROMETRIC
    assert (r.ground_speed_mps, r.track_deg, r.vertical_rate_mps) == (231.5, 90.5, -6.5)
    assert r.callsign == "RYR12AB"
    assert not r.on_ground


def test_opensky_geo_altitude_is_the_fallback_and_the_category_column_is_allowed() -> None:
    state = [*STATE[:7], None, *STATE[8:], 3]
    (r,) = parse_opensky_states(opensky(state), PARTY).accepted
    assert r.altitude_m == 11125.2
    assert r.altitude_ref is AltitudeReference.GEOMETRIC


def test_opensky_bad_states_are_named() -> None:
    def with_(i: int, v: Any) -> list[Any]:
        s = list(STATE)
        s[i] = v
        return s

    states = [
        [*STATE[:5], None, None, *STATE[7:]],  # 0 no position
        STATE,  # 1
        STATE[:16],  # 2
        {"icao24": "x"},  # 3
        with_(0, None),  # 4
        with_(3, None),  # 5
        with_(8, "false"),  # 6
        with_(7, 40_000.0),  # 7
        with_(9, "fast"),  # 8
        with_(3, 1.0e12),  # 9
        with_(1, 12),  # 10
    ]
    result = parse_opensky_states(opensky(*states), PARTY)
    assert len(result.accepted) == 1
    assert result.skipped == 1
    reasons = {r.index: r.reason for r in result.rejected}
    assert reasons == {
        2: "not a state vector (a list of at least 17 values)",
        3: "not a state vector (a list of at least 17 values)",
        4: "no icao24",
        5: "no time_position",
        6: "on_ground must be true or false",
        7: "altitude 40000 m (131234 ft) is implausible (outside -457..18288 m)",
        8: "velocity 'fast' is not a number",
        9: "time 1000000000000.0 s since the epoch is not a plausible time",
        10: "callsign must be a string, got int",
    }


def test_opensky_null_states_is_an_empty_result() -> None:
    result = parse_opensky_states('{"time": 1, "states": null}', PARTY)
    assert result.accepted == ()
    assert result.rejected == ()


@pytest.mark.parametrize(
    ("data", "field"),
    [("nope", "opensky"), ("[1]", "opensky"), ('{"states": 5}', "opensky.states")],
)
def test_a_bad_opensky_document_is_refused_whole(data: str, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_opensky_states(data, PARTY)
    assert exc.value.field == field
