"""The report's pictures: outlines, graticule, and PNGs for edge cases (no notices, the
antimeridian, many versions)."""

from __future__ import annotations

from typing import Any

import pytest
from pyproj import Geod

from deconfliction.web._charts import footprint_ring, graticule_step, map_png, timeline_png

PNG = b"\x89PNG\r\n\x1a\n"
GEOD = Geod(ellps="WGS84")


def test_a_circle_is_a_geodesic_polygon_at_its_radius() -> None:
    ring = footprint_ring({"type": "Point", "coordinates": [179.99, 60.0]}, 25_000.0)
    assert ring[0] == ring[-1]
    for lon, lat in ring:
        assert GEOD.inv(179.99, 60.0, lon, lat)[2] == pytest.approx(25_000.0, abs=0.01)


def test_polygon_edges_follow_their_geodesics() -> None:
    square = [[0.0, 60.0], [20.0, 60.0], [20.0, 61.0], [0.0, 61.0], [0.0, 60.0]]
    ring = footprint_ring({"type": "Polygon", "coordinates": [square]}, None)
    assert ring[0] == (0.0, 60.0)
    assert ring[-1] == (0.0, 60.0)
    assert len(ring) > 100  # long edges are densified
    # the points of the southern edge lie on its geodesic, which bulges north of 60°N
    south = [(lon, lat) for lon, lat in ring if lat < 60.5 and 1e-6 < lon < 20 - 1e-6]
    total = GEOD.inv(0.0, 60.0, 20.0, 60.0)[2]
    for lon, lat in south:
        via = GEOD.inv(0.0, 60.0, lon, lat)[2] + GEOD.inv(lon, lat, 20.0, 60.0)[2]
        assert via == pytest.approx(total, abs=0.01)
    assert max(lat for _, lat in south) > 60.3


@pytest.mark.parametrize(("span", "step"), [(0.004, 0.001), (0.3, 0.05), (3, 0.5), (200, 30)])
def test_graticule_steps(span: float, step: float) -> None:
    assert graticule_step(span) == step
    assert 1 <= span / step <= 8


def _feature(lon: float, lat: float) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "radius_m": 4000,
            "altitude_lower_m": 0,
            "altitude_upper_m": 100,
            "time_start": "2026-11-25T13:00:00Z",
            "time_end": "2026-11-25T14:00:00Z",
        },
    }


def _doc(notices: list[dict[str, Any]], *features: dict[str, Any]) -> dict[str, Any]:
    fc = {"type": "FeatureCollection", "features": list(features)}
    return {
        "activity": {"title": "t", "version": 2, "start": "2026-11-25T13:00:00Z"},
        "versions": [{"version": 1, "volumes": fc}, {"version": 2, "volumes": fc}],
        "notices": notices,
    }


def test_pictures_for_a_quiet_activity_across_the_antimeridian() -> None:
    doc = _doc([], _feature(179.98, -16.0), _feature(-179.98, -16.0))
    assert timeline_png(doc).startswith(PNG)
    assert map_png(doc).startswith(PNG)


def test_a_notice_with_every_step() -> None:
    n = {
        "recipient_name": "Red",
        "activity_version": 1,
        "reason": "new",
        "late": True,
        "insufficient": True,
        "sent_at": "2026-11-25T12:00:00Z",
        "delivered_at": "2026-11-25T12:01:00Z",
        "read_at": "2026-11-25T12:02:00Z",
        "escalations": [{"at": "2026-11-25T12:15:00Z", "name": "watch", "level": 1}],
        "expired_at": "2026-11-25T12:20:00Z",
        "answered_at": "2026-11-25T12:25:00Z",
        "objection": "no",
        "status": "superseded",
        "status_at": "2026-11-25T12:30:00Z",
    }
    assert timeline_png(_doc([n, n | {"activity_version": 2}], _feature(2, 50))).startswith(PNG)
