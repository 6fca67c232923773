"""Unit tests for deconfliction.geo._footprint (Polygon, Circle, MAX_VERTICES)."""

from __future__ import annotations

import dataclasses
import math
import pickle

import numpy as np
import pytest
from pyproj import Geod

from deconfliction.errors import InvalidVolume
from deconfliction.geo import FRAME_MAX_RADIUS_M, MAX_VERTICES, Circle, Polygon

GEOD = Geod(ellps="WGS84")
SQUARE_CCW = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
SQUARE_CW = [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0)]
ANTIMERIDIAN = [(179.9, -0.1), (-179.9, -0.1), (-179.9, 0.1), (179.9, 0.1)]


def bug(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.regression(reason)  # was a bug, fixed: kept as a regression case


def regular(lon: float, lat: float, radius_m: float, n: int, az0: float = 0.0) -> np.ndarray:
    """n vertices at ``radius_m`` (geodesic) from (lon, lat), counter-clockwise."""
    az = az0 - np.arange(n) * 360.0 / n  # decreasing azimuth = counter-clockwise
    x, y, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, radius_m))
    return np.column_stack([x, y])


def polar_ring(lat: float, step: float = 1.0) -> list[tuple[float, float]]:
    lons = np.arange(-180.0, 180.0, step)
    return [(float(x), lat) for x in (lons if lat > 0 else lons[::-1])]


def max_boundary_distance(p: Polygon, per_edge: int = 200) -> float:
    """Largest pyproj distance from p.centre to points sampled densely along every edge."""
    lon0, lat0 = p.centre
    v = list(p.vertices)
    best = 0.0
    for (a, b), (c, d) in zip(v, v[1:] + v[:1], strict=True):
        pts = [(a, b), *GEOD.npts(a, b, c, d, per_edge)]
        lons, lats = [q[0] for q in pts], [q[1] for q in pts]
        _, _, dist = GEOD.inv([lon0] * len(pts), [lat0] * len(pts), lons, lats)
        best = max(best, max(dist))
    return best


def assert_invalid(vertices: object, field: str, reason: str) -> None:
    with pytest.raises(InvalidVolume) as ei:
        Polygon(vertices)  # type: ignore[arg-type]
    assert ei.value.field == field
    assert reason in ei.value.reason, ei.value.reason


# -- Polygon: vertices, windings ---------------------------------------------------------


def test_closing_vertex_is_optional() -> None:
    open_, closed = Polygon(SQUARE_CCW), Polygon([*SQUARE_CCW, SQUARE_CCW[0]])
    assert open_ == closed
    assert hash(open_) == hash(closed)
    assert closed.vertices == tuple(SQUARE_CCW)
    # consecutive duplicates and a third (altitude) coordinate are dropped too
    p = Polygon([(0, 0, 100), (1, 0, 100), (1, 0, 5), (1, 1, 0), (0, 0, 7)])
    assert p.vertices == ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0))


def test_both_windings_store_the_same_counter_clockwise_vertices() -> None:
    cw, ccw = Polygon(SQUARE_CW), Polygon(SQUARE_CCW)
    assert cw.vertices == ccw.vertices == tuple(SQUARE_CCW)
    assert cw == ccw
    assert hash(cw) == hash(ccw)
    assert len({cw, ccw}) == 1
    signed_area, _ = GEOD.polygon_area_perimeter(cw.lonlat[:, 0], cw.lonlat[:, 1])
    assert signed_area > 0  # pyproj: positive means counter-clockwise
    assert round(cw.area_m2 / 1e6) == 12309


def test_numpy_input_is_copied_not_aliased() -> None:
    arr = np.array(SQUARE_CW)
    p = Polygon(arr)
    arr[0, 0] = 0.5
    assert p.vertices == tuple(SQUARE_CCW)
    assert not p.lonlat.flags.writeable


def test_vertex_count_limits() -> None:
    assert len(Polygon([(0, 0), (1, 0), (0, 1)]).vertices) == 3
    circle = regular(10.0, 47.0, 5_000.0, MAX_VERTICES)
    big = Polygon(circle)
    assert len(big.vertices) == MAX_VERTICES == 10_000
    assert big.area_m2 == pytest.approx(math.pi * 5_000.0**2, rel=1e-5)
    assert Polygon([*map(tuple, circle), tuple(circle[0])]) == big  # closed: 10,001 positions


@pytest.mark.parametrize("as_array", [False, True], ids=["list", "array"])
def test_more_than_max_vertices_is_rejected(as_array: bool) -> None:
    pts = regular(10.0, 47.0, 5_000.0, MAX_VERTICES + 1)
    assert_invalid(
        pts if as_array else pts.tolist(),
        "footprint.vertices",
        "has 10001 vertices, more than 10000",
    )
    assert_invalid(regular(10.0, 47.0, 5_000.0, 20_000).tolist(), "footprint.vertices", "20000")


@pytest.mark.parametrize(
    ("vertices", "got"),
    [
        ([], 0),
        ([(1, 1)] * 5, 1),
        ([(0, 0), (1, 1)], 2),
        ([(0, 0), (1, 1), (0, 0)], 2),
        ([(0, 0), (0, 0), (1, 1), (1, 1)], 2),
    ],
)
def test_fewer_than_three_distinct_vertices(vertices: list[tuple[float, float]], got: int) -> None:
    assert_invalid(vertices, "footprint.vertices", f"needs at least 3 distinct vertices, got {got}")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(("index", "axis"), [(0, 0), (2, 1), (3, 0)])
@pytest.mark.parametrize("as_array", [False, True], ids=["list", "array"])
def test_non_finite_coordinate(bad: float, index: int, axis: int, as_array: bool) -> None:
    pts = np.array(SQUARE_CCW)
    pts[index, axis] = bad
    field = f"footprint.vertices[{index}].{'lon' if axis == 0 else 'lat'}"
    assert_invalid(pts if as_array else pts.tolist(), field, "must be finite")


@pytest.mark.parametrize(
    ("vertex", "field", "reason"),
    [
        ((180.5, 0.5), "footprint.vertices[1].lon", "longitude 180.5 is outside [-180, 180]"),
        ((-181.0, 0.5), "footprint.vertices[1].lon", "longitude -181.0 is outside [-180, 180]"),
        ((0.5, 90.01), "footprint.vertices[1].lat", "latitude 90.01 is outside [-90, 90]"),
        ((0.5, -91.0), "footprint.vertices[1].lat", "latitude -91.0 is outside [-90, 90]"),
        ((True, 0.5), "footprint.vertices[1].lon", "must be a number, got bool"),
        ((0.5, "1"), "footprint.vertices[1].lat", "must be a number, got str"),
        ((0.5,), "footprint.vertices[1]", "must be a [lon, lat] pair, got 1 values"),
        ((0, 1, 2, 3), "footprint.vertices[1]", "must be a [lon, lat] pair, got 4 values"),
        (7, "footprint.vertices[1]", "must be a [lon, lat] pair"),
        # regression, found by fuzzing (fuzz/fuzz_geojson.py): an object raised KeyError
        ({"lon": 0.5, "lat": 0.5}, "footprint.vertices[1]", "must be a [lon, lat] pair, got an object"),
        ({"type": "Point", "coordinates": [0, 0], "x": 1}, "footprint.vertices[1]", "got an object"),
    ],
)  # fmt: skip
def test_bad_vertex(vertex: object, field: str, reason: str) -> None:
    assert_invalid([(0.0, 0.0), vertex, (1.0, 1.0)], field, reason)


def test_vertices_not_a_sequence() -> None:
    assert_invalid(5, "footprint.vertices", "must be a list of [lon, lat] pairs")
    assert_invalid(np.zeros((4, 4)), "footprint.vertices", "must be a list of [lon, lat] pairs")


def test_self_intersecting_bow_tie() -> None:
    assert_invalid(
        [(0, 0), (2, 2), (2, 0), (0, 1)], "footprint.vertices", "ring is self-intersecting near ("
    )
    # A symmetric bow-tie's two lobes cancel: it is rejected, but as "zero area".
    assert_invalid([(0, 0), (1, 1), (1, 0), (0, 1)], "footprint.vertices", "ring has zero area")


@pytest.mark.parametrize(
    "vertices",
    [[(0, 0), (1, 0), (2, 0)], [(5, 0), (5, 1), (5, 2)], [(0, 0), (2, 0), (1, 0)]],
    ids=["equator", "meridian", "out-and-back"],
)
def test_zero_area_ring(vertices: list[tuple[float, float]]) -> None:
    assert_invalid(vertices, "footprint.vertices", "ring has zero area")


def test_too_large_or_globe_spanning_polygons() -> None:
    big = [(-20, -20), (20, -20), (20, 20), (-20, 20)]
    assert_invalid(big, "footprint.vertices", "more than the 3000 km supported; split it")
    assert_invalid(
        [(0, 0), (120, 0), (-120, 0)], "footprint.vertices", "spans too much of the globe"
    )


# -- Polygon: antimeridian, poles, radius ------------------------------------------------


def test_antimeridian_polygon_is_small_and_centred_on_it() -> None:
    p = Polygon(ANTIMERIDIAN)
    assert abs(p.centre[0]) == pytest.approx(180.0, abs=1e-9)
    assert p.centre[1] == pytest.approx(0.0, abs=1e-9)
    assert 15_690 < p.radius_m < 15_700  # half-diagonal of a 0.2° square, not half the globe
    same_at_zero = Polygon([(-0.1, -0.1), (0.1, -0.1), (0.1, 0.1), (-0.1, 0.1)])
    assert p.area_m2 == pytest.approx(same_at_zero.area_m2, rel=1e-9)
    assert p.area_m2 == pytest.approx(4.9236e8, rel=1e-4)


@pytest.mark.parametrize("lat", [85.0, -85.0])
def test_polygon_around_a_pole(lat: float) -> None:
    p = Polygon(polar_ring(lat))
    assert abs(p.centre[1]) > 89.9999
    assert math.copysign(1.0, p.centre[1]) == math.copysign(1.0, lat)
    dense = np.arange(-180.0, 180.0, 0.01)  # the polar cap, as a 36,000-vertex ring
    pyproj_cap, _ = GEOD.polygon_area_perimeter(dense, np.full_like(dense, lat))
    assert abs(pyproj_cap) == pytest.approx(9.7916e11, rel=1e-4)
    assert p.area_m2 == pytest.approx(abs(pyproj_cap), rel=1e-4)
    assert p.area_m2 < abs(pyproj_cap)  # geodesic edges bow poleward, cutting a little off


RADIUS_CASES = [
    pytest.param(regular(10.0, 0.0, 5_000.0, 24), id="equator-5km"),
    pytest.param(regular(-70.0, -33.0, 40_000.0, 7, az0=13), id="santiago-40km"),
    pytest.param(np.array(ANTIMERIDIAN), id="antimeridian"),
    pytest.param(regular(179.95, 60.0, 500_000.0, 9), id="antimeridian-500km"),
    pytest.param(
        np.array(polar_ring(85.0, 5.0)),
        id="north-pole-ring",
        marks=bug(
            "radius_m is not an upper bound: lat-85 ring around the pole has radius_m "
            "558264 m but its vertices are 558456 m from its centre (the pole)"
        ),
    ),
    pytest.param(
        regular(0.0, 85.0, 2_900_000.0, 40),
        id="2900km-at-lat85",
        marks=bug(
            "radius_m under-estimates large high-latitude polygons: 2,900 km 40-gon at "
            "lat 85 has radius_m 2903742.6 m, boundary reaches 2903769.8 m"
        ),
    ),
]


@pytest.mark.parametrize("vertices", RADIUS_CASES)
def test_radius_is_an_upper_bound_of_boundary_distances(vertices: np.ndarray) -> None:
    p = Polygon(vertices)
    far = max_boundary_distance(p)
    assert far > 0
    assert p.radius_m >= far


@bug(
    "Polygon.centre returns the geocentric latitude of the mean vertex direction as if it "
    "were geodetic: a 5 km polygon around (10, 47) gets centre lat 46.808 (21 km away, "
    "outside the polygon) and radius_m 26.3 km"
)
def test_centre_of_a_symmetric_mid_latitude_polygon() -> None:
    p = Polygon(regular(10.0, 47.0, 5_000.0, 36))
    assert p.centre[1] == pytest.approx(47.0, abs=1e-3)
    assert p.radius_m < 5_100.0


def test_centre_and_radius_of_a_symmetric_equatorial_polygon() -> None:
    p = Polygon(regular(10.0, 0.0, 5_000.0, 36))
    assert p.centre == pytest.approx((10.0, 0.0), abs=1e-9)
    assert 5_000.0 <= p.radius_m < 5_001.0


# -- Circle ------------------------------------------------------------------------------


def assert_bad_circle(centre: object, radius: object, field: str, reason: str) -> None:
    with pytest.raises(InvalidVolume) as ei:
        Circle(centre, radius)  # type: ignore[arg-type]
    assert ei.value.field == field
    assert reason in ei.value.reason, ei.value.reason


R, C, OK = "footprint.radius_m", "footprint.centre", (10.0, 47.0)


@pytest.mark.parametrize(
    ("centre", "radius", "field", "reason"),
    [
        (OK, 0, R, "must be greater than 0"),
        (OK, -1.0, R, "must be greater than 0"),
        (OK, math.nan, R, "must be finite"),
        (OK, math.inf, R, "must be finite"),
        (OK, True, R, "must be a number, got bool"),
        (OK, "500", R, "must be a number, got str"),
        (OK, FRAME_MAX_RADIUS_M + 1, R, "3e+06 m is above the 3e+06 m supported"),
        ((180.1, 0), 1.0, C + ".lon", "longitude 180.1 is outside [-180, 180]"),
        ((0, -90.5), 1.0, C + ".lat", "latitude -90.5 is outside [-90, 90]"),
        ((math.nan, 0), 1.0, C + ".lon", "must be finite"),
        ((0, math.inf), 1.0, C + ".lat", "must be finite"),
        ((1, 2, 3), 1.0, C, "must be a [lon, lat] pair"),
        (5, 1.0, C, "must be a [lon, lat] pair"),
    ],
)
def test_circle_validation(centre: object, radius: object, field: str, reason: str) -> None:
    assert_bad_circle(centre, radius, field, reason)


def test_circle_values() -> None:
    c = Circle([10, 47], 500)  # type: ignore[arg-type]
    assert c.centre == (10.0, 47.0)
    assert isinstance(c.centre, tuple)
    assert type(c.radius_m) is float
    assert c.core_radius_m == 500.0
    assert c.kind == "circle"
    assert c.area_m2 == pytest.approx(math.pi * 500.0**2, rel=1e-6)
    assert Circle((0, 0), FRAME_MAX_RADIUS_M).radius_m == 3_000_000.0


@pytest.mark.parametrize("lat", [90.0, -90.0])
def test_circle_at_a_pole_is_normalised(lat: float) -> None:
    a, b = Circle((123.0, lat), 1_000.0), Circle((-45.0, lat), 1_000.0)
    assert a.centre == b.centre == (0.0, lat)
    assert a == b
    assert hash(a) == hash(b)


# -- value semantics ---------------------------------------------------------------------


def test_footprints_are_immutable() -> None:
    p, c = Polygon(SQUARE_CCW), Circle((10.0, 47.0), 500.0)
    with pytest.raises(AttributeError, match="immutable"):
        p._lonlat = np.zeros((3, 2))  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.centre = (0.0, 0.0)  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        p.lonlat[0, 0] = 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.radius_m = 1.0  # type: ignore[misc]
    assert p.vertices == tuple(SQUARE_CCW)
    assert c.radius_m == 500.0


@pytest.mark.parametrize(
    "fp",
    [Polygon(SQUARE_CW), Polygon(ANTIMERIDIAN), Circle((10.0, 47.0), 500.0)],
    ids=["polygon", "antimeridian", "circle"],
)
def test_pickle_round_trip(fp: Polygon | Circle) -> None:
    back = pickle.loads(pickle.dumps(fp))
    assert type(back) is type(fp)
    assert back == fp
    assert hash(back) == hash(fp)
    assert back.radius_m == fp.radius_m
    assert back.centre == fp.centre


@bug("Polygon hashes pts.tobytes(): polygons equal up to -0.0 vs 0.0 hash differently")
def test_equal_polygons_hash_equal_with_negative_zero() -> None:
    a = Polygon([(-0.0, 0.0), (1.0, 0.0), (1.0, 1.0)])
    b = Polygon([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)])
    assert a == b
    assert hash(a) == hash(b)


@bug("a huge int (10**400, valid JSON) raises OverflowError from float(), not InvalidVolume")
def test_huge_integer_is_invalid_volume() -> None:
    assert_invalid([(10**400, 0), (1, 0), (1, 1)], "footprint.vertices[0].lon", "too large")
    assert_bad_circle((0.0, 0.0), 10**400, "footprint.radius_m", "too large")
