"""Storage records: a reloaded volume equals the original and decides exactly as it does."""

from __future__ import annotations

import json

import pytest
from hypothesis import given

from deconfliction.geo import (
    Polygon,
    Volume4D,
    overlap,
    volume_from_record,
    volume_to_record,
)
from tests.strategies import buffers_st, volume_pairs


def _reload(v: Volume4D) -> Volume4D:
    return volume_from_record(json.loads(json.dumps(volume_to_record(v))))


@given(volume_pairs(), buffers_st)
def test_reloaded_volumes_are_equal_and_decide_the_same(
    pair: tuple[Volume4D, Volume4D], buffers: tuple[float, float, float]
) -> None:
    a, b = pair
    ra, rb = _reload(a), _reload(b)
    assert (ra, rb) == (a, b)
    assert hash(ra) == hash(a)
    h, v, t = buffers
    kw = {"horizontal_m": h, "vertical_m": v, "time_s": t}
    fresh, reloaded = overlap(a, b, **kw), overlap(ra, rb, **kw)
    assert (fresh is None) == (reloaded is None)
    if fresh is not None and reloaded is not None:
        assert abs(fresh.horizontal_distance_m - reloaded.horizontal_distance_m) <= max(
            1e-3, 1e-9 * fresh.horizontal_distance_m
        )
    if isinstance(a.footprint, Polygon):
        assert isinstance(ra.footprint, Polygon)
        assert ra.footprint.radius_m == a.footprint.radius_m
        # re-densified on reload: the same ring up to the last bit of a coordinate
        assert ra.footprint._lat_range == pytest.approx(a.footprint._lat_range, abs=1e-12)
