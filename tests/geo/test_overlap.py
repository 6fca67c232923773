"""Exact 4D overlap: symmetry, buffers only add hits, agreement with the oracle."""

from __future__ import annotations

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from deconfliction.geo import AltitudeBand, Circle, Polygon, TimeWindow, Volume4D, overlap
from tests.oracles import oracle_distance
from tests.strategies import EPOCH, buffers_st, volume_pairs


@settings(max_examples=80)
@given(volume_pairs(), buffers_st)
def test_symmetric(pair, buffers):
    a, b = pair
    h, v, t = buffers
    ab = overlap(a, b, horizontal_m=h, vertical_m=v, time_s=t)
    ba = overlap(b, a, horizontal_m=h, vertical_m=v, time_s=t)
    assert (ab is None) == (ba is None)
    if ab is not None and ba is not None:
        assert ab == ba


@settings(max_examples=80)
@given(volume_pairs(), buffers_st, buffers_st)
def test_buffers_only_add_hits(pair, small, extra):
    a, b = pair
    h, v, t = small
    dh, dv, dt = extra
    if overlap(a, b, horizontal_m=h, vertical_m=v, time_s=t) is not None:
        assert overlap(a, b, horizontal_m=h + dh, vertical_m=v + dv, time_s=t + dt) is not None


@settings(max_examples=60)
@given(volume_pairs(), st.floats(0, 20_000))
def test_decision_agrees_with_oracle(pair, h):
    a, b = pair
    note(f"{a.footprint.lonlat.tolist() if isinstance(a.footprint, Polygon) else a.footprint}")
    note(f"{b.footprint.lonlat.tolist() if isinstance(b.footprint, Polygon) else b.footprint}")
    truth = oracle_distance(a.footprint, b.footprint)
    ov = overlap(a, b, horizontal_m=h, vertical_m=1e6, time_s=1e7)
    if truth <= h:
        assert ov is not None, f"missed: {truth} <= {h}"
    if truth > h + 1.05:
        assert ov is None, f"false positive beyond 1 m: {truth} > {h}"
    if ov is not None:
        assert abs(ov.horizontal_distance_m - truth) <= max(1.0, 1e-4 * truth) + 0.02


def _vol(fp, lo=0.0, hi=100.0, start=0.0, hours=1.0):
    return Volume4D(
        fp, AltitudeBand(lo, hi), TimeWindow.from_epoch(EPOCH + start, EPOCH + start + hours * 3600)
    )


def test_touching_windows_and_bands_conflict():
    c = Circle((10.0, 47.0), 100.0)
    a = _vol(c, 0, 100, 0, 1)
    b = _vol(c, 100, 200, 3600, 1)  # starts when a ends, sits on top of it
    ov = overlap(a, b)
    assert ov is not None
    assert ov.time_window is None
    assert ov.time_gap_s == 0.0
    assert ov.altitude_band is None
    assert ov.vertical_gap_m == 0.0


def test_gaps_respect_buffers():
    c = Circle((10.0, 47.0), 100.0)
    a = _vol(c, 0, 100, 0, 1)
    b = _vol(c, 400, 500, 3600 + 600, 1)
    assert overlap(a, b) is None
    assert overlap(a, b, vertical_m=300, time_s=600) is not None
    assert overlap(a, b, vertical_m=299.9, time_s=600) is None
    assert overlap(a, b, vertical_m=300, time_s=599.9) is None


def test_overlap_fields_and_intersection_geojson():
    a = _vol(Polygon([(10.0, 47.0), (10.2, 47.0), (10.2, 47.2), (10.0, 47.2)]), 0, 300, 0, 2)
    b = _vol(Polygon([(10.1, 47.1), (10.3, 47.1), (10.3, 47.3), (10.1, 47.3)]), 200, 900, 3600, 2)
    ov = overlap(a, b)
    assert ov is not None
    assert ov.horizontal_distance_m == 0.0
    assert ov.altitude_band == AltitudeBand(200, 300)
    assert ov.time_window is not None
    assert ov.time_window.duration_s == 3600
    geo = ov.intersection
    assert geo is not None
    assert geo["type"] == "Polygon"
    lons = [p[0] for p in geo["coordinates"][0]]
    lats = [p[1] for p in geo["coordinates"][0]]
    assert min(lons) == pytest.approx(10.1, abs=1e-3)
    assert max(lons) == pytest.approx(10.2, abs=1e-3)
    assert min(lats) == pytest.approx(47.1, abs=1e-3)
    assert max(lats) == pytest.approx(47.2, abs=2e-3)


def test_disjoint_footprints_have_no_intersection():
    a = _vol(Circle((10.0, 47.0), 100.0))
    b = _vol(Circle((10.0, 47.01), 100.0))
    ov = overlap(a, b, horizontal_m=5_000)
    assert ov is not None
    assert ov.intersection is None
    assert ov.horizontal_distance_m == pytest.approx(1_111.9 - 200, abs=1.0)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_bad_buffers_are_rejected(bad):
    v = _vol(Circle((0.0, 0.0), 10.0))
    with pytest.raises(ValueError, match="horizontal_m"):
        overlap(v, v, horizontal_m=bad)
