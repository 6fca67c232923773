"""A dynamic spatio-temporal index of 4D volumes that never misses a conflict.

Layout: a hash grid over (day bucket, 3D ECEF cell). A volume is entered in every cell its
enclosing ball touches, for every time bucket its window touches, at the level of a small
hierarchy of cell sizes that fits its footprint; per-volume attributes live in numpy
columns. A query visits only the cells and buckets its own (buffered) volume touches, so
volumes in the past or far future cost nothing; filters the few hundred entries found with
vectorised interval tests (time, altitude, enclosing caps); and confirms the survivors with
the exact horizontal decision (:func:`~deconfliction.geo._spatial.spatial_check`). Writes
touch only the volume's own cells: nothing is ever rebuilt.

The ECEF ball is a safe prefilter because a chord is never longer than the geodesic it
spans, on any surface. It works the same at the poles and across the antimeridian.

>>> from datetime import datetime, timezone, timedelta
>>> from deconfliction.geo import AltitudeBand, Circle, TimeWindow
>>> t = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
>>> w = TimeWindow(t, t + timedelta(hours=1))
>>> idx = VolumeIndex()
>>> idx.add("a", [Volume4D(Circle((10.0, 47.0), 1_000.0), AltitudeBand(0, 300), w)])
>>> idx.add("b", [Volume4D(Circle((10.0, 47.05), 1_000.0), AltitudeBand(0, 300), w)])
>>> q = Volume4D(Circle((10.0, 47.025), 500.0), AltitudeBand(100, 200), w)
>>> [h.key for h in idx.query(q)]
[]
>>> sorted(h.key for h in idx.query(q, Buffers(horizontal_m=1_500.0)))
['a', 'b']
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
from numpy.typing import NDArray

from deconfliction.geo._footprint import Footprint, Polygon
from deconfliction.geo._geodesy import DENSIFY_M, M_EQUATOR, ecef_scalar
from deconfliction.geo._overlap import Overlap
from deconfliction.geo._spatial import spatial_check
from deconfliction.geo._volume import TIME_SLACK_S, VERTICAL_SLACK_M, Buffers, Volume4D

__all__ = ["Hit", "VolumeIndex"]

_NO_GROUP = -1
_ZERO = Buffers()


@dataclass(frozen=True, slots=True)
class Hit:
    """One indexed volume that conflicts with a query volume."""

    key: Hashable
    """The key the volume was added under."""
    position: int
    """Position of the volume within the key's list of volumes."""
    volume: Volume4D
    overlap: Overlap


_T0, _T1, _A0, _A1, _CX, _CY, _CZ, _RHO, _PX, _PY, _PZ, _RIN, _MG = range(13)
_WIDTH = 13
_CHORD_MAX_M = 1e7
"""Longest chord for which :func:`chord_to_geodesic_upper` is used (see :func:`_shortcuts`)."""


class _Columns:
    """Growable per-slot storage: one float row ``attr`` (t0, t1, a0, a1, cx, cy, cz, rho;
    px, py, pz, r_in: the ECEF point and radius of the footprint's inner disc; margin) so a
    query gathers everything it decides on in one fancy-index."""

    __slots__ = ("alive", "attr", "group")

    def __init__(self, capacity: int) -> None:
        self.attr = np.zeros((capacity, _WIDTH))
        self.group = np.full(capacity, _NO_GROUP, dtype=np.int64)
        self.alive = np.zeros(capacity, dtype=bool)

    def grow(self, capacity: int) -> None:
        for name in self.__slots__:
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            if name == "group":
                new[:] = _NO_GROUP
            new[: len(old)] = old
            setattr(self, name, new)


def _ring(v: Volume4D | None) -> NDArray[np.float64] | None:
    fp = v.footprint if v is not None else None
    return fp.ring_ecef if isinstance(fp, Polygon) else None


class VolumeIndex:
    """Dynamic index of 4D volumes grouped under hashable keys.

    ``group`` (any hashable, typically the owning party) lets a query skip one group's
    volumes; ``margin_m`` adds a horizontal distance around a key's volumes (a protected
    site's buffer, say) that every query honours.

    :param cell_m: edge of the finest 3D grid cell, metres.
    :param bucket_s: length of a time bucket, seconds.
    """

    def __init__(self, *, cell_m: float = 100_000.0, bucket_s: float = 86_400.0) -> None:
        if not (cell_m > 0 and bucket_s > 0):
            raise ValueError("cell_m and bucket_s must be positive")
        self._cell = float(cell_m)
        self._bucket = float(bucket_s)
        self._cols = _Columns(1024)
        self._vols: list[Volume4D | None] = [None] * 1024
        self._slot_key: list[Hashable] = [None] * 1024
        self._slot_pos = np.zeros(1024, dtype=np.int64)
        self._free: list[int] = []
        self._next = 0
        self._keys: dict[Hashable, list[int]] = {}
        # level -> (bucket, ix, iy, iz) -> slots
        self._grid: dict[int, dict[tuple[int, int, int, int], array[int]]] = {}
        self._level_count: dict[int, int] = {}
        self._groups: dict[Hashable, int] = {}

    # -- bookkeeping ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._keys)

    @property
    def volume_count(self) -> int:
        """Number of volumes held, over all keys."""
        return self._next - len(self._free)

    def volumes(self, key: Hashable) -> list[Volume4D]:
        """The volumes held under ``key`` (KeyError if absent)."""
        return [v for v in (self._vols[s] for s in self._keys[key]) if v is not None]

    def keys_open_between(self, start_s: float, end_s: float) -> set[Hashable]:
        """The keys with a volume whose time window meets (``start_s``, ``end_s``) (epoch
        seconds): one vectorised pass over the time columns, not a walk over the keys."""
        n = self._next
        t = self._cols.attr[:n]
        hit = np.flatnonzero(self._cols.alive[:n] & (t[:, _T0] < end_s) & (t[:, _T1] > start_s))
        return {self._slot_key[int(i)] for i in hit}

    def _group_code(self, group: Hashable | None) -> int:
        if group is None:
            return _NO_GROUP
        code = self._groups.get(group)
        if code is None:
            code = self._groups[group] = len(self._groups)
        return code

    def _alloc(self) -> int:
        if self._free:
            return self._free.pop()
        slot = self._next
        self._next += 1
        cap = len(self._vols)
        if slot >= cap:
            new = cap * 2
            self._cols.grow(new)
            self._vols.extend([None] * (new - cap))
            self._slot_key.extend([None] * (new - cap))
            pos = np.zeros(new, dtype=np.int64)
            pos[:cap] = self._slot_pos
            self._slot_pos = pos
        return slot

    # -- cells ---------------------------------------------------------------------------

    def _level(self, radius: float) -> int:
        level, size = 0, self._cell
        while 2.0 * radius > size and level < 6:
            level += 1
            size *= 4.0
        return level

    def _ranges(
        self, level: int, centre: Sequence[float], radius: float, t0: float, t1: float
    ) -> tuple[range, range, range, range]:
        size = self._cell * 4.0**level
        x, y, z = (float(c) for c in centre)
        fl = math.floor
        return (
            range(fl(t0 / self._bucket), fl(t1 / self._bucket) + 1),
            range(fl((x - radius) / size), fl((x + radius) / size) + 1),
            range(fl((y - radius) / size), fl((y + radius) / size) + 1),
            range(fl((z - radius) / size), fl((z + radius) / size) + 1),
        )

    def _cells(
        self, level: int, centre: Sequence[float], radius: float, t0: float, t1: float
    ) -> Iterator[tuple[int, int, int, int]]:
        yield from product(*self._ranges(level, centre, radius, t0, t1))

    # -- writes --------------------------------------------------------------------------

    def add(
        self,
        key: Hashable,
        volumes: Iterable[Volume4D],
        *,
        group: Hashable | None = None,
        margin_m: float = 0.0,
    ) -> None:
        """Index ``volumes`` under a new ``key`` (KeyError if the key is already present)."""
        if key in self._keys:
            raise KeyError(f"key already indexed: {key!r}")
        vols = list(volumes)
        for v in vols:
            if not isinstance(v, Volume4D):
                raise TypeError("volumes must be Volume4D instances")
        if not (math.isfinite(margin_m) and margin_m >= 0):
            raise ValueError("margin_m must be a finite number ≥ 0")
        code = self._group_code(group)
        slots = []
        for pos, v in enumerate(vols):
            slot = self._alloc()
            self._store(slot, key, pos, v, code, margin_m)
            slots.append(slot)
        self._keys[key] = slots

    def _store(
        self, slot: int, key: Hashable, pos: int, v: Volume4D, code: int, margin: float
    ) -> None:
        c = self._cols
        fp = v.footprint
        centre = ecef_scalar(*fp.centre)
        rho = fp.radius_m + margin
        t0, t1 = v.time.start_s, v.time.end_s
        ilon, ilat, r_in = fp.inner_disc
        inner = ecef_scalar(ilon, ilat)
        c.attr[slot] = (
            t0,
            t1,
            v.altitude.lower_m,
            v.altitude.upper_m,
            *centre,
            rho,
            *inner,
            r_in,
            margin,
        )
        c.group[slot] = code
        c.alive[slot] = True
        self._vols[slot] = v
        self._slot_key[slot] = key
        self._slot_pos[slot] = pos
        level = self._level(rho)
        self._level_count[level] = self._level_count.get(level, 0) + 1
        grid = self._grid.setdefault(level, {})
        for cell in self._cells(level, centre, rho, t0, t1):
            entries = grid.get(cell)
            if entries is None:
                grid[cell] = array("q", (slot,))
            else:
                entries.append(slot)

    def _drop(self, slot: int) -> None:
        c = self._cols
        row = c.attr[slot]
        centre = (float(row[_CX]), float(row[_CY]), float(row[_CZ]))
        rho = float(row[_RHO])
        level = self._level(rho)
        grid = self._grid[level]
        for cell in self._cells(level, centre, rho, float(row[_T0]), float(row[_T1])):
            entries = grid[cell]
            if len(entries) == 1:
                del grid[cell]
            else:
                arr = np.frombuffer(entries, dtype=np.int64)
                grid[cell] = array("q", arr[arr != slot].tobytes())
        n = self._level_count[level] - 1
        if n:
            self._level_count[level] = n
        else:
            del self._level_count[level]
        c.alive[slot] = False
        c.group[slot] = _NO_GROUP
        self._vols[slot] = None
        self._slot_key[slot] = None
        self._free.append(slot)

    def remove(self, key: Hashable) -> None:
        """Forget every volume held under ``key`` (KeyError if absent)."""
        for slot in self._keys.pop(key):
            self._drop(slot)

    def replace(
        self,
        key: Hashable,
        volumes: Iterable[Volume4D],
        *,
        group: Hashable | None = None,
        margin_m: float = 0.0,
    ) -> None:
        """Swap the volumes held under ``key`` (added if absent)."""
        vols = list(volumes)
        if key in self._keys:
            self.remove(key)
        self.add(key, vols, group=group, margin_m=margin_m)

    # -- queries -------------------------------------------------------------------------

    def _gather(
        self, volume: Volume4D, buffers: Buffers, exclude_group: Hashable | None
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        fp = volume.footprint
        centre = ecef_scalar(*fp.centre)
        reach = fp.radius_m + buffers.horizontal_m
        q0 = volume.time.start_s - buffers.time_s
        q1 = volume.time.end_s + buffers.time_s
        parts = []
        for level in self._level_count:
            grid = self._grid[level]
            # a stored ball that meets ours shares a point with it, hence a cell
            rb, rx, ry, rz = self._ranges(level, centre, reach, q0, q1)
            if len(rb) * len(rx) * len(ry) * len(rz) <= 2 * len(grid):
                for cell in product(rb, rx, ry, rz):
                    entries = grid.get(cell)
                    if entries is not None:
                        parts.append(entries)
            else:  # a query far larger than this level's cells: walk the occupied ones
                for (b, ix, iy, iz), entries in grid.items():
                    if b in rb and ix in rx and iy in ry and iz in rz:
                        parts.append(entries)
        if not parts:
            return np.empty(0, dtype=np.int64), np.empty((0, _WIDTH))
        if len(parts) == 1:
            ids = np.frombuffer(parts[0], dtype=np.int64)
        else:
            ids = np.frombuffer(b"".join(parts), dtype=np.int64)
        return self._filter(ids, volume, buffers, centre, reach, q0, q1, exclude_group)

    def candidates(
        self, volume: Volume4D, buffers: Buffers = _ZERO, *, exclude_group: Hashable | None = None
    ) -> NDArray[np.int64]:
        """Slots whose time, altitude and enclosing caps pass the buffered query (sorted)."""
        return self._gather(volume, buffers, exclude_group)[0]

    def _filter(
        self,
        ids: NDArray[np.int64],
        volume: Volume4D,
        buffers: Buffers,
        centre: Sequence[float],
        reach: float,
        q0: float,
        q1: float,
        exclude_group: Hashable | None,
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The distinct slots among ``ids`` that pass the interval and cap tests (sorted),
        with their attribute rows."""
        c = self._cols
        alt = volume.altitude
        a = c.attr[ids]
        # The same expressions as meets_1d (query first), so the index and overlap() agree.
        keep = (a[:, _T0] <= q1 + TIME_SLACK_S) & (a[:, _T1] >= q0 - TIME_SLACK_S)
        keep &= a[:, _A0] <= alt.upper_m + buffers.vertical_m + VERTICAL_SLACK_M
        keep &= a[:, _A1] >= alt.lower_m - buffers.vertical_m - VERTICAL_SLACK_M
        d = a[:, _CX : _CZ + 1] - np.asarray(centre)
        lim = a[:, _RHO] + reach
        keep &= np.einsum("ij,ij->i", d, d) <= lim * lim
        if exclude_group is not None and exclude_group in self._groups:
            keep &= c.group[ids] != self._groups[exclude_group]
        slots, first = np.unique(ids[keep], return_index=True)
        return slots, a[keep][first]

    def _confirm(
        self,
        volume: Volume4D,
        buffers: Buffers,
        slots: NDArray[np.int64],
        rows: NDArray[np.float64],
    ) -> list[Hit]:
        n = len(slots)
        if n == 0:
            return []
        thr = buffers.horizontal_m + rows[:, _MG]
        # Each polygon's ECEF ring is computed on first use and kept by the polygon, so
        # adding (and reloading at start) stays cheap.
        rings = [_ring(self._vols[s]) for s in slots]
        hit, miss = _shortcuts(volume.footprint, rows, rings, thr)
        vols = self._vols
        todo = np.flatnonzero(~(hit | miss))
        if len(todo):
            fps: list[Footprint] = [vols[s].footprint for s in slots[todo]]
            hit[todo] = spatial_check(volume.footprint, fps, thr[todo]).hit
        hits = []
        keys, pos = self._slot_key, self._slot_pos
        lazy = Overlap._lazy
        for i in np.flatnonzero(hit).tolist():
            slot = int(slots[i])
            v = vols[slot]
            assert v is not None
            hits.append(Hit(keys[slot], int(pos[slot]), v, lazy(volume, v, float(thr[i]))))
        return hits

    def query(
        self, volume: Volume4D, buffers: Buffers = _ZERO, *, exclude_group: Hashable | None = None
    ) -> list[Hit]:
        """Every indexed volume in conflict with ``volume`` within ``buffers``.

        Hits are exact: each candidate is confirmed by the same decision as
        :func:`~deconfliction.geo._overlap.overlap`, and none is ever missed.
        """
        slots, rows = self._gather(volume, buffers, exclude_group)
        return self._confirm(volume, buffers, slots, rows)

    def query_many(
        self,
        volumes: Sequence[Volume4D],
        buffers: Buffers = _ZERO,
        *,
        exclude_group: Hashable | None = None,
    ) -> list[list[Hit]]:
        """:meth:`query` for each of ``volumes``, in order."""
        return [self.query(v, buffers, exclude_group=exclude_group) for v in volumes]

    def scan(
        self, volume: Volume4D, buffers: Buffers = _ZERO, *, exclude_group: Hashable | None = None
    ) -> list[Hit]:
        """Brute force: the same answer as :meth:`query` from a vectorised scan of every slot.

        Used as the oracle in tests and as the baseline in the benchmark.
        """
        fp = volume.footprint
        centre = ecef_scalar(*fp.centre)
        reach = fp.radius_m + buffers.horizontal_m
        q0 = volume.time.start_s - buffers.time_s
        q1 = volume.time.end_s + buffers.time_s
        ids = np.flatnonzero(self._cols.alive[: self._next])
        slots, rows = self._filter(ids, volume, buffers, centre, reach, q0, q1, exclude_group)
        return self._confirm(volume, buffers, slots, rows)


_PIECE_SLACK_M = DENSIFY_M * DENSIFY_M / (2.0 * M_EQUATOR) + 1e-2
"""How far (3D) a geodesic piece of at most ``DENSIFY_M`` can stray from its chord: its
curvature as a space curve is at most ``1/M_EQUATOR``, so it lies within ``L²κ/8`` of its
chord (this is 4× that, ≈ 8 m, plus 1 cm)."""
_SAT_CHORD_MAX_M = 1e6
"""Separating-axis misses are used only for centres at most 1,000 km apart (chord)."""


def _upper(d: NDArray[np.float64]) -> NDArray[np.float64]:
    """Upper bounds (+1 mm) of the geodesics behind chord vectors ``d`` (rows); infinite
    beyond ``_CHORD_MAX_M`` (see :func:`_shortcuts`)."""
    c = np.sqrt(np.einsum("ij,ij->i", d, d))
    two_rho = 2.0 * M_EQUATOR
    u: NDArray[np.float64] = two_rho * np.arcsin(np.minimum(c / two_rho, 1.0)) * (1 + 1e-12)
    u[c > _CHORD_MAX_M] = np.inf
    return u + 1e-3


def _shortcuts(
    query: Footprint,
    rows: NDArray[np.float64],
    rings: list[NDArray[np.float64] | None],
    thr: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """``(hit, miss)``: candidates certainly within ``thr`` of ``query`` and certainly
    beyond it, decided for all at once from ECEF points alone (the rest, neither, go to
    :func:`spatial_check`). Every bound below is conservative; 1 mm covers rounding.

    *Upper bound of a geodesic from its chord.* ``L ≤ 2ρ·asin(c/2ρ)``
    (:func:`~deconfliction.geo._geodesy.chord_to_geodesic_upper`: Schur's comparison with
    curvature ≤ 1/ρ, ρ = ``M_EQUATOR``), valid for geodesics no longer than πρ; used only for
    chords ``c ≤ 10,000 km``: a minimal geodesic is at most 20,004 km long, and were it
    longer than πρ ≈ 19,902 km its first πρ would end ≥ 2ρ ≈ 12,670 km (chord) from its
    start, and the rest (≤ 102 km) could not bring it back within 10,000 km.

    *Hit.* Each footprint holds geodesic discs: a circle is one; a polygon holds its
    ``inner_disc`` and every point of its densified ring (radius 0: they lie on its
    boundary). Discs of radii ``r1``, ``r2`` with centres ``L`` apart are at most
    ``max(0, L - r1 - r2)`` apart (the points at arc lengths ``r1`` and ``L - r2`` of the
    geodesic between the centres lie in the discs, joined by the rest of the arc). Tried:
    the two inner discs, and the two points of the footprints that reach furthest towards
    each other along the axis ``u`` below.

    *Miss (separating axis).* ``u`` is the unit vector from the query's centre to the
    candidate's (ECEF). If every point ``X`` of the query and ``Y`` of the candidate has
    ``u·Y - u·X ≥ s``, their chord, hence their geodesic, is at least ``s``: a miss when
    ``s > thr``. For a circle, ``|X - c| ≤`` chord ``≤ r``, so ``u·X`` is within ``r`` of
    ``u·c``. For a polygon, ``u·X`` over its region is extreme on its boundary: a linear
    function has only two critical points on the ellipsoid (where the normal is ``±u``),
    and for centres at most 1,000 km apart ``u`` is within 5° of the tangent planes there,
    so those points are over 80° of arc away, beyond any footprint (3,000 km). On the
    boundary, each geodesic piece lies within :data:`_PIECE_SLACK_M` of its chord, whose
    extremes are its ends: the ring's points' extremes, widened by that slack, bound it.
    """
    k = len(rows)
    ar = np.arange(k)
    qc = np.array(ecef_scalar(*query.centre))
    q_poly = isinstance(query, Polygon)
    qlon, qlat, q_in = query.inner_disc
    qp = np.array(ecef_scalar(qlon, qlat))
    cen = rows[:, _CX : _CZ + 1]
    # inner discs
    hit = _upper(rows[:, _PX : _PZ + 1] - qp) <= thr + rows[:, _RIN] + q_in
    # candidates' points: ring points of polygons, centres of circles
    counts = np.fromiter((1 if r is None else len(r) for r in rings), np.int64, k)
    pts = np.concatenate([cen[i : i + 1] if r is None else r for i, r in enumerate(rings)])
    owner = np.repeat(ar, counts)
    starts = np.cumsum(counts) - counts
    c_circle = counts == 1
    c_rad = np.where(c_circle, rows[:, _RIN], 0.0)  # a circle's radius (its inner disc)
    c_slack = np.where(c_circle, c_rad, _PIECE_SLACK_M)
    q_pts = query.ring_ecef if isinstance(query, Polygon) else qc[None, :]
    q_rad = 0.0 if q_poly else query.radius_m
    q_slack = _PIECE_SLACK_M if q_poly else q_rad
    miss = np.zeros(k, dtype=bool)
    axis = cen - qc  # first axis: centre to centre
    near = np.einsum("ij,ij->i", axis, axis) <= _SAT_CHORD_MAX_M**2
    for step in range(2):
        norm = np.sqrt(np.einsum("ij,ij->i", axis, axis))
        usable = near & (norm > 1.0) & (norm <= _SAT_CHORD_MAX_M)
        u = axis / np.where(norm > 0, norm, 1.0)[:, None]
        along = np.einsum("ij,ij->i", pts, u[owner])
        near_c = np.lexsort((along, owner))[starts]  # each candidate's point furthest towards q
        q_along = q_pts @ u.T  # (n_q, k)
        near_q = np.argmax(q_along, axis=0)
        sep = along[near_c] - c_slack - q_along[near_q, ar] - q_slack
        miss |= usable & (sep > thr + 1e-3)
        # closest points to each other's extreme point (one alternation)
        d = pts - q_pts[near_q][owner]
        dist2 = np.einsum("ij,ij->i", d, d)
        yc = np.lexsort((dist2, owner))[starts]
        dq = q_pts[:, None, :] - pts[yc][None, :, :]
        xq = np.argmin(np.einsum("ijk,ijk->ij", dq, dq), axis=0)
        hit |= _upper(pts[near_c] - q_pts[near_q]) <= thr + c_rad + q_rad
        hit |= _upper(pts[yc] - q_pts[xq]) <= thr + c_rad + q_rad
        if step == 0:
            axis = pts[yc] - q_pts[xq]  # second axis: between the closest points found
    return hit, miss & ~hit
