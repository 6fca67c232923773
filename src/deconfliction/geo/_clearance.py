"""How far a point must travel to leave a footprint grown by a buffer.

Used for *time-to-clear*: an asset inside (or within the buffer of) an activity's footprint
needs ``exit_distance_m / max_speed`` to get out. The distance is the shortest way out,
measured on the WGS84 ellipsoid:

* a circle: exact (``radius + buffer − geodesic distance to the centre``);
* a polygon: in an azimuthal-equidistant projection centred on the point (distances from
  the centre are true ellipsoidal geodesic distances), the polygon's densified geodesic
  ring is grown by the buffer and the distance to the grown region's boundary is taken.
  The buffer's round corners are drawn as chords *inside* the true arcs, so the chord
  sagitta is added back: the result never understates the way out (an understated
  distance would understate the time needed, and miss an *insufficient notice*).

Within 500 km of the point the projection's scale error across the path is below
1e-3 % (it grows as ρ²/6R²); farther than that the result is still an upper bound only
approximately, so :data:`MAX_EXIT_M` caps what is asked.

>>> round(exit_distance_m((0.0, 0.0), Circle((0.0, 0.0), 1_000.0), 500.0))
1500
>>> exit_distance_m((1.0, 0.0), Circle((0.0, 0.0), 1_000.0), 500.0) is None
True
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import shapely
import shapely.ops
from pyproj import Transformer

from deconfliction.geo._footprint import Circle, Footprint, Polygon
from deconfliction.geo._geodesy import GEOD

__all__ = ["MAX_EXIT_M", "exit_distance_m", "exit_point"]

MAX_EXIT_M = 500_000.0
"""Beyond this (500 km) the way out is reported as this value: far more than any lead time
covers, so the verdict (insufficient) does not depend on the exact figure."""

_QUAD_SEGS = 32
_SAGITTA = 1.0 - math.cos(math.pi / (4 * _QUAD_SEGS))  # per metre of buffer


_EDGE_STEP_M = 2_000.0
"""Geodesic edges are sampled at most this far apart: in the projection a 2 km piece of
geodesic departs from its chord by well under a centimetre at 500 km from the centre."""


def _geodetic_ring(fp: Polygon) -> np.ndarray:
    """The polygon's boundary as geodetic lon/lat points, each edge an ellipsoidal
    geodesic sampled at most :data:`_EDGE_STEP_M` apart (vertices included)."""
    v = fp.lonlat
    w = np.roll(v, -1, axis=0)
    az, _, dist = GEOD.inv(v[:, 0], v[:, 1], w[:, 0], w[:, 1])
    dist = np.asarray(dist, dtype=np.float64)
    n = np.maximum(1, np.ceil(dist / _EDGE_STEP_M)).astype(np.int64)
    edge = np.repeat(np.arange(len(v)), n)
    first = np.repeat(np.cumsum(n) - n, n)
    frac = (np.arange(int(n.sum())) - first) / n[edge]
    lon, lat, _ = GEOD.fwd(v[edge, 0], v[edge, 1], np.asarray(az)[edge], dist[edge] * frac)
    return np.stack([np.asarray(lon), np.asarray(lat)], axis=1)


@lru_cache(maxsize=256)
def _aeqd(lon: float, lat: float) -> Transformer:
    return Transformer.from_crs(
        "EPSG:4326",
        f"+proj=aeqd +lat_0={lat!r} +lon_0={lon!r} +ellps=WGS84 +units=m +no_defs",
        always_xy=True,
    )


def exit_distance_m(
    point: tuple[float, float], footprint: Footprint, buffer_m: float
) -> float | None:
    """Metres from ``point`` (lon, lat) to the nearest place outside ``footprint`` grown by
    ``buffer_m``, or None when the point is already outside it (on the edge counts as
    inside: 0 m to go)."""
    found = exit_point(point, footprint, buffer_m)
    return None if found is None else found[0]


def exit_point(
    point: tuple[float, float], footprint: Footprint, buffer_m: float
) -> tuple[float, tuple[float, float]] | None:
    """:func:`exit_distance_m` and where the shortest way out leaves the grown footprint
    (lon, lat) — the witness tests check against a brute-force oracle."""
    lon, lat = float(point[0]), float(point[1])
    if not (math.isfinite(lon) and math.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90):
        raise ValueError(f"not a position: {point!r}")
    if not (math.isfinite(buffer_m) and buffer_m >= 0):
        raise ValueError(f"buffer must be finite and ≥ 0, got {buffer_m!r}")
    if isinstance(footprint, Circle):
        clon, clat = footprint.centre
        az, _, d = GEOD.inv(clon, clat, lon, lat)
        reach = footprint.radius_m + buffer_m
        if float(d) > reach:
            return None
        if float(d) == 0.0:
            az = 0.0
        olon, olat, _ = GEOD.fwd(clon, clat, az, reach)
        return min(reach - float(d), MAX_EXIT_M), (float(olon), float(olat))
    assert isinstance(footprint, Polygon)
    ring = _geodetic_ring(footprint)
    proj = _aeqd(lon, lat)
    x, y = proj.transform(ring[:, 0], ring[:, 1])
    shape = shapely.make_valid(shapely.Polygon(np.stack([x, y], axis=1)))
    region = shape.buffer(buffer_m, quad_segs=_QUAD_SEGS) if buffer_m > 0 else shape
    origin = shapely.Point(0.0, 0.0)
    if not region.covers(origin):
        return None
    edge = region.boundary
    d = float(edge.distance(origin))
    near = shapely.ops.nearest_points(edge, origin)[0]
    olon, olat = proj.transform(near.x, near.y, direction="INVERSE")
    return min(d + buffer_m * _SAGITTA, MAX_EXIT_M), (float(olon), float(olat))
