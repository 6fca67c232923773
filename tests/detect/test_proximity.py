"""Proximity: unit cases, and property tests against two independent O(N²) oracles.

* **Same-model oracle** (exactness of the decision, grid included): every pair, scalar
  Python, the model's separations sampled densely over the look-ahead (plus the CPA and
  the ends). A pair is *certain* when the sampled margin ``min_t max(h/H, v/V) − 1`` is
  beyond what sampling can hide (its Lipschitz bound × step); the engine must agree on
  every certain pair — no tolerance otherwise.
* **Geodesic oracle** (how good the model is): each track flown on its own geodesic with
  pyproj, distances by pyproj. The engine must flag every pair the geodesic oracle sees
  losing separation by more than the model error bound, and nothing it sees clear by more.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.detect import ProximityRules, Separation, TrackSet, detect_proximity
from deconfliction.detect._proximity import _Columns, relative_motion
from deconfliction.errors import InvalidInput
from deconfliction.geo._geodesy import GEOD
from tests.strategies import track_columns

H, V = 9_260.0, 304.8


def _tracks(rows: list[tuple], **extra) -> TrackSet:
    """rows: (id, party, lon, lat, alt, gs, trk, vs)."""
    ids, party, lon, lat, alt, gs, trk, vs = (list(c) for c in zip(*rows, strict=True))
    return TrackSet.from_columns(
        ids=ids, party=party, lon=lon, lat=lat, alt_m=alt, gs_mps=gs, trk_deg=trk,
        vs_mps=vs, time_s=[0.0] * len(rows), **extra,
    )  # fmt: skip


def _east(lon: float, lat: float, metres: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, 90.0, metres)
    return float(x), float(y)


def _pairs(ts: TrackSet, **kw) -> set[tuple[str, str]]:
    r = detect_proximity(ts, **kw)
    return {tuple(sorted((ts.ids[a], ts.ids[b]))) for a, b in zip(r.i, r.j, strict=True)}


# --- unit cases ------------------------------------------------------------------------------


def test_head_on_time_and_cpa():
    # b flies a's geodesic backwards (its track is the geodesic's back azimuth, not 270°)
    lon, lat, back = GEOD.fwd(2.0, 47.0, 90.0, 60_000.0)
    ts = _tracks(
        [("a", "red", 2.0, 47.0, 9_000, 200, 90, 0), ("b", "blue", lon, lat, 9_000, 200, back, 0)]
    )
    r = detect_proximity(ts, lookahead_s=300)
    assert len(r) == 1
    # closing at 400 m/s from 60 km: 5 NM after (60,000 − 9,260)/400 s, CPA after 150 s
    assert r.time_to_loss_s[0] == pytest.approx((60_000 - H) / 400, abs=0.5)
    assert r.cpa_time_s[0] == pytest.approx(150, abs=0.5)
    assert r.cpa_distance_m[0] < 100
    assert r.cpa_vertical_m[0] == 0
    # the same with 120 s look-ahead: loss at ~127 s is beyond it
    assert len(detect_proximity(ts, lookahead_s=120)) == 0


def test_crossing_at_right_angles():
    # a flies north through the crossing point in 100 s, b flies east through it in 100 s
    a_lon, a_lat, _ = GEOD.fwd(10.0, 50.0, 180.0, 20_000.0)
    b_lon, b_lat, b_back = GEOD.fwd(10.0, 50.0, 270.0, 20_000.0)
    ts = _tracks(
        [
            ("a", "red", a_lon, a_lat, 9_000, 200, 0, 0),
            ("b", "blue", b_lon, b_lat, 9_000, 200, b_back, 0),
        ]
    )
    r = detect_proximity(ts)
    assert len(r) == 1
    assert r.cpa_time_s[0] == pytest.approx(100, abs=1)
    assert r.cpa_distance_m[0] < 50


def test_parallel_tracks_keep_their_separation():
    lon, lat = _east(2.0, 47.0, H + 200)  # just beyond 5 NM, same speed and heading
    ts = _tracks(
        [("a", "red", 2.0, 47.0, 9_000, 230, 0, 0), ("b", "blue", lon, lat, 9_000, 230, 0, 0)]
    )
    assert _pairs(ts, lookahead_s=300) == set()
    lon, lat = _east(2.0, 47.0, H - 200)  # just inside: lost now
    ts = _tracks(
        [("a", "red", 2.0, 47.0, 9_000, 230, 0, 0), ("b", "blue", lon, lat, 9_000, 230, 0, 0)]
    )
    r = detect_proximity(ts)
    assert len(r) == 1
    assert r.time_to_loss_s[0] == 0


def test_vertical_only_converging_and_passing():
    # same spot, 2,000 ft apart; b climbs at 10 m/s: vertical loss when 305 m < Δh
    ts = _tracks(
        [("a", "red", 2.0, 47.0, 9_000, 0, 0, 0), ("b", "blue", 2.0, 47.0, 8_390, 0, 0, 10)]
    )
    r = detect_proximity(ts)
    assert len(r) == 1
    assert r.time_to_loss_s[0] == pytest.approx((610 - V) / 10, abs=1e-6)
    # level and 1,001 ft apart: never
    ts = _tracks(
        [("a", "red", 2.0, 47.0, 9_000, 0, 0, 0), ("b", "blue", 2.0, 47.0, 9_000 - 305.1, 0, 0, 0)]
    )
    assert len(detect_proximity(ts)) == 0


def test_horizontal_and_vertical_must_overlap_in_time():
    # b passes overhead (CPA at 50 s) but its descent brings it within 1,000 ft only after
    # the horizontal conflict is over
    lon, lat = _east(2.0, 47.0, 20_000.0)
    ts = _tracks(
        [("a", "red", 2.0, 47.0, 6_000, 200, 90, 0), ("b", "blue", lon, lat, 9_000, 200, 270, -20)]
    )
    # horizontal loss from (20,000 − 9,260)/400 = 26.9 s to 73.2 s; vertical loss from
    # (3,000 − 305)/20 = 134.8 s: never both
    assert len(detect_proximity(ts, lookahead_s=300)) == 0


def test_already_lost_counts():
    ts = _tracks(
        [("a", "red", 2.0, 47.0, 9_000, 200, 0, 0), ("b", "blue", 2.0, 47.0, 9_100, 200, 180, 0)]
    )
    r = detect_proximity(ts)
    assert len(r) == 1
    assert r.time_to_loss_s[0] == 0
    assert r.cpa_time_s[0] == 0


def test_same_party_is_excluded():
    rows = [("a", "red", 2.0, 47.0, 9_000, 200, 0, 0), ("b", "red", 2.0, 47.0, 9_000, 200, 180, 0)]
    assert _pairs(_tracks(rows)) == set()
    rows[1] = ("b", "blue", *rows[1][2:])
    assert _pairs(_tracks(rows)) == {("a", "b")}


def test_across_the_antimeridian_and_near_a_pole():
    lon, lat = _east(179.95, 10.0, 30_000.0)
    assert lon < 0  # really across
    ts = _tracks(
        [("a", "red", 179.95, 10.0, 9_000, 200, 90, 0), ("b", "blue", lon, lat, 9_000, 200, 270, 0)]
    )
    assert detect_proximity(ts).time_to_loss_s[0] == pytest.approx((30_000 - H) / 400, abs=0.5)
    # two tracks either side of the North Pole, flying towards it along their meridians
    ts = _tracks(
        [("a", "red", 0.0, 89.9, 9_000, 200, 0, 0), ("b", "blue", 180.0, 89.9, 9_000, 200, 0, 0)]
    )
    r = detect_proximity(ts)
    gap = 2 * GEOD.inv(0.0, 89.9, 0.0, 90.0)[2]
    assert r.time_to_loss_s[0] == pytest.approx((gap - H) / 400, abs=0.5)


def test_kind_overrides_and_per_call_rules():
    lon, lat = _east(2.0, 47.0, 3_000.0)
    rows = [("a", "red", 2.0, 47.0, 100, 0, 0, 0), ("b", "blue", lon, lat, 100, 0, 0, 0)]
    ts = _tracks(rows, kind=["uas", "uas"])
    uas = ProximityRules(by_kinds={("uas", "uas"): Separation(1_000.0, 50.0)})
    assert _pairs(ts) == {("a", "b")}
    assert _pairs(ts, rules=uas) == set()
    mixed = _tracks(rows, kind=["uas", "airliner"])
    assert _pairs(mixed, rules=uas) == {("a", "b")}  # the default applies to uas–airliner
    assert _pairs(ts, rules=ProximityRules(Separation(2_000.0, 100.0))) == set()


def test_bad_input():
    ts = _tracks([("a", "red", 2.0, 47.0, 100, 0, 0, 0), ("b", "blue", 2.0, 47.0, 100, 0, 0, 0)])
    with pytest.raises(InvalidInput, match="lookahead_s"):
        detect_proximity(ts, lookahead_s=0)
    moved = TrackSet.from_columns(
        ids=["a", "b"], party=["r", "b"], lon=[0, 0], lat=[0, 0], alt_m=[0, 0], gs_mps=[0, 0],
        trk_deg=[0, 0], vs_mps=[0, 0], time_s=[0.0, 1.0],
    )  # fmt: skip
    with pytest.raises(InvalidInput, match="advanced_to"):
        detect_proximity(moved)
    assert len(detect_proximity(moved.advanced_to(1.0))) == 1
    with pytest.raises(InvalidInput, match=r"separation\.horizontal_m"):
        Separation(-1.0, 10.0)


# --- oracles -----------------------------------------------------------------------------------


def _model_oracle(ts: TrackSet, t_max: float, steps: int = 1_500) -> tuple[set, set]:
    """(certain conflicts, certain non-conflicts) by sampling the model pair by pair."""
    cols = _Columns.of(ts)
    yes, no = set(), set()
    n = len(ts)
    t = np.linspace(0.0, t_max, steps + 1)
    for i in range(n):
        for j in range(i + 1, n):
            if ts.party[i] == ts.party[j]:
                continue
            p = relative_motion(cols, np.array([i]), np.array([j]))
            px, py, pz, wx, wy, wz = (float(c[0]) for c in p)
            dh = float(ts.alt_m[j] - ts.alt_m[i])
            dv = float(ts.vs_mps[j] - ts.vs_mps[i])
            a = wx * wx + wy * wy + wz * wz
            tc = min(max(-(px * wx + py * wy + pz * wz) / a, 0.0), t_max) if a > 0 else 0.0
            ts_ = np.append(t, tc)
            h = np.sqrt((px + wx * ts_) ** 2 + (py + wy * ts_) ** 2 + (pz + wz * ts_) ** 2)
            v = np.abs(dh + dv * ts_)
            g = np.maximum(h / H, v / V) - 1.0
            lip = math.sqrt(a) / H + abs(dv) / V
            slack = lip * (t_max / steps) + 1e-9
            key = (i, j)
            if g.min() < -1e-12:
                yes.add(key)
            elif g.min() > slack:
                no.add(key)
    return yes, no


@settings(max_examples=150)
@given(cols=track_columns(), lookahead=st.sampled_from([120.0, 300.0]) | st.floats(1, 600))
def test_equals_the_same_model_oracle(cols, lookahead):
    ts = TrackSet.from_columns(**cols)
    r = detect_proximity(ts, lookahead_s=lookahead)
    got = set(zip(r.i.tolist(), r.j.tolist(), strict=True))
    yes, no = _model_oracle(ts, lookahead)
    assert yes <= got, f"missed {yes - got}"
    assert not (got & no), f"false {got & no}"
    assert np.all(r.time_to_loss_s >= 0)
    assert np.all(r.time_to_loss_s < lookahead)


def _geodesic_margin(ts: TrackSet, i: int, j: int, t: np.ndarray) -> float:
    la, pa, _ = GEOD.fwd(np.full(len(t), ts.lon[i]), np.full(len(t), ts.lat[i]),
                         np.full(len(t), ts.trk_deg[i]), ts.gs_mps[i] * t)  # fmt: skip
    lb, pb, _ = GEOD.fwd(np.full(len(t), ts.lon[j]), np.full(len(t), ts.lat[j]),
                         np.full(len(t), ts.trk_deg[j]), ts.gs_mps[j] * t)  # fmt: skip
    _, _, d = GEOD.inv(la, pa, lb, pb)
    v = np.abs(ts.alt_m[j] - ts.alt_m[i] + (ts.vs_mps[j] - ts.vs_mps[i]) * t)
    # margin in metres of horizontal distance, where the vertical is lost
    hm = np.where(v < V, np.asarray(d) - H, np.inf)
    return float(hm.min())


@settings(max_examples=60)
@given(cols=track_columns(max_size=10), lookahead=st.sampled_from([120.0, 300.0]))
def test_model_against_geodesic_flight(cols, lookahead):
    """Pairs the geodesic oracle sees losing (or keeping) separation by more than the model
    error bound (1 m + 0.06 m/s · T) plus sampling are flagged (or not) by the engine."""
    ts = TrackSet.from_columns(**cols)
    r = detect_proximity(ts, lookahead_s=lookahead)
    got = set(zip(r.i.tolist(), r.j.tolist(), strict=True))
    t = np.linspace(0.0, lookahead, 1_201)
    step = lookahead / 1_200
    bound = 1.0 + 0.06 * lookahead
    for i in range(len(ts)):
        for j in range(i + 1, len(ts)):
            if ts.party[i] == ts.party[j]:
                continue
            margin = _geodesic_margin(ts, i, j, t)
            sampling = (ts.gs_mps[i] + ts.gs_mps[j]) * step
            if margin < -bound:
                assert (i, j) in got
            elif margin > bound + sampling and math.isfinite(margin):
                # vertical side: the sampled vertical may also hide a brief overlap
                dv = abs(ts.vs_mps[j] - ts.vs_mps[i])
                if dv * step < 1.0:
                    assert (i, j) not in got
