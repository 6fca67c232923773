"""The horizontal decision against a pyproj sampling oracle: no false negatives, ever."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from deconfliction.geo import Circle, Polygon, footprint_distance
from deconfliction.geo._spatial import spatial_check
from tests.oracles import oracle_distance, witness_distance
from tests.strategies import footprint_pairs


def _describe(fp) -> str:
    if isinstance(fp, Circle):
        return repr(fp)
    return f"Polygon({fp.lonlat.tolist()!r})"


def _tolerance(d: float) -> float:
    return max(1.0, 1e-4 * d)


@settings(max_examples=100)
@given(footprint_pairs())
def test_distance_matches_the_geodesic_oracle(pair):
    a, b = pair
    note(f"{_describe(a)} / {_describe(b)}")
    ours = footprint_distance(a, b)
    truth = oracle_distance(a, b)
    # the oracle's samples are real boundary points: it may overestimate by a few mm
    assert abs(ours - truth) <= _tolerance(truth) + 0.02, (ours, truth)


@settings(max_examples=100)
@given(footprint_pairs(), st.floats(-3.0, 3.0))
def test_no_false_negative_and_false_positives_within_a_metre(pair, shift):
    a, b = pair
    note(f"{_describe(a)} / {_describe(b)}")
    truth = oracle_distance(a, b)
    threshold = max(0.0, truth + shift)
    note(f"lower/upper {spatial_check(a, [b], threshold)}")
    hit = bool(spatial_check(a, [b], threshold).hit[0])
    if truth <= threshold:
        assert hit, f"missed conflict: distance {truth} <= threshold {threshold}"
    if truth > threshold + 1.0 + 0.05:
        assert not hit, f"false positive beyond 1 m: distance {truth}, threshold {threshold}"


@settings(max_examples=100)
@given(footprint_pairs())
def test_witness_pairs_are_always_hits(pair):
    a, b = pair
    w = witness_distance(a, b)
    assert spatial_check(a, [b], w).hit[0]
    assert spatial_check(b, [a], w).hit[0]


def test_batch_equals_single_decisions():
    base = Polygon([(10, 47), (10.5, 47), (10.5, 47.4), (10.2, 47.2), (10, 47.4)])
    cands = [
        Circle((10.25, 47.3), 1_000.0),  # inside the notch: clear of the polygon
        Circle((10.25, 47.1), 1_000.0),  # inside
        Circle((11.0, 47.2), 30_000.0),
        Polygon([(10.6, 47), (10.7, 47), (10.7, 47.1)]),
    ]
    for threshold in (0.0, 5_000.0, 8_000.0):
        batch = spatial_check(base, cands, threshold)
        for i, c in enumerate(cands):
            assert batch.hit[i] == spatial_check(base, [c], threshold).hit[0]
            assert batch.hit[i] == (oracle_distance(base, c) <= threshold)
    assert list(spatial_check(base, cands, 0.0).hit) == [False, True, False, False]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # two discs across the antimeridian, 2 km apart edge to edge
        (Circle((179.99, 0.0), 1_000.0), Circle((-179.99, 0.0), 1_000.0), 2_226.39 - 2_000.0),
        # the pole inside a polygon ringing it, a circle at the pole
        (
            Polygon([(lon, 89.0) for lon in range(-180, 180, 30)]),
            Circle((0.0, 90.0), 10.0),
            0.0,
        ),
    ],
)
def test_known_cases(a, b, expected):
    assert math.isclose(footprint_distance(a, b), expected, abs_tol=1.0)
    assert math.isclose(oracle_distance(a, b), expected, abs_tol=1.0)


@example(((10.0, 47.0), 2.0))
@settings(max_examples=100)
@given(st.tuples(st.tuples(st.floats(-179, 179), st.floats(-85, 85)), st.floats(1, 10)))
def test_tiny_footprints(args):
    (lon, lat), r = args
    a = Circle((lon, lat), r)
    b = Circle((lon, lat + 3 * r / 111_000.0), r)
    assert abs(footprint_distance(a, b) - oracle_distance(a, b)) <= 0.01
