"""The hash grid proposes exactly the pairs within reach: property test against brute force."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.detect._grid import GRID_RADIUS_M, PairGrid, _half_offsets, candidate_pairs
from tests.strategies import track_columns


def _normals(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    phi, lam = np.radians(lat), np.radians(lon)
    return np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)


def _brute(n: tuple[np.ndarray, ...], reach: float) -> set[tuple[int, int]]:
    g = np.stack(n, axis=1) * GRID_RADIUS_M
    d = np.linalg.norm(g[:, None, :] - g[None, :, :], axis=2)
    i, j = np.nonzero(np.triu(d <= reach, 1))
    return set(zip(i.tolist(), j.tolist(), strict=True))


def _pairs(n: tuple[np.ndarray, ...], reach: float, chunk: int) -> list[tuple[int, int]]:
    out = []
    for i, j in candidate_pairs(*n, reach_m=reach, chunk=chunk):
        out += [(min(a, b), max(a, b)) for a, b in zip(i.tolist(), j.tolist(), strict=True)]
    return out


@given(
    cols=track_columns(max_size=60),
    reach=st.sampled_from([50.0, 5_000.0, 20_000.0, 69_260.0]) | st.floats(1.0, 200_000.0),
    chunk=st.sampled_from([1, 7, 1 << 15]),
)
def test_pairs_equal_brute_force(cols, reach, chunk):
    n = _normals(cols["lon"], cols["lat"])
    got = _pairs(n, reach, chunk)
    assert len(got) == len(set(got)), "a pair proposed twice"
    assert all(a != b for a, b in got)
    assert set(got) == _brute(n, reach)


def test_points_on_cube_faces_and_the_same_spot():
    # identical points, points exactly one reach apart along an axis, both poles
    lat = np.array([0.0, 0.0, 0.0, 90.0, 90.0, -90.0, 45.0])
    lon = np.array([0.0, 0.0, 180.0, 0.0, 180.0, 0.0, -180.0])
    n = _normals(lon, lat)
    for reach in (100.0, 1e4, 1e6, 2e7):
        assert set(_pairs(n, reach, 3)) == _brute(n, reach)


def test_offsets_cover_every_near_cube():
    # with cubes of side reach/k, a cube whose nearest point is closer than reach is listed
    for k in (1, 2, 3):
        half = set(_half_offsets(k))
        for d in half:
            assert tuple(-x for x in d) not in half  # each unordered cube pair once
        r = range(-k - 1, k + 2)
        for d in ((a, b, c) for a in r for b in r for c in r):
            if d <= (0, 0, 0):
                continue
            gap2 = sum(max(abs(x) - 1, 0) ** 2 for x in d)
            assert (d in half) == (gap2 < k * k)


def test_proposed_is_linear_for_uniform_density():
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(0, 10, 4_000), rng.uniform(40, 50, 4_000)
    small = PairGrid(*_normals(lon[:1_000], lat[:1_000]), reach_m=20_000.0).proposed
    # four times the points over four times the area: about four times the pairs
    lon4 = np.concatenate([lon[:1_000] + 10 * k for k in range(4)])
    lat4 = np.tile(lat[:1_000], 4)
    big = PairGrid(*_normals(lon4, lat4), reach_m=20_000.0).proposed
    assert 3 * small < big < 5 * small
