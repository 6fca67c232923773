"""Tactical sharding: the grid, the near-cell guarantee against brute-force oracles, the pair
cell, and rendezvous ownership.

Two oracles, both built on pyproj only (never on the module's bounds arithmetic):

* **point pairs** — a point *p* placed at a geodesic distance ≤ margin from *q* (pyproj's
  direct problem, often at exactly the margin) must have ``home(p) ∈ near(q, margin)``;
* **every cell** — each cell's boundary (its two parallels and two meridians, from
  :meth:`ShardGrid.bounds`, itself checked against :meth:`ShardGrid.home`) is cut into
  pieces, pruned with ECEF chords (a chord never exceeds the geodesic), and the pieces
  that may matter are sampled densely and measured with pyproj's inverse problem. A
  sample within the margin is a real point of the cell, so its cell is a *witness* that
  ``near`` must hold, with no tolerance; the oracle can only fail to witness a cell whose
  true distance lies within ``spacing/2`` (max(25 m, margin/2000)) below the margin — the
  point-pair property covers that band.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Transformer

from deconfliction.detect import CellSets, ShardGrid, owner, pair_cell
from deconfliction.errors import InvalidInput
from deconfliction.geo._geodesy import GEOD
from tests.strategies import shard_margins, shard_points, shard_sizes

_R_UP = 6_400_000.0
"""Above every radius of curvature of WGS84 (the largest, A²/B, is ≈ 6,399,594 m): an
edge piece spanning an angle θ along a meridian, or Δλ along a parallel at φ, is at most
``_R_UP·θ`` or ``_R_UP·cos φ·Δλ`` long."""

_TO_ECEF = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)


def _ecef(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    x, y, z = _TO_ECEF.transform(lon, lat, np.zeros_like(lon))
    return np.stack([x, y, z], axis=-1)


# -- the oracle over every cell --------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _bounds(size_km: float) -> np.ndarray:
    """Every cell's ``(lon_min, lat_min, lon_max, lat_max)``, shape ``(cells, 4)``."""
    grid = ShardGrid(size_km)
    return np.array([grid.bounds(c) for c in range(len(grid))])


@functools.lru_cache(maxsize=8)
def _pieces(size_km: float) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Every cell's boundary as pieces at most ``coarse`` metres long: ``(coarse, cell,
    ends (n, 2, 2) lon/lat, ecef of the ends (n, 2, 3))`` — the ends lie exactly on the
    edge (a parallel varies only in longitude, a meridian only in latitude)."""
    coarse = size_km * 1_000.0 / 8
    cells, x0s, y0s, x1s, y1s = [], [], [], [], []
    for c, (lo, la, hi, lb) in enumerate(_bounds(size_km).tolist()):
        for x0, y0, x1, y1 in (
            (lo, la, hi, la),
            (lo, lb, hi, lb),
            (lo, la, lo, lb),
            (hi, la, hi, lb),
        ):
            if y0 == y1:
                length = _R_UP * math.cos(math.radians(y0)) * math.radians(x1 - x0)
            else:
                length = _R_UP * math.radians(y1 - y0)
            k = max(1, math.ceil(length / coarse))
            t = np.arange(k + 1) / k
            xs, ys = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            cells.append(np.full(k, c))
            x0s.append(xs[:-1])
            y0s.append(ys[:-1])
            x1s.append(xs[1:])
            y1s.append(ys[1:])
    x0, y0, x1, y1 = (np.concatenate(v) for v in (x0s, y0s, x1s, y1s))
    ends = np.stack([np.stack([x0, y0], -1), np.stack([x1, y1], -1)], axis=1)
    xyz = np.stack([_ecef(x0, y0), _ecef(x1, y1)], axis=1)
    return coarse, np.concatenate(cells), ends, xyz


def _contains(grid: ShardGrid, lon: float, lat: float) -> set[int]:
    """Cells whose closed bounds hold the point (a pole is held by the cells touching it)."""
    lo, la, hi, lb = _bounds(grid.size_km).T
    w = (lon + 180.0) % 360.0 - 180.0
    in_lon = (lo <= w) & (w <= hi) | ((w == -180.0) & (hi == 180.0)) | (abs(lat) == 90.0)
    return set(np.nonzero((la <= lat) & (lat <= lb) & in_lon)[0].tolist())


def _oracle(
    grid: ShardGrid, lon: float, lat: float, margin: float, reach: float
) -> tuple[set[int], np.ndarray]:
    """``(witnessed, lower)``: the cells with a point found within ``margin`` of
    (lon, lat), and a lower bound of every cell's distance, exact to ``spacing/2`` up to
    ``reach`` (beyond it, only known to be beyond it)."""
    coarse, cell, ends, xyz = _pieces(grid.size_km)
    q = _ecef(np.array([lon]), np.array([lat]))[0]
    chord = np.linalg.norm(xyz - q, axis=2)
    # every point of a piece is within coarse/2 (along the edge, so also in chord) of an end
    lower = chord.min(axis=1) - coarse / 2
    keep = np.nonzero(lower <= reach)[0]
    spacing = max(50.0, margin / 1_000)
    k = math.ceil(coarse / spacing)
    t = np.arange(k + 1) / k
    a, b = ends[keep, 0], ends[keep, 1]
    slon = a[:, 0:1] + t * (b[:, 0:1] - a[:, 0:1])
    slat = a[:, 1:2] + t * (b[:, 1:2] - a[:, 1:2])
    n = slon.size
    _, _, dist = GEOD.inv(np.full(n, lon), np.full(n, lat), slon.ravel(), slat.ravel())
    d = np.asarray(dist).reshape(slon.shape).min(axis=1)
    lower[keep] = np.maximum(lower[keep], d - spacing / 2)
    cell_lower = np.full(len(grid), np.inf)
    np.minimum.at(cell_lower, cell, lower)
    inside = _contains(grid, lon, lat)
    cell_lower[list(inside)] = 0.0
    witnessed = set(cell[keep][d <= margin].tolist()) | inside
    return witnessed, cell_lower


@given(
    data=st.data(),
    size=st.sampled_from([500.0, 1_500.0, 5_000.0]),
    margin=shard_margins,
)
def test_near_holds_every_cell_within_the_margin(data, size, margin):
    grid = ShardGrid(size)
    lon, lat = data.draw(shard_points(grid))
    got = grid.near(lon, lat, margin)
    extra_ok = abs(lat) <= 70.0 and margin <= 200_000.0
    reach = 1.6 * margin + 1_000.0 if extra_ok else margin
    witnessed, lower = _oracle(grid, lon, lat, margin, reach)
    assert witnessed <= got, f"missed cells {sorted(witnessed - got)}"
    assert grid.home(lon, lat) in got
    if extra_ok:
        # conservative, not wasteful: extra cells are within ~1.5 margins (box corners)
        far = sorted(c for c in got if lower[c] > reach)
        assert not far, f"cells {far} are beyond {reach:.0f} m"


# -- the pair guarantee ------------------------------------------------------------------------


@given(
    data=st.data(),
    size=shard_sizes,
    margin=shard_margins,
    az=st.sampled_from([0.0, 90.0, 180.0, 270.0]) | st.floats(0.0, 360.0),
    frac=st.sampled_from([1.0, 0.0]) | st.floats(0.0, 1.0),
)
def test_tracks_within_the_margin_meet_on_the_pair_cell(data, size, margin, az, frac):
    grid = ShardGrid(size)
    q = data.draw(shard_points(grid))
    plon, plat, _ = GEOD.fwd(q[0], q[1], az, margin * frac)
    p = (float(plon), float(plat))
    _, _, d = GEOD.inv(*q, *p)
    assert d <= margin * (1 + 1e-9) + 1e-6
    near_p, near_q = grid.near(*p, margin), grid.near(*q, margin)
    hp, hq = grid.home(*p), grid.home(*q)
    assert hp in near_q
    assert hq in near_p
    assert hp in near_p
    assert hq in near_q
    assert hp in grid.near(*p, 0.0)
    # the pair's cell is one of the homes: its owner receives both tracks
    cell = pair_cell(hp, hq)
    assert cell == pair_cell(hq, hp) == min(hp, hq)
    assert cell in near_p
    assert cell in near_q


@given(data=st.data(), size=shard_sizes, margin=shard_margins)
def test_vectorised_forms_agree_with_the_scalar_ones(data, size, margin):
    grid = ShardGrid(size)
    pts = data.draw(st.lists(shard_points(grid), min_size=0, max_size=12))
    lon = np.array([p[0] for p in pts], dtype=float)
    lat = np.array([p[1] for p in pts], dtype=float)
    sets = grid.nears(lon, lat, margin)
    assert isinstance(sets, CellSets)
    assert len(sets) == len(pts)
    assert grid.homes(lon, lat).tolist() == [grid.home(*p) for p in pts]
    assert sets.rows().tolist() == [k for k in range(len(pts)) for _ in sets.of_array(k)]
    for k, p in enumerate(pts):
        cells = sets.of_array(k)
        assert len(cells) == len(set(cells.tolist())), "a cell listed twice"
        assert sets.of(k) == grid.near(*p, margin)
        assert ((cells >= 0) & (cells < len(grid))).all()


# -- the grid ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [10.0, 100.0, 500.0, 1_000.0, 3_000.0, 20_000.0])
def test_cells_tile_the_globe_with_roughly_equal_areas(size):
    grid = ShardGrid(size)
    bounds = [grid.bounds(c) for c in range(len(grid))] if len(grid) < 20_000 else []
    if bounds:
        # bands stack from pole to pole; in each, cells run from -180 to 180 without gaps
        assert bounds[0][:2] == (-180.0, -90.0)
        assert bounds[-1][2:] == (180.0, 90.0)
        for (lo0, la0, hi0, lb0), (lo1, la1, _, lb1) in itertools.pairwise(bounds):
            if la1 == la0:
                assert (lb1, lo1) == (lb0, hi0)
                assert lo1 > lo0
            else:
                assert (hi0, lo1, la1) == (180.0, -180.0, lb0)
                assert lb1 > la1
        # areas on the authalic sphere: within a factor 1.6 of the size squared (polar caps aside)
        r = 6_371_007.0
        areas = np.array(
            [
                r
                * r
                * math.radians(hi - lo)
                * (math.sin(math.radians(lb)) - math.sin(math.radians(la)))
                for lo, la, hi, lb in bounds
            ]
        )
        inner = [a for a, b in zip(areas, bounds, strict=True) if abs(b[1]) < 89 and abs(b[3]) < 89]
        ratio = np.array(inner) / (size * 1_000.0) ** 2
        if len(grid) > 20:
            assert ratio.min() > 0.6, ratio.min()
            assert ratio.max() < 1.6, ratio.max()
    assert len(grid) == pytest.approx(510.07e6 / size**2, rel=0.25) or size >= 3_000.0


@given(data=st.data(), size=shard_sizes)
def test_a_point_lies_within_its_home_cell(data, size):
    grid = ShardGrid(size)
    lon, lat = data.draw(shard_points(grid))
    lo, la, hi, lb = grid.bounds(grid.home(lon, lat))
    # half-open cells [lo, hi) × [la, lb), the north pole in the northernmost band
    assert la <= lat < lb or lat == lb == 90.0
    w = lon if -180.0 <= lon < 180.0 else (lon + 180.0) % 360.0 - 180.0
    assert lo <= w < hi or (w == 180.0 and hi == 180.0)


def test_edges_and_corners_belong_to_the_cell_north_east():
    grid = ShardGrid(500.0)
    lo, la, hi, lb = grid.bounds(1755)
    assert grid.home(lo, la) == 1755
    assert grid.home((lo + hi) / 2, la) == 1755
    assert grid.home(hi, (la + lb) / 2) == 1756
    # a pole: every longitude names the same point, in one of the cap's wedges
    cap = set(range(len(grid) - 3, len(grid)))
    assert {grid.home(x, 90.0) for x in (-180.0, 0.0, 123.0)} == cap
    assert all(cap <= grid.near(x, 90.0, 0.0) for x in (-180.0, 0.0, 123.0))
    assert grid.home(180.0, 10.0) == grid.home(-180.0, 10.0) == grid.home(540.0, 10.0)
    assert grid.home(-180.0, -90.0) == 0
    assert grid.homes([], []).tolist() == []
    assert len(grid.nears([], [], 1.0)) == 0


def test_margins_larger_than_the_globe_give_every_cell():
    grid = ShardGrid(1_000.0)
    assert grid.near(0.0, 0.0, 2.1e7) == frozenset(range(len(grid)))
    assert grid.near(33.0, -89.0, 1e6) >= {
        c for c in range(len(grid)) if grid.bounds(c)[1] == -90.0
    }


def test_margin_formula():
    assert ShardGrid.margin_m(9_260.0, 120.0, 250.0) == 9_260.0 + 120.0 * 2 * 250.0
    assert ShardGrid.margin_m(500, 0, 300) == 500.0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: ShardGrid(0.0), "size_km"),
        (lambda: ShardGrid(True), "size_km"),
        (lambda: ShardGrid(1e9), "size_km"),
        (lambda: ShardGrid().home(0.0, 90.5), "lat"),
        (lambda: ShardGrid().homes([0.0], [math.nan]), "lat"),
        (lambda: ShardGrid().homes([math.inf], [0.0]), "lon"),
        (lambda: ShardGrid().homes([0.0, 1.0], [0.0]), "lon"),
        (lambda: ShardGrid().near(0.0, 0.0, -1.0), "margin_m"),
        (lambda: ShardGrid().near(0.0, 0.0, math.inf), "margin_m"),
        (lambda: ShardGrid().bounds(len(ShardGrid())), "cell"),
        (lambda: ShardGrid.margin_m(9_260.0, -1.0, 250.0), "look_ahead_s"),
        (lambda: ShardGrid.margin_m(9_260.0, 120.0, math.nan), "max_speed_mps"),
        (lambda: owner(3, []), "nodes"),
        (lambda: owner(3, "hub-a"), "nodes"),
        (lambda: owner("3", ["hub-a"]), "cell"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_is_refused_with_its_field(call, field):
    with pytest.raises(InvalidInput) as exc:
        call()
    assert exc.value.field == field


# -- ownership -----------------------------------------------------------------------------------

_CELLS = range(20_000)


def test_owner_is_stable_and_ignores_node_order():
    nodes = ["hub-a", "hub-b", "hub-c", "hub-d"]
    got = [owner(c, nodes) for c in range(200)]
    assert got == [owner(c, list(reversed(nodes))) for c in range(200)]
    # pinned: the hash is blake2b, not Python's per-process hash()
    assert got[:6] == [owner(c, tuple(nodes)) for c in range(6)]
    assert owner(1755, nodes) == owner(np.int64(1755), nodes)


@pytest.mark.parametrize("k", [2, 3, 5, 8, 13])
def test_owner_balances_cells_within_ten_percent(k):
    nodes = [f"node-{i}" for i in range(k)]
    share = Counter(owner(c, nodes) for c in _CELLS)
    mean = len(_CELLS) / k
    assert set(share) == set(nodes)
    assert all(abs(v - mean) <= 0.10 * mean for v in share.values()), share


def test_membership_changes_move_only_the_changed_node_cells():
    nodes = [f"10.0.0.{i}:4222" for i in range(6)]
    before = {c: owner(c, nodes) for c in _CELLS}
    # a node leaves: exactly its cells move, spread over the others
    gone = nodes[2]
    after = {c: owner(c, [n for n in nodes if n != gone]) for c in _CELLS}
    moved = {c for c in _CELLS if after[c] != before[c]}
    assert moved == {c for c in _CELLS if before[c] == gone}
    assert len(Counter(after[c] for c in moved)) == len(nodes) - 1
    # a node joins: only cells it takes move, about 1/7 of them
    joined = {c: owner(c, [*nodes, "10.0.0.9:4222"]) for c in _CELLS}
    moved = {c for c in _CELLS if joined[c] != before[c]}
    assert all(joined[c] == "10.0.0.9:4222" for c in moved)
    assert abs(len(moved) - len(_CELLS) / 7) <= 0.10 * len(_CELLS) / 7


# -- speed ---------------------------------------------------------------------------------------


def test_nears_speed_for_5000_tracks(capsys):
    """Prints the figure (not a timed assertion): nears() for 5,000 tracks, 500 km cells."""
    rng = np.random.default_rng(7)
    grid = ShardGrid(500.0)
    lon, lat = rng.uniform(-180, 180, 5_000), np.degrees(np.arcsin(rng.uniform(-1, 1, 5_000)))
    margin = ShardGrid.margin_m(9_260.0, 120.0, 300.0)
    runs = []
    for _ in range(20):
        t0 = time.perf_counter()
        sets = grid.nears(lon, lat, margin)
        runs.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    homes = grid.homes(lon, lat)
    t_homes = time.perf_counter() - t0
    per_track = len(sets.cells) / len(sets)
    rows = sets.rows()
    at_home = np.zeros(len(homes), dtype=bool)
    at_home[rows[sets.cells == homes[rows]]] = True
    assert at_home.all()
    with capsys.disabled():
        print(
            f"\nshards: nears(5,000 tracks, margin {margin:.0f} m, 500 km cells): "
            f"median {np.median(runs) * 1e3:.2f} ms, best {min(runs) * 1e3:.2f} ms, "
            f"{per_track:.2f} cells/track; homes {t_homes * 1e3:.2f} ms"
        )
