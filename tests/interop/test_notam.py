"""NOTAM drafts: golden texts for each shape of activity, the input checks, and the Q-line
circle enclosing every volume (property test against the geodesic distances)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from deconfliction.errors import InvalidInput
from deconfliction.interop import notam_text

_GEOD = Geod(ellps="WGS84")


def _volume(
    geometry: dict[str, Any], lower: float, upper: float, start: str, end: str, **props: Any
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "altitude_lower_m": lower,
            "altitude_upper_m": upper,
            "time_start": start,
            "time_end": end,
            **props,
        },
    }


def _activity(kind: str, title: str, *volumes: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "title": title,
        "volumes": {"type": "FeatureCollection", "features": list(volumes)},
    }


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[2.25, 49.5], [2.5, 49.5], [2.5, 49.75], [2.25, 49.75], [2.25, 49.5]]],
}


def test_golden_airspace_reservation_polygon() -> None:
    a = _activity(
        "airspace_reservation",
        "Calibration flight — Amiens/Glisy",
        _volume(SQUARE, 0, 3048, "2026-11-26T10:00:00Z", "2026-11-26T12:00:30Z"),
    )
    assert notam_text(a, fir="LFFF") == (
        "(X0000/26 NOTAMN\n"
        "Q) LFFF/QRTCA/IV/NBO/W/000/100/4938N00222E010\n"
        "A) LFFF B) 2611261000 C) 2611261201\n"
        "E) TEMPO RESERVED AIRSPACE (CALIBRATION FLIGHT AMIENS/GLISY) WI AREA "
        "493000N0021500E-493000N0023000E-494500N0023000E-494500N0021500E-493000N0021500E. "
        "VERTICAL LIMITS REF WGS84 ELLIPSOID.\n"
        "F) SFC G) 10000FT AMSL)\n"
    )


def test_golden_hazard_circle_with_flight_levels_and_a_number() -> None:
    circle = {"type": "Point", "coordinates": [3.6236, 49.5639]}
    a = _activity(
        "hazard",
        "Air defence engagement zone",
        _volume(
            circle,
            1524,
            11582.4,
            "2026-12-01T06:00:00+00:00",
            "2026-12-01T18:00:00+00:00",
            radius_m=18520,
        ),
    )
    assert notam_text(a, fir="LFFF", series="W", number=123) == (
        "(W0123/26 NOTAMN\n"
        "Q) LFFF/QRDCA/IV/NBO/W/050/380/4934N00337E011\n"
        "A) LFFF B) 2612010600 C) 2612011800\n"
        "E) HAZARDOUS ACT (AIR DEFENCE ENGAGEMENT ZONE) WI 10.0NM RADIUS CENTRED ON "
        "493350N0033725E. VERTICAL LIMITS REF WGS84 ELLIPSOID.\n"
        "F) 5000FT AMSL G) FL380)\n"
    )


def test_golden_several_volumes_each_with_its_times_and_limits() -> None:
    a = _activity(
        "uas_operation",
        "Survey",
        _volume(SQUARE, 0, 120, "2026-11-26T08:00:00Z", "2026-11-26T09:00:00Z"),
        _volume(
            {"type": "Point", "coordinates": [2.3, 49.6]},
            0,
            150,
            "2026-11-26T09:00:00Z",
            "2026-11-26T10:00:00Z",
            radius_m=500,
        ),
    )
    text = notam_text(a, fir="lfff".upper(), code="QWULW")
    assert text.splitlines()[1] == "Q) LFFF/QWULW/IV/BO/W/000/005/4937N00222E010"
    assert "AREA 1: WI AREA 493000N0021500E-" in text
    assert "2611260800-2611260900 SFC-400FT AMSL." in text
    assert (
        "AREA 2: WI 0.3NM RADIUS CENTRED ON 493600N0021800E 2611260900-2611261000 SFC-500FT AMSL."
        in text
    )
    assert text.splitlines()[2] == "A) LFFF B) 2611260800 C) 2611261000"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"fir": "LFF"}, "fir"),
        ({"fir": "LFFF", "series": "XY"}, "series"),
        ({"fir": "LFFF", "number": 10000}, "number"),
        ({"fir": "LFFF", "code": "RTCA"}, "code"),
    ],
)
def test_bad_options_are_refused_with_the_field(kw: dict[str, Any], field: str) -> None:
    a = _activity(
        "flight", "x", _volume(SQUARE, 0, 100, "2026-11-26T08:00:00Z", "2026-11-26T09:00:00Z")
    )
    with pytest.raises(InvalidInput) as err:
        notam_text(a, **kw)
    assert err.value.field == field


def _q_circle(text: str) -> tuple[float, float, float]:
    m = re.search(r"/(\d{2})(\d{2})([NS])(\d{3})(\d{2})([EW])(\d{3})$", text.splitlines()[1])
    assert m is not None
    lat = (int(m[1]) + int(m[2]) / 60) * (1 if m[3] == "N" else -1)
    lon = (int(m[4]) + int(m[5]) / 60) * (1 if m[6] == "E" else -1)
    return lon, lat, int(m[7]) * 1852.0


@settings(max_examples=100, deadline=None)
@given(
    lon=st.floats(-179, 179),
    lat=st.floats(-80, 80),
    offsets=st.lists(st.tuples(st.floats(-1.5, 1.5), st.floats(-1.0, 1.0)), min_size=3, max_size=8),
    radius=st.floats(10, 50_000),
)
def test_the_q_line_circle_encloses_every_volume(
    lon: float, lat: float, offsets: list[tuple[float, float]], radius: float
) -> None:
    ring = [[lon + dx, lat + dy] for dx, dy in offsets]
    ring.append(ring[0])
    poly = _volume(
        {"type": "Polygon", "coordinates": [ring]},
        0,
        100,
        "2026-11-26T08:00:00Z",
        "2026-11-26T09:00:00Z",
    )
    circle = _volume(
        {"type": "Point", "coordinates": [lon - 1, lat]},
        0,
        100,
        "2026-11-26T08:00:00Z",
        "2026-11-26T09:00:00Z",
        radius_m=radius,
    )
    clon, clat, r = _q_circle(notam_text(_activity("flight", "t", poly, circle), fir="LFFF"))
    # brute force: every vertex and 72 points round the circle's edge
    pts = [(x, y) for x, y in ring]
    az = [5.0 * i for i in range(72)]
    lons, lats, _ = _GEOD.fwd([lon - 1] * 72, [lat] * 72, az, [radius] * 72)
    pts += list(zip(lons, lats, strict=True))
    _, _, dist = _GEOD.inv(
        [clon] * len(pts), [clat] * len(pts), [p[0] for p in pts], [p[1] for p in pts]
    )
    assert max(dist) <= r
