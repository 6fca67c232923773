"""Conformance: unit cases, and a property test against a per-track point oracle.

The oracle checks each linked track on its own: a volume of its activity holds it when the
volume is open now, the altitude is within the band ± the vertical tolerance, and the
geodesic distance to the footprint (a circle: pyproj to the centre; a polygon: PROJ
azimuthal-equidistant about the *track*, where distances from the track are exact, against
the footprint's densely sampled geodesic boundary) is within the tolerance. Decisions must
agree except within 2 m of the horizontal tolerance (the boundary sampling and the
engine's stated margins).
"""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Transformer

from deconfliction.detect import ActivityVolumes, TrackSet, VolumeSet, check_conformance
from deconfliction.errors import InvalidInput
from deconfliction.geo import AltitudeBand, Circle, Polygon, TimeWindow, Volume4D
from deconfliction.geo._geodesy import GEOD
from tests.oracles import boundary
from tests.strategies import EPOCH, star_polygons, track_anchors

NOW = EPOCH
TOL, VTOL = 926.0, 91.44


def _volume(fp, lo=0.0, hi=3_000.0, start=NOW - 60, end=NOW + 3_600) -> Volume4D:
    return Volume4D(fp, AltitudeBand(lo, hi), TimeWindow.from_epoch(start, end))


def _tracks(rows) -> TrackSet:
    """rows: (id, party, lon, lat, alt, activity)."""
    ids, party, lon, lat, alt, act = (list(c) for c in zip(*rows, strict=True))
    n = len(rows)
    return TrackSet.from_columns(
        ids=ids, party=party, lon=lon, lat=lat, alt_m=alt, gs_mps=[50.0] * n,
        trk_deg=[0.0] * n, vs_mps=[0.0] * n, time_s=[NOW] * n, activity=act,
    )  # fmt: skip


def test_inside_within_tolerance_and_outside():
    survey = Circle((2.0, 48.0), 2_000.0)
    vs = VolumeSet([ActivityVolumes("survey", "ngo", [_volume(survey)])])
    at = {d: GEOD.fwd(2.0, 48.0, 90.0, d)[:2] for d in (0.0, 2_800.0, 3_000.0)}
    ts = _tracks(
        [
            ("in", "ngo", *at[0.0], 1_000, "survey"),
            ("edge", "ngo", *at[2_800.0], 1_000, "survey"),  # 800 m out: within 0.5 NM
            ("out", "ngo", *at[3_000.0], 1_000, "survey"),  # 1,000 m out
            ("high", "ngo", *at[0.0], 3_100, "survey"),  # 100 m above the band
            ("free", "ngo", *at[3_000.0], 1_000, None),  # not linked: not checked
            ("other", "army", *at[3_000.0], 1_000, "survey"),  # another party's link: ignored
        ]
    )
    r = check_conformance(ts, vs, NOW)
    assert [ts.ids[i] for i in r.track] == ["out", "high"]
    assert r.checked == 4
    assert len(check_conformance(ts, vs, NOW, tolerance_m=1_100.0, vertical_tolerance_m=150)) == 0


def test_any_volume_of_the_activity_will_do_and_windows_count():
    a = _volume(Circle((2.0, 48.0), 1_000.0))
    b = _volume(Polygon([(3.0, 48.0), (3.1, 48.0), (3.1, 48.1), (3.0, 48.1)]))
    later = _volume(Circle((4.0, 48.0), 1_000.0), start=NOW + 60)
    vs = VolumeSet([ActivityVolumes("op", "af", [a, b, later])])
    ts = _tracks(
        [
            ("t1", "af", 2.0, 48.0, 500, "op"),
            ("t2", "af", 3.05, 48.05, 500, "op"),
            ("t3", "af", 4.0, 48.0, 500, "op"),  # in a volume that opens in a minute
            ("t4", "af", 2.5, 48.0, 500, "gone"),  # linked to an activity not active
        ]
    )
    r = check_conformance(ts, vs, NOW)
    assert [ts.ids[i] for i in r.track] == ["t3"]
    assert r.activity.tolist() == [0]


def test_bad_tolerance():
    vs = VolumeSet([])
    ts = _tracks([("t", "p", 0.0, 0.0, 0, None)])
    try:
        check_conformance(ts, vs, NOW, tolerance_m=-1)
    except InvalidInput:
        pass
    else:
        raise AssertionError("negative tolerance accepted")


def _distance(fp, lon: float, lat: float) -> float:
    if isinstance(fp, Circle):
        return max(0.0, GEOD.inv(fp.centre[0], fp.centre[1], lon, lat)[2] - fp.radius_m)
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84")
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    ring = boundary(fp, max(0.5, fp.radius_m / 4_000.0))
    x, y = tr.transform(ring[:, 0], ring[:, 1])
    poly = shapely.Polygon(np.stack([x, y], axis=1))
    return float(shapely.distance(poly, shapely.Point(0.0, 0.0)))


@settings(max_examples=80)
@given(data=st.data())
def test_equals_the_point_oracle(data):
    lon0, lat0 = data.draw(track_anchors)
    acts = []
    for k in range(data.draw(st.integers(1, 3))):
        vols = []
        for _ in range(data.draw(st.integers(1, 3))):
            az, dist = data.draw(st.floats(0, 360)), data.draw(st.floats(0, 20_000))
            c = GEOD.fwd(lon0, lat0, az, dist)[:2]
            size = data.draw(st.floats(300, 10_000))
            fp = (
                Circle((float(c[0]), float(c[1])), size)
                if data.draw(st.booleans())
                else data.draw(star_polygons(float(c[0]), float(c[1]), size))
            )
            lo = data.draw(st.floats(0, 3_000))
            start = NOW + data.draw(st.sampled_from([-600.0, -600.0, 60.0]))
            vols.append(
                _volume(fp, lo, lo + data.draw(st.floats(100, 2_000)), start, start + 1_200)
            )
        acts.append(ActivityVolumes(f"a{k}", data.draw(st.sampled_from(["red", "blue"])), vols))
    try:
        vs = VolumeSet(acts)
    except InvalidInput:
        assume(False)
    n = data.draw(st.integers(1, 10))
    rows = []
    for i in range(n):
        az, dist = data.draw(st.floats(0, 360)), data.draw(st.floats(0, 30_000))
        lon, lat = GEOD.fwd(lon0, lat0, az, dist)[:2]
        act = data.draw(st.sampled_from([None, *[a.activity for a in acts]]))
        rows.append((f"t{i}", data.draw(st.sampled_from(["red", "blue"])), float(lon), float(lat),
                     data.draw(st.floats(0, 5_000)), act))  # fmt: skip
    ts = _tracks(rows)
    r = check_conformance(ts, vs, NOW)
    bad = set(r.track.tolist())
    by_id = {a.activity: a for a in acts}
    for i, (_, party, lon, lat, alt, act) in enumerate(rows):
        a = by_id.get(act)
        if a is None or a.party != party:
            assert i not in bad
            continue
        dists = [
            _distance(v.footprint, lon, lat)
            for v in a.volumes
            if v.time.start_s <= NOW <= v.time.end_s
            and v.altitude.lower_m - VTOL <= alt <= v.altitude.upper_m + VTOL
        ]
        if any(d <= TOL - 2.0 for d in dists):
            assert i not in bad, (i, dists)
        elif all(d > TOL + 2.0 for d in dists):
            assert i in bad, (i, dists)
