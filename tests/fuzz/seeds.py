"""Valid documents of every parser of outside input: the starting points of the mutation
strategies (``tests/fuzz``) and the seed corpora of the atheris harnesses (``fuzz/``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from deconfliction.interop import activity_kml, kmz, shape_event, site_kml
from deconfliction.model import DEFAULT_POLICY_TOML

__all__ = [
    "AIRCRAFT_JSON",
    "COT_CONFIG",
    "COT_EVENTS",
    "FEATURES",
    "JWT_CLAIMS",
    "KML",
    "POLICIES",
    "SBS_LINES",
    "activity_body",
]

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _square(lon: float, lat: float, d: float = 0.05) -> list[list[float]]:
    return [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d],
            [lon - d, lat - d]]  # fmt: skip


FEATURES: list[dict[str, Any]] = [
    {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [_square(2.35, 48.85)]},
        "properties": {"altitude_lower_m": 0, "altitude_upper_m": 3000,
                       "time_start": _iso(T0), "time_end": _iso(T0 + timedelta(hours=1))},
    },
    {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [179.99, -16.5]},
        "properties": {"radius_m": 2500, "altitude_lower_fl": 0, "altitude_upper_fl": 95,
                       "time_start": "2026-12-01T12:00+01:00", "time_end": "2026-12-01T18:00Z"},
    },
    {
        "type": "Feature",
        "geometry": {"type": "Polygon",
                     "coordinates": [[[179.9, 10.0], [-179.9, 10.0], [-179.9, 10.2], [179.9, 10.2]]]},
        "properties": {"altitude_lower_ft": 500, "altitude_upper_ft": 5000,
                       "time_start": _iso(T0), "time_end": _iso(T0 + timedelta(days=2))},
    },
]  # fmt: skip


def activity_body(*features: dict[str, Any]) -> dict[str, Any]:
    """An ``ActivityIn`` body (the API's filing) holding ``features``."""
    return {
        "kind": "flight",
        "title": "fuzz",
        "priority": "routine",
        "remarks": "",
        "volumes": {"type": "FeatureCollection", "features": list(features or FEATURES)},
    }


_ACTIVITY = activity_body() | {
    "id": "00000000-0000-0000-0000-000000000001",
    "owner": "00000000-0000-0000-0000-000000000002",
    "state": "planned",
    "version": 1,
}
_SITE = {
    "name": 'Hospital <&> "North"',
    "footprint": FEATURES[1],
    "altitude_lower_m": 0,
    "altitude_upper_m": 150,
    "valid_from": _iso(T0),
    "valid_to": _iso(T0 + timedelta(days=30)),
    "category": "medical",
    "buffer_m": 100,
}
KML: list[bytes] = [
    activity_kml(_ACTIVITY).encode(),
    site_kml(_SITE).encode(),
    kmz(activity_kml(_ACTIVITY)),
]

_POSITION = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<event version="2.0" uid="ANDROID-1" type="a-f-G-U-C" time="2026-12-01T12:00:00.000Z" '
    'start="2026-12-01T12:00:00Z" stale="2026-12-01T12:05:00Z" how="m-g">'
    '<point lat="48.85" lon="2.35" hae="120.5" ce="9.9" le="9999999.0"/>'
    '<detail><contact callsign="BLUE-1"/><track course="90.0" speed="12.5"/></detail></event>'
)
_CIRCLE = (
    '<event version="2.0" uid="c1" type="u-d-c-c" time="2026-12-01T12:00:00Z" '
    'start="2026-12-01T12:00:00Z" stale="2026-12-02T12:00:00Z" how="h-e">'
    '<point lat="48.0" lon="2.0" hae="9999999.0" ce="0" le="0"/>'
    '<detail><shape><ellipse major="500" minor="300" angle="0"/></shape></detail></event>'
)
_POLYLINE = (
    '<event version="2.0" uid="p1" type="u-d-f" time="2026-12-01T12:00:00Z" '
    'start="2026-12-01T12:00:00Z" stale="2026-12-02T12:00:00Z" how="h-e">'
    '<point lat="48.0" lon="2.0" hae="0"/><detail><shape><polyline closed="true">'
    '<vertex lat="48.0" lon="2.0"/><vertex lat="48.1" lon="2.0"/><vertex lat="48.1" lon="2.1"/>'
    "</polyline></shape></detail></event>"
)
_PING = (
    '<event version="2.0" uid="ping-1" type="t-x-c-t" time="2026-12-01T12:00:00Z" '
    'start="2026-12-01T12:00:00Z" stale="2026-12-01T12:00:20Z" how="h-g-i-g-o">'
    '<point lat="0" lon="0" hae="0"/><detail/></event>'
)
COT_EVENTS: list[bytes] = [
    _POSITION.encode(),
    _CIRCLE.encode(),
    _POLYLINE.encode(),
    _PING.encode(),
    shape_event("s1", "Range <B>", _square(2.35, 48.85), T0, T0 + timedelta(hours=1),
                remarks="a & b"),
]  # fmt: skip

SBS_LINES: list[str] = [
    "MSG,3,1,1,3C6586,1,2026/12/01,12:00:00.000,2026/12/01,12:00:00.000,,24000,,,50.03,8.57,,,0,0,0,0",
    "MSG,4,1,1,3C6586,1,2026/12/01,12:00:01.000,2026/12/01,12:00:01.000,,,450,90,,,-1280,,,,,0",
    "MSG,1,1,1,3C6586,1,2026/12/01,12:00:02.000,2026/12/01,12:00:02.000,DLH4AB  ,,,,,,,,,,,0",
    "MSG,2,1,1,4CA1F3,1,2026/12/01,12:00:03.000,2026/12/01,12:00:03.000,,0,12,270,50.0,8.5,,,,,,-1",
    "CLK,,,,,,2026/12/01,12:00:00.000,2026/12/01,12:00:00.000,,,,,,,,,,,,",
]
AIRCRAFT_JSON: list[Any] = [
    {
        "now": 1796126400.0,
        "messages": 1000,
        "aircraft": [
            {"hex": "3c6586", "flight": "DLH4AB  ", "alt_baro": 24000, "alt_geom": 24500,
             "gs": 450.2, "track": 90.1, "baro_rate": -1280, "lat": 50.03, "lon": 8.57,
             "seen_pos": 0.4, "seen": 0.1},
            {"hex": "~4ca1f3", "alt_baro": "ground", "gs": 5, "lat": 50.0, "lon": 8.5, "seen": 1},
            {"hex": "abcdef", "altitude": 3000, "speed": 120, "vert_rate": 64, "lat": -10.0,
             "lon": 179.9, "seen": 2.5},
            {"hex": "000001", "seen": 30},
        ],
    }
]  # fmt: skip

JWT_CLAIMS: list[dict[str, Any]] = [
    {"sub": "uss-a", "scope": "utm.strategic_coordination", "aud": "dss.hotline.test",
     "iss": "https://auth.hotline.test/oauth/token", "exp": 4102444800, "iat": 1796126400,
     "jti": "a"},
    {"sub": "uss-b", "scope": ["utm.constraint_management", "utm.constraint_processing"],
     "aud": ["dss.hotline.test", "other"], "iss": "https://auth.hotline.test/oauth/token",
     "exp": 4102444800, "nbf": 1796126400},
]  # fmt: skip

POLICIES: list[str] = [
    DEFAULT_POLICY_TOML,
    "[defaults]\nmin_lead_time_min = 30\n[kinds.hazard]\nack_deadline_min = 2\n"
    "[links]\ndegraded_after_min = 5\ndown_after_min = 15\n",
]

COT_CONFIG = """\
[listen]
host = "127.0.0.1"
tcp_port = 8087
tcp_party = "Blue"

[[parties]]
party = "Blue"
cert_cn = "blue-tak"
token_file = "/etc/hotline/blue.token"
shapes = "activity"
kind = "air_operation"
start_in_min = 60
hours = 2
lower = "SFC"
upper = "5000ft"

[[parties]]
party = "Green"
shapes = "ignore"

[[clients]]
host = "tak.example.org"
port = 8089
party = "Blue"
tls = false
"""

#: every JSON seed as text too (for the byte-level fuzzers)
JSON_TEXTS = [json.dumps(d) for d in AIRCRAFT_JSON]
