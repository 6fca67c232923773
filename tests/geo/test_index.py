"""VolumeIndex against brute force: same hits, under interleaved writes, everywhere."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.geo import (
    AltitudeBand,
    Buffers,
    Circle,
    Footprint,
    Polygon,
    TimeWindow,
    Volume4D,
    VolumeIndex,
    footprint_distance,
    overlap,
)
from deconfliction.geo._geodesy import GEOD
from deconfliction.geo._index import _ring, _shortcuts
from tests.oracles import witness_distance
from tests.strategies import (
    EPOCH,
    anchors,
    buffers_st,
    footprint_pairs,
    footprints_near,
    scenes,
    sizes,
    star_polygons,
)


def _brute(stored: dict, q: Volume4D, b: Buffers, exclude=None, groups=None, margins=None):
    """The truth by definition: overlap() against every stored volume."""
    out = set()
    for key, vols in stored.items():
        if exclude is not None and groups and groups.get(key) == exclude:
            continue
        m = (margins or {}).get(key, 0.0)
        for i, v in enumerate(vols):
            if overlap(
                q, v, horizontal_m=b.horizontal_m + m, vertical_m=b.vertical_m, time_s=b.time_s
            ):
                out.add((key, i))
    return out


ops = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "replace"]), st.integers(0, 7)),
    min_size=1,
    max_size=25,
)


def _apply(
    index: VolumeIndex, operations: list[tuple[str, int]], pool: list[Volume4D]
) -> dict[int, list[Volume4D]]:
    """Run ``operations`` on ``index``; return what it should hold, by key."""
    stored: dict[int, list[Volume4D]] = {}
    for op, key in operations:
        vols = [pool[(key + j) % len(pool)] for j in range(1 + key % 3)]
        if op == "add" and key not in stored:
            index.add(key, vols)
            stored[key] = vols
        elif op == "remove" and key in stored:
            index.remove(key)
            del stored[key]
        elif op == "replace":
            index.replace(key, vols[::-1])
            stored[key] = vols[::-1]
    return stored


@settings(max_examples=60)
@given(scenes(max_size=14), ops, buffers_st, st.data())
def test_query_equals_brute_force_under_interleaved_writes(scene, operations, buffers, data):
    index = VolumeIndex(cell_m=data.draw(st.sampled_from([1_000.0, 100_000.0])), bucket_s=3_600.0)
    stored = _apply(index, operations, list(scene))
    assert len(index) == len(stored)
    assert index.volume_count == sum(len(v) for v in stored.values())
    b = Buffers(*buffers)
    for q in scene:
        hits = index.query(q, b)
        got = {(h.key, h.position) for h in hits}
        assert got == {(h.key, h.position) for h in index.scan(q, b)}
        assert got == _brute(stored, q, b)
        for h in hits:  # reported distances agree with the precise pairwise computation
            ov = overlap(
                q, h.volume, horizontal_m=b.horizontal_m, vertical_m=b.vertical_m, time_s=b.time_s
            )
            assert ov is not None
            d = ov.horizontal_distance_m
            assert abs(h.overlap.horizontal_distance_m - d) <= max(1.0, 1e-4 * d)


@settings(max_examples=60)
@given(scenes(max_size=14), ops, st.floats(-86_400, 86_400), st.floats(0, 86_400))
def test_keys_open_between_equals_brute_force(scene, operations, start, length):
    """The keys with a volume open in a time range, under interleaved writes, equal a
    brute-force look at every stored volume's window."""
    index = VolumeIndex(bucket_s=3_600.0)
    stored = _apply(index, operations, list(scene))
    t0 = EPOCH + start
    t1 = t0 + length
    expected = {
        k for k, vs in stored.items() if any(v.time.start_s < t1 and v.time.end_s > t0 for v in vs)
    }
    assert index.keys_open_between(t0, t1) == expected


@settings(max_examples=40)
@given(scenes(max_size=10), buffers_st)
def test_groups_and_margins(scene, buffers):
    index = VolumeIndex()
    stored, groups, margins = {}, {}, {}
    for i, v in enumerate(scene):
        groups[i] = i % 2
        margins[i] = 250.0 * (i % 3)
        stored[i] = [v]
        index.add(i, [v], group=i % 2, margin_m=margins[i])
    b = Buffers(*buffers)
    for q in scene:
        got = {(h.key, h.position) for h in index.query(q, b, exclude_group=0)}
        assert got == _brute(stored, q, b, exclude=0, groups=groups, margins=margins)


def test_past_and_future_volumes_are_not_candidates():
    index = VolumeIndex(bucket_s=3_600.0)
    c = Circle((10.0, 47.0), 1_000.0)
    band = AltitudeBand(0, 100)
    for day in range(-30, 30):
        if day == 0:
            continue
        w = TimeWindow.from_epoch(EPOCH + day * 86_400, EPOCH + day * 86_400 + 3_600)
        index.add(day, [Volume4D(c, band, w)])
    q = Volume4D(c, band, TimeWindow.from_epoch(EPOCH, EPOCH + 3_600))
    assert index.query(q, Buffers(0, 0, 600)) == []
    # the other days are not even looked at: no candidate survives the time buckets
    assert len(index.candidates(q, Buffers(0, 0, 600))) == 0


def test_keys_are_checked():
    index = VolumeIndex()
    v = Volume4D(Circle((0, 0), 1.0), AltitudeBand(0, 1), TimeWindow.from_epoch(EPOCH, EPOCH + 1))
    index.add("a", [v])
    try:
        index.add("a", [v])
    except KeyError:
        pass
    else:
        raise AssertionError("duplicate key accepted")
    index.remove("a")
    assert "a" not in index
    assert index.volume_count == 0
    try:
        index.remove("a")
    except KeyError:
        pass
    else:
        raise AssertionError("missing key removed")


@st.composite
def _apart_pairs(draw: st.DrawFn) -> tuple[Footprint, Footprint]:
    """Pairs that meet or not, about half each: the second centre at 0.5–2 × the sum of
    the radii from the first."""
    if draw(st.booleans()):
        return draw(footprint_pairs())
    lon, lat = draw(anchors)
    a = draw(footprints_near(lon, lat, 0.0))
    size = draw(sizes)
    dist = (a.radius_m + size) * draw(st.floats(0.5, 2.0))
    clon, clat, _ = GEOD.fwd(*a.centre, draw(st.floats(0, 360)), dist)
    if draw(st.integers(0, 4)) == 0:
        return a, Circle((float(clon), float(clat)), size)
    return a, draw(star_polygons(float(clon), float(clat), size))


@settings(max_examples=300)
@given(
    _apart_pairs(),
    st.one_of(st.floats(0.5, 1.5), st.sampled_from([0.999, 1.0, 1.001])),
    st.floats(-5.0, 5.0),
    st.booleans(),
)
def test_shortcuts_never_contradict_the_exact_decision(pair, scale, offset, restored):
    """The vectorised certain-hit / certain-miss tests (inner discs, ring points, separating
    axes) agree with the exact decision wherever they decide: never a miss for a pair
    within the threshold (no sampled pair of real points within it), never a hit for one
    beyond it. (Compared with the oracles, not with overlap(), which may report a tiny
    footprint facing a large one far away as a hit a little beyond the threshold.)"""
    a, b = pair
    truth = footprint_distance(a, b)
    threshold = max(0.0, truth * scale + offset)  # around the true distance
    if restored and isinstance(b, Polygon):  # inner disc recomputed lazily after a reload
        b = Polygon.restore(b.lonlat, b.centre, b.radius_m, b._sag)
    t = TimeWindow.from_epoch(EPOCH, EPOCH + 60)
    band = AltitudeBand(0, 10)
    index = VolumeIndex()
    index.add("b", [Volume4D(b, band, t)])
    q = Volume4D(a, band, t)
    slots, rows = index._gather(q, Buffers(horizontal_m=threshold), None)
    if len(slots) == 0:
        return
    rings = [_ring(index._vols[int(s)]) for s in slots]
    hit, miss = _shortcuts(a, rows, rings, np.array([threshold]))
    assert not (hit[0] and miss[0])
    tol = max(1.0, 1e-4 * truth)
    if hit[0]:
        assert truth <= threshold + tol
    if miss[0]:  # no pair of real points of the footprints is within the threshold
        assert truth > threshold - tol
        assert witness_distance(a, b) > threshold


def test_lazy_overlap_equals_the_pairwise_one():
    c1 = Circle((10.0, 47.0), 1_000.0)
    p2 = Polygon([(10.05, 47.0), (10.1, 47.0), (10.1, 47.05)])
    w = TimeWindow.from_epoch(EPOCH, EPOCH + 3_600)
    v1 = Volume4D(c1, AltitudeBand(0, 300), w)
    v2 = Volume4D(p2, AltitudeBand(200, 900), TimeWindow.from_epoch(EPOCH + 600, EPOCH + 7_200))
    index = VolumeIndex()
    index.add("p", [v2])
    (h,) = index.query(v1, Buffers(horizontal_m=5_000.0))
    ov = overlap(v1, v2, horizontal_m=5_000.0)
    assert ov is not None
    assert h.overlap == ov
    assert hash(h.overlap) == hash(ov)
    assert h.overlap.horizontal_distance_m > 0
    assert h.overlap.intersection is None
    assert repr(h.overlap) == repr(ov)
    with pytest.raises(AttributeError):
        h.overlap.horizontal_distance_m = 0.0  # type: ignore[misc]
