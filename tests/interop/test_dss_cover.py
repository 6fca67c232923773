"""Whether a subscription covers an intent, against a brute-force oracle (pyproj geodesics).

Soundness: whenever :func:`covers` says yes, every sampled point of the intent's footprint
— its true boundary, densely, and random points inside — lies in the subscription's
footprints or at most the stated tolerance (plus half a metre of the oracle's own
sampling) from them. Completeness, on shapes built to cover: the intent's own footprint,
and a circle reaching past every vertex, always cover it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Transformer

from deconfliction.geo import AltitudeBand, Circle, Footprint, Polygon, TimeWindow, Volume4D
from deconfliction.geo._geodesy import GEOD
from deconfliction.interop._dss_cover import COVER_TOLERANCE_M, covers
from tests.oracles import boundary, contains, witness_distance
from tests.strategies import anchors, footprints_near, star_polygons

T0 = datetime(2030, 1, 1, tzinfo=UTC)
SLACK_M = 0.5
"""The oracle's own allowance (its boundary samples are not the exact boundary)."""

#: DSS-sized footprints (the service caps an area at 2,500 km²)
dss_sizes = st.floats(20.0, 25_000.0)


def _vol(fp: Footprint, start_min: float = 0.0, minutes: float = 60.0) -> Volume4D:
    t = T0 + timedelta(minutes=start_min)
    return Volume4D(fp, AltitudeBand(0.0, 120.0), TimeWindow(t, t + timedelta(minutes=minutes)))


@st.composite
def intents(draw: st.DrawFn) -> Footprint:
    lon, lat = draw(anchors)
    size = draw(dss_sizes)
    if draw(st.booleans()):
        return Circle((lon, lat), size)
    return draw(star_polygons(lon, lat, size))


def _frame(fp: Footprint) -> Transformer:
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={fp.centre[1]} +lon_0={fp.centre[0]} +ellps=WGS84")
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def _planar_gap(fp: Footprint, pts: np.ndarray) -> np.ndarray:
    """Per point: how far outside ``fp`` (0 inside) — exact geodesic distance for a circle;
    for a polygon, planar distance to its true boundary (sampled finely) in PROJ's aeqd
    frame on the polygon's centre. Used to pick the points :func:`witness_distance` then
    measures independently."""
    n = len(pts)
    if isinstance(fp, Circle):
        lon0, lat0 = fp.centre
        _, _, d = GEOD.inv(np.full(n, lon0), np.full(n, lat0), pts[:, 0], pts[:, 1])
        return np.maximum(np.asarray(d) - fp.radius_m, 0.0)
    tr = _frame(fp)
    ring = boundary(fp, max(0.1, fp.radius_m / 4000.0))
    x, y = tr.transform(ring[:, 0], ring[:, 1])
    px, py = tr.transform(pts[:, 0], pts[:, 1])
    poly = shapely.Polygon(np.stack([x, y], axis=1))
    return np.asarray(shapely.distance(poly, shapely.points(np.asarray(px), np.asarray(py))))


def _samples(fp: Footprint, rng: np.random.Generator) -> np.ndarray:
    """The footprint's true boundary every ≤ 1/400 of its size, and points inside it."""
    edge = boundary(fp, max(0.5, fp.radius_m / 400.0))
    lon0, lat0 = fp.centre
    az = rng.uniform(0, 360, 300)
    dist = fp.radius_m * np.sqrt(rng.uniform(0, 1, 300))
    lon, lat, _ = GEOD.fwd(np.full(300, lon0), np.full(300, lat0), az, dist)
    inner = np.stack([lon, lat], axis=1)
    inner = inner[_planar_gap(fp, inner) == 0.0] if isinstance(fp, Polygon) else inner
    return np.concatenate([edge, inner])


def _check_sound(intent: Footprint, subs: list[Footprint], seed: int) -> None:
    """Every sample within the tolerance of the subscription: the 12 samples furthest out
    (by the planar estimate) are measured with the geodesic oracle."""
    pts = _samples(intent, np.random.default_rng(seed))
    gap = np.min([_planar_gap(s, pts) for s in subs], axis=0)
    for k in np.argsort(gap)[::-1][:12]:
        if gap[k] == 0.0:
            break
        probe = Circle((float(pts[k, 0]), float(pts[k, 1])), 0.001)
        true_gap = min(witness_distance(probe, s) for s in subs)
        assert true_gap <= COVER_TOLERANCE_M + SLACK_M, (
            f"said covered, but {tuple(pts[k])} is {true_gap:.3f} m outside the subscription"
        )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(intents(), st.data(), st.integers(0, 2**31))
def test_covered_means_no_point_of_the_intent_is_outside(
    intent: Footprint, data: st.DataObject, seed: int
) -> None:
    n = data.draw(st.integers(1, 3))
    subs = [data.draw(footprints_near(*intent.centre, intent.radius_m)) for _ in range(n)]
    if data.draw(st.booleans()):  # often a near miss: the intent itself, a little moved
        az, step = data.draw(st.floats(0, 360)), data.draw(st.floats(0.0, 3.0))
        lon, lat, _ = GEOD.fwd(*intent.centre, az, step)
        if isinstance(intent, Circle):
            subs[0] = Circle((float(lon), float(lat)), intent.radius_m)
        else:
            dlon, dlat = float(lon) - intent.centre[0], float(lat) - intent.centre[1]
            # wrapped: across the antimeridian the step's dlon is nearly ±360° (seen: an
            # intent at 180°E moved to -540°)
            subs[0] = Polygon(
                [((x + dlon + 180) % 360 - 180, y + dlat) for x, y in intent.vertices]
            )
    if covers([_vol(s) for s in subs], [_vol(intent)]):
        _check_sound(intent, subs, seed)


@settings(max_examples=40, deadline=None)
@given(intents(), st.floats(0.0, 0.2))
def test_the_intents_own_shape_and_an_enclosing_circle_cover_it(
    intent: Footprint, grow: float
) -> None:
    own = [_vol(intent)]
    assert covers(own, [_vol(intent)])
    lon0, lat0 = intent.centre
    if isinstance(intent, Circle):
        reach = intent.radius_m
    else:
        v = np.asarray(intent.vertices)
        _, _, d = GEOD.inv(np.full(len(v), lon0), np.full(len(v), lat0), v[:, 0], v[:, 1])
        reach = float(np.max(d))
    around = Circle((lon0, lat0), reach * (1 + grow) + 0.01)
    assert covers([_vol(around)], [_vol(intent)])
    assert contains(around, lon0, lat0)


def test_time_span_and_far_areas() -> None:
    disc = Circle((10.0, 45.0), 1_000.0)
    assert covers([_vol(disc, -5, 70)], [_vol(disc)])
    assert not covers([_vol(disc, 1, 70)], [_vol(disc)])  # starts after the intent
    assert not covers([_vol(disc, 0, 59)], [_vol(disc)])  # ends before it
    # two subscription volumes whose spans together hold the intent's
    assert covers([_vol(disc, 0, 30), _vol(disc, 30, 30)], [_vol(disc)])
    far = Circle((10.5, 45.0), 1_000.0)
    assert not covers([_vol(far)], [_vol(disc)])
    assert not covers([], [_vol(disc)])
    # two halves that together hold a square across the antimeridian
    square = Polygon([(179.99, -0.01), (-179.99, -0.01), (-179.99, 0.01), (179.99, 0.01)])
    west = Polygon([(179.98, -0.02), (180.0, -0.02), (180.0, 0.02), (179.98, 0.02)])
    east = Polygon([(-180.0, -0.02), (-179.98, -0.02), (-179.98, 0.02), (-180.0, 0.02)])
    assert covers([_vol(west), _vol(east)], [_vol(square)])
    assert not covers([_vol(west)], [_vol(square)])
    assert math.isclose(COVER_TOLERANCE_M, 1.0)
