"""Local frames and their error bounds against pyproj (Karney) as the oracle."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.geo._geodesy import (
    E2,
    GEOD,
    A,
    LocalFrame,
    chord_to_geodesic_upper,
    densify_ring,
    ecef,
    sagitta_bound,
)

centres = st.tuples(st.floats(-180, 180), st.floats(-89.9, 89.9))


@settings(max_examples=100)
@given(centres, st.floats(1.0, 2_500_000.0), st.floats(0, 360))
def test_radial_distance_and_inverse(centre, dist, az):
    f = LocalFrame.at(*centre)
    lon, lat, _ = GEOD.fwd(centre[0], centre[1], az, dist)
    x, y = f.forward_deg([lon], [lat])
    r = math.hypot(x[0], y[0])
    # exact on the Gauss sphere; within the conformal-scale bounds on the ellipsoid
    lats = sorted([math.radians(centre[1]), math.radians(lat)])
    lo, hi = f.distance_bounds(r, r, lats[0], lats[1])
    assert float(lo) - 1e-6 <= dist <= float(hi) + 1e-6
    if dist < 200_000:
        assert abs(r - dist) <= 1e-6 * dist + 1e-6
    blon, blat = f.inverse_deg(x, y)
    _, _, back = GEOD.inv(float(blon[0]), float(blat[0]), lon, lat)
    # A centimetre — or, past a pole, the Gauss map's fold: Λ = C·Δλ with C > 1 spans a
    # little more than a turn, so a sliver 2π(1 − 1/C) of longitude wide at the frame's
    # antimeridian maps onto the sphere twice and its points have two preimages. The
    # inverse returns one; the other lies that far along the parallel (checked over 20,000
    # examples: the error equals the sliver to 1e-8 — 9.8 m 2,500 km due north from
    # 82.6°N). Only reported points (closest points, outlines) use the inverse; no decision
    # — no lower bound — depends on it.
    s = math.sin(math.radians(lat))
    along_parallel = A / math.sqrt(1 - E2 * s * s) * math.cos(math.radians(lat))
    fold = 2 * math.pi * (1 - 1 / f.c) * along_parallel
    assert back < 1e-2 + fold * (1 + 1e-6)


@settings(max_examples=100)
@given(
    centres, st.lists(st.tuples(st.floats(0, 360), st.floats(0, 800_000.0)), min_size=2, max_size=2)
)
def test_distance_bounds_contain_the_geodesic(centre, pts):
    f = LocalFrame.at(*centre)
    (a1, d1), (a2, d2) = pts
    lon, lat, _ = GEOD.fwd([centre[0]] * 2, [centre[1]] * 2, [a1, a2], [d1, d2])
    x, y = f.forward_deg(lon, lat)
    planar = math.hypot(x[1] - x[0], y[1] - y[0])
    _, _, s = GEOD.inv(lon[0], lat[0], lon[1], lat[1])
    lo, hi = f.distance_bounds(
        planar, max(d1, d2) * 1.001, math.radians(min(lat)), math.radians(max(lat))
    )
    assert float(lo) <= s + 1e-6
    assert s <= float(hi) + 1e-6


@settings(max_examples=200)
@given(
    centres,
    st.floats(0, 2_500_000.0),
    st.floats(0, 360),
    st.floats(0, 360),
    st.sampled_from([1_000.0, 5_000.0, 10_000.0]),
)
def test_sagitta_bound_holds(centre, r, az, heading, piece):
    f = LocalFrame.at(*centre)
    plon, plat, _ = GEOD.fwd(centre[0], centre[1], az, r)
    qlon, qlat, _ = GEOD.fwd(plon, plat, heading, piece)
    # one consistent source for the whole piece, endpoints included
    line = GEOD.inv_intermediate(
        plon, plat, qlon, qlat, npts=33, initial_idx=0, terminus_idx=0, return_back_azimuth=True
    )
    lon, lat = np.array(line.lons), np.array(line.lats)
    x, y = f.forward_deg(lon, lat)
    dx, dy = x[-1] - x[0], y[-1] - y[0]
    dev = np.abs((x - x[0]) * dy - (y - y[0]) * dx) / math.hypot(dx, dy)
    r_max = float(np.hypot(x, y).max())
    # a piece crossing the meridian behind a pole also jumps the frame's seam
    assert dev.max() <= sagitta_bound(piece, r_max) + f.seam_m(r_max)


@settings(max_examples=100)
@given(
    st.floats(-180, 180),
    st.floats(55.0, 89.9),
    st.sampled_from([1.0, -1.0]),
    st.floats(0.0, 1.0),
    st.floats(1e-7, 1e-3),
)
def test_seam_bound_holds(lon0, lat0, hemi, beyond, eps):
    # two points either side of the meridian opposite the centre, beyond the pole
    f = LocalFrame.at(lon0, hemi * lat0)
    pole_m = GEOD.inv(lon0, hemi * lat0, lon0, hemi * 90.0)[2]
    room = max(0.0, 3_000_000.0 - pole_m)
    lat = hemi * (90.0 - math.degrees(beyond * room / 6_370_000.0))
    back = lon0 + 180.0
    lons = [back - eps, back + eps]
    x, y = f.forward_deg(lons, [lat, lat])
    planar = math.hypot(x[1] - x[0], y[1] - y[0])
    s = GEOD.inv(lons[0], lat, lons[1], lat)[2]
    r_max = float(np.hypot(x, y).max())
    assert planar <= f.stretch(r_max) * s * 1.01 + f.seam_m(r_max) + 1e-6


@settings(max_examples=100)
@given(centres, centres)
def test_chord_bounds_the_geodesic(p, q):
    _, _, s = GEOD.inv(p[0], p[1], q[0], q[1])
    c = float(np.linalg.norm(ecef(*p)[0] - ecef(*q)[0]))
    assert c <= s + 1e-6
    if s < 5_000_000:
        assert s <= float(chord_to_geodesic_upper(c)) + 1e-6


def test_densify_keeps_vertices_and_spacing():
    lon = np.array([0.0, 3.0, 3.0])
    lat = np.array([0.0, 0.0, 2.0])
    ring = densify_ring(lon, lat, 10_000.0)
    for v in zip(lon, lat, strict=True):
        assert any(np.allclose(v, r) for r in ring)
    nxt = np.roll(ring, -1, axis=0)
    _, _, d = GEOD.inv(ring[:, 0], ring[:, 1], nxt[:, 0], nxt[:, 1])
    assert d.max() <= 10_000.0 + 1e-6
    assert len(ring) > 60


def test_conformal_scale_is_one_at_the_frame_latitude():
    for lat in (-89.0, -45.0, 0.0, 30.0, 60.0, 89.5):
        f = LocalFrame.at(0.0, lat)
        assert abs(float(f.conformal_scale(np.radians([lat]))[0]) - 1.0) < 1e-10
