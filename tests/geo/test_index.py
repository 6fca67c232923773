"""VolumeIndex against brute force: same hits, under interleaved writes, everywhere."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.geo import (
    AltitudeBand,
    Buffers,
    Circle,
    TimeWindow,
    Volume4D,
    VolumeIndex,
    overlap,
)
from tests.strategies import EPOCH, buffers_st, scenes


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


@settings(max_examples=60)
@given(scenes(max_size=14), ops, buffers_st, st.data())
def test_query_equals_brute_force_under_interleaved_writes(scene, operations, buffers, data):
    index = VolumeIndex(cell_m=data.draw(st.sampled_from([1_000.0, 100_000.0])), bucket_s=3_600.0)
    stored: dict[int, list[Volume4D]] = {}
    pool = list(scene)
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
