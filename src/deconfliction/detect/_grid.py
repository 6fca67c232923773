"""Candidate pairs of nearby points on the globe from a uniform 3D hash grid (no O(N²)).

Points are the ellipsoid's unit normals at each position, scaled by
:data:`GRID_RADIUS_M` (the smallest radius of curvature of WGS84, ``a·(1 − e²)``), and
hashed into cubes of side ``cell ≥ reach``. Two points whose scaled normals are within
``reach`` of each other differ by less than one cell along every axis, so they sit in the
same or adjacent cubes: taking every pair from each cube and its 26 neighbours (each
unordered pair of cubes once: the cube itself and 13 neighbours in one half-space) never
misses such a pair. Working in 3D on the globe needs no projection, and has no seam at
the antimeridian and no singularity at the poles.

Why the scaled normals: along any path on the ellipsoid the normal turns by at most
``length / GRID_RADIUS_M`` (the curvature of a normal section is at most ``1/M(0)``), and
a chord is shorter than its arc, so two positions within geodesic (or model) distance
``s`` have scaled normals within ``s`` of each other.

Everything is vectorised: sorting by cube key, ``np.unique`` for the cubes, one
``searchsorted`` per neighbour offset, and a repeat/arange expansion into pairs, yielded in
chunks of bounded size so that memory stays linear in N plus the chunk.

>>> import numpy as np
>>> lat = np.radians([0.0, 0.0, 0.0]); lon = np.radians([0.0, 0.05, 10.0])
>>> n = (np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat))
>>> [sorted(zip(i.tolist(), j.tolist())) for i, j in candidate_pairs(*n, reach_m=10_000.0)]
[[(0, 1)]]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from deconfliction.geo._geodesy import E2, A

__all__ = ["GRID_RADIUS_M", "PairGrid", "candidate_pairs"]

Array = NDArray[np.float64]
Codes = NDArray[np.int64]

GRID_RADIUS_M = A * (1.0 - E2)
"""Radius the unit normals are scaled by: WGS84's smallest radius of curvature (metres)."""

MIN_CELL_M = 100.0
"""Smallest cube side (bigger cubes are still conservative; this keeps keys in int64)."""

CHUNK_PAIRS = 1 << 15


def _half_offsets(k: int) -> list[tuple[int, int, int]]:
    """Neighbour offsets in the "positive" half-space (lexicographically > 0) for cubes of
    side ``reach/k``: those whose closest points are nearer than ``reach``."""
    r = range(-k, k + 1)
    return [
        (dx, dy, dz)
        for dx in r
        for dy in r
        for dz in r
        if (dx, dy, dz) > (0, 0, 0) and sum(max(abs(d) - 1, 0) ** 2 for d in (dx, dy, dz)) < k * k
    ]


SPLIT = 2
"""Cubes have side ``reach / SPLIT``: smaller cubes, more neighbours, fewer far pairs."""
_HALF = _half_offsets(SPLIT)


def cell_size(reach_m: float) -> float:
    """The cube side used for ``reach_m``: a hair above it (rounding), at least 100 m."""
    return max(MIN_CELL_M, reach_m * (1.0 + 1e-9) + 1e-3)


class PairGrid:
    """The hash grid over N scaled normals; :meth:`pairs` yields the near pairs in the
    grid's *sorted* order (positions into :attr:`order`), so that callers can permute their
    own columns once with ``column[grid.order]`` and then read them almost sequentially.
    """

    def __init__(self, nx: Array, ny: Array, nz: Array, *, reach_m: float) -> None:
        n = len(nx)
        self.reach_m = float(reach_m)
        cell = cell_size(reach_m / SPLIT)
        gx, gy, gz = nx * GRID_RADIUS_M, ny * GRID_RADIUS_M, nz * GRID_RADIUS_M
        # cube coordinates, shifted so that every neighbour's coordinate is ≥ 0
        cx, cy, cz = (np.floor(g / cell).astype(np.int64) for g in (gx, gy, gz))
        if n:
            cx, cy, cz = (c - (int(c.min()) - SPLIT) for c in (cx, cy, cz))
        ly, lz = (int(c.max()) + SPLIT + 1 if n else 1 for c in (cy, cz))
        lx = int(cx.max()) + SPLIT + 1 if n else 1
        key = (cx * ly + cy) * lz + cz  # lexicographic, and dense when the box is small
        self.order: Codes = np.argsort(key, kind="stable")
        """Grid position → index of the point in the caller's arrays."""
        skey = key[self.order]
        self._xyz = gx[self.order], gy[self.order], gz[self.order]
        ukey, ustart, ucount = np.unique(skey, return_index=True, return_counts=True)
        offsets = np.array([(dx * ly + dy) * lz + dz for dx, dy, dz in _HALF], dtype=np.int64)
        target = ukey[:, None] + offsets[None, :]  # (cubes, offsets)
        if lx * ly * lz <= max(4_000_000, 16 * n):
            table = np.full(lx * ly * lz, -1, dtype=np.int64)
            table[ukey] = np.arange(len(ukey))
            nbr = table[target]
        else:
            at = np.minimum(np.searchsorted(ukey, target), len(ukey) - 1)
            nbr = np.where(ukey[at] == target, at, -1)
        src, off = np.nonzero(nbr >= 0)
        nb = nbr[src, off]
        # every member of cube ``src`` pairs with all of cube ``nb``
        size = ucount[src]
        rep = np.repeat(np.arange(len(src)), size)
        rank = np.arange(len(rep)) - np.repeat(np.cumsum(size) - size, size)
        cell_of = np.repeat(np.arange(len(ukey)), ucount)  # cube of each sorted position
        pos = np.arange(n, dtype=np.int64)
        own = np.concatenate([pos, ustart[src][rep] + rank])
        first = np.concatenate([pos + 1, ustart[nb][rep]])
        # later ones in the same cube, then the whole neighbour
        cnt = np.concatenate([ustart[cell_of] + ucount[cell_of] - pos - 1, ucount[nb][rep]])
        keep = cnt > 0
        self._own, self._first, self._cnt = own[keep], first[keep], cnt[keep]
        self.proposed = int(self._cnt.sum())
        """How many pairs the cubes propose before the chord test."""

    def pairs(self, chunk: int = CHUNK_PAIRS) -> Iterator[tuple[Codes, Codes]]:
        """Chunks of ``(i, j)`` grid positions, ``i < j``: exactly the pairs within reach."""
        cnt = self._cnt
        if not len(cnt):
            return
        sx, sy, sz = self._xyz
        ends = np.cumsum(cnt)
        bounds = np.searchsorted(ends, np.arange(chunk, int(ends[-1]), chunk), side="left")
        reach2 = self.reach_m * self.reach_m
        lo = 0
        for hi in [*(int(b) + 1 for b in bounds), len(cnt)]:
            if hi <= lo:
                continue
            c = cnt[lo:hi]
            starts = np.cumsum(c) - c
            i = np.repeat(self._own[lo:hi], c)
            j = np.arange(int(c.sum()), dtype=np.int64) + np.repeat(self._first[lo:hi] - starts, c)
            ex, ey, ez = sx[j] - sx[i], sy[j] - sy[i], sz[j] - sz[i]
            near = ex * ex + ey * ey + ez * ez <= reach2
            yield i[near], j[near]
            lo = hi


def candidate_pairs(
    nx: Array, ny: Array, nz: Array, *, reach_m: float, chunk: int = CHUNK_PAIRS
) -> Iterator[tuple[Codes, Codes]]:
    """Yield ``(i, j)`` index arrays holding, each once with ``i != j``, exactly the
    unordered pairs whose unit normals scaled by :data:`GRID_RADIUS_M` are within
    ``reach_m`` of each other."""
    if len(nx) < 2:
        return
    grid = PairGrid(nx, ny, nz, reach_m=reach_m)
    for i, j in grid.pairs(chunk):
        yield grid.order[i], grid.order[j]
