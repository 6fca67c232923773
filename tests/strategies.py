"""Hypothesis strategies shared by the property tests.

Scenes put several footprints near one *anchor* so that conflicts are frequent; anchors
include the antimeridian and both poles. Polygons are star-shaped around their centre
(sorted azimuths, every wedge under 170°), concave most of the time, from sub-10-metre to
1,000+ km across; circles from 1 m to 1,000 km.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from deconfliction.detect import ShardGrid
from deconfliction.errors import InvalidVolume
from deconfliction.geo import AltitudeBand, Circle, Footprint, Polygon, TimeWindow, Volume4D
from deconfliction.geo._geodesy import GEOD

EPOCH = datetime(2026, 12, 1, tzinfo=UTC).timestamp()

anchors = st.one_of(
    st.tuples(st.floats(-180, 180), st.floats(-80, 80)),  # anywhere
    st.tuples(st.sampled_from([179.999, -179.999, 180.0]), st.floats(-60, 60)),  # antimeridian
    st.tuples(st.floats(-180, 180), st.sampled_from([89.9, -89.9, 88.0, -88.0])),  # polar
)

#: footprint sizes (metres, radius-like): tiny, ordinary, huge
sizes = st.one_of(
    st.floats(1.0, 10.0),
    st.floats(10.0, 100_000.0),
    st.floats(100_000.0, 1_000_000.0),
)


def _offset(lon: float, lat: float, az: float, dist: float) -> tuple[float, float]:
    olon, olat, _ = GEOD.fwd(lon, lat, az, dist)
    return float(olon), float(olat)


@st.composite
def star_polygons(draw: st.DrawFn, lon: float, lat: float, size: float) -> Polygon:
    """A star-shaped geodesic polygon around (lon, lat) with outer radius ``size``."""
    n = draw(st.integers(3, 24))
    gaps = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n)))
    gaps = gaps / gaps.sum() * 360.0
    assume(gaps.max() < 170.0)
    start = draw(st.floats(0, 360))
    az = start + np.cumsum(gaps)
    concave = draw(st.booleans())
    lo = 0.3 if concave else 0.95
    radii = np.array(draw(st.lists(st.floats(lo, 1.0), min_size=n, max_size=n))) * size
    vlon, vlat, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), az, radii)
    try:
        return Polygon(np.stack([vlon, vlat], axis=1))
    except InvalidVolume:
        assume(False)
        raise


@st.composite
def footprints_near(draw: st.DrawFn, lon: float, lat: float, spread: float) -> Footprint:
    """A footprint whose centre lies within ``spread`` metres of (lon, lat)."""
    size = draw(sizes)
    az = draw(st.floats(0, 360))
    dist = draw(st.floats(0, spread + size))
    clon, clat = _offset(lon, lat, az, dist)
    if draw(st.integers(0, 4)) == 0:
        return Circle((clon, clat), size)
    return draw(star_polygons(clon, clat, size))


@st.composite
def footprint_pairs(draw: st.DrawFn) -> tuple[Footprint, Footprint]:
    """Two footprints close enough to each other that they often meet."""
    lon, lat = draw(anchors)
    a = draw(footprints_near(lon, lat, 0.0))
    reach = a.radius_m * draw(st.floats(0.0, 2.5))
    b = draw(footprints_near(*a.centre, reach))
    return a, b


bands = st.builds(
    lambda lo, h: AltitudeBand(lo, lo + h), st.floats(0, 10_000), st.floats(1.0, 5_000)
)
windows = st.builds(
    lambda t, d: TimeWindow.from_epoch(EPOCH + t, EPOCH + t + d),
    st.floats(0, 3 * 86_400).map(round),
    st.floats(60, 12 * 3600).map(round),
)


@st.composite
def volumes_near(draw: st.DrawFn, lon: float, lat: float, spread: float) -> Volume4D:
    return Volume4D(draw(footprints_near(lon, lat, spread)), draw(bands), draw(windows))


@st.composite
def volume_pairs(draw: st.DrawFn) -> tuple[Volume4D, Volume4D]:
    a, b = draw(footprint_pairs())
    return Volume4D(a, draw(bands), draw(windows)), Volume4D(b, draw(bands), draw(windows))


@st.composite
def scenes(draw: st.DrawFn, max_size: int = 12) -> list[Volume4D]:
    """Several volumes around one anchor (a third of them far off, in time or space)."""
    lon, lat = draw(anchors)
    spread = draw(st.sampled_from([1_000.0, 50_000.0, 500_000.0]))
    n = draw(st.integers(1, max_size))
    return [draw(volumes_near(lon, lat, spread)) for _ in range(n)]


buffers_st = st.builds(
    lambda h, v, t: (h, v, t),
    st.sampled_from([0.0, 1.0, 500.0, 9_260.0]) | st.floats(0, 50_000),
    st.sampled_from([0.0, 305.0]) | st.floats(0, 2_000),
    st.sampled_from([0.0, 300.0]) | st.floats(0, 7_200),
)


# --- tactical: tracks around an anchor -------------------------------------------------------

track_anchors = st.one_of(
    st.tuples(st.floats(-180, 180), st.floats(-75, 75)),  # anywhere
    st.tuples(st.sampled_from([179.95, -179.95, 180.0]), st.floats(-60, 60)),  # antimeridian
    st.tuples(st.floats(-180, 180), st.sampled_from([89.5, -89.5, 86.0, -86.0])),  # polar
)


@st.composite
def track_columns(
    draw: st.DrawFn, max_size: int = 24, spread_m: float | None = None
) -> dict[str, object]:
    """Columns for ``TrackSet.from_columns``: a few tracks around one anchor, in two or
    three parties, often converging (headings towards the anchor), some climbing."""
    lon0, lat0 = draw(track_anchors)
    n = draw(st.integers(2, max_size))
    spread = spread_m or draw(st.sampled_from([5_000.0, 20_000.0, 60_000.0]))
    az = np.array(draw(st.lists(st.floats(0, 360), min_size=n, max_size=n)))
    dist = np.array(draw(st.lists(st.floats(0, spread), min_size=n, max_size=n)))
    lon, lat, back = GEOD.fwd(np.full(n, lon0), np.full(n, lat0), az, dist)
    jitter = np.array(draw(st.lists(st.floats(-60, 60), min_size=n, max_size=n)))
    converge = draw(st.booleans())
    trk = np.mod(np.asarray(back) + jitter, 360.0) if converge else np.mod(az * 7 + jitter, 360)
    alt = np.array(draw(st.lists(st.floats(5_000, 7_000), min_size=n, max_size=n)))
    vs = np.array(
        draw(st.lists(st.sampled_from([0.0, 0.0, 5.0, -5.0, 12.0]), min_size=n, max_size=n))
    )
    gs = np.array(draw(st.lists(st.floats(0, 300), min_size=n, max_size=n)))
    parties = draw(st.lists(st.sampled_from(["red", "blue", "green"]), min_size=n, max_size=n))
    return {
        "ids": [f"t{i}" for i in range(n)],
        "party": parties,
        "lat": np.asarray(lat),
        "lon": np.asarray(lon),
        "alt_m": alt,
        "gs_mps": gs,
        "trk_deg": trk,
        "vs_mps": vs,
        "time_s": np.full(n, EPOCH),
    }


# -- tactical sharding (deconfliction.detect.ShardGrid) --------------------------------------

#: grid cell sizes (km): small, the default, large, and larger than most margins
shard_sizes = st.sampled_from([100.0, 250.0, 500.0, 1_000.0, 3_000.0])

#: margins (metres): none, policy-like (5 NM + 120 s at 0 / 250 / 300 m/s), any, larger than a cell
shard_margins = st.one_of(
    st.sampled_from([0.0, 9_260.0, 69_260.0, 81_260.0]),
    st.floats(0.0, 200_000.0),
    st.floats(200_000.0, 1_500_000.0),
)


@st.composite
def shard_points(draw: st.DrawFn, grid: ShardGrid) -> tuple[float, float]:
    """A point (lon, lat) that stresses a grid: anywhere (longitudes beyond ±180 too),
    near or at a pole, on the antimeridian, exactly on a cell's edge or corner."""
    kind = draw(st.sampled_from(["any", "pole", "antimeridian", "edge", "corner"]))
    if kind == "any":
        return draw(st.floats(-540.0, 540.0)), draw(st.floats(-90.0, 90.0))
    if kind == "pole":
        lat = draw(st.sampled_from([90.0, -90.0]) | st.floats(88.0, 90.0) | st.floats(-90.0, -88.0))
        return draw(st.floats(-180.0, 180.0)), lat
    if kind == "antimeridian":
        lon = draw(st.sampled_from([180.0, -180.0, 179.9999999, -179.9999999, 540.0]))
        return lon, draw(st.floats(-90.0, 90.0))
    lon_lo, lat_lo, lon_hi, lat_hi = grid.bounds(draw(st.integers(0, len(grid) - 1)))
    lon = draw(st.sampled_from([lon_lo, lon_hi]))
    lat = draw(st.sampled_from([lat_lo, lat_hi]))
    if kind == "edge":
        if draw(st.booleans()):
            lon = draw(st.floats(lon_lo, lon_hi))
        else:
            lat = draw(st.floats(lat_lo, lat_hi))
    return lon, lat
