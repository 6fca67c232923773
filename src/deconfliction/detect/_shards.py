"""Tactical sharding: which hub node looks at which tracks (pure decision, no I/O).

The tactical engine scales out by region: the globe is cut into cells (:class:`ShardGrid`),
each cell is owned by one node (:func:`owner`, rendezvous hashing), and every track is sent
to the owner of each cell *near* it (:meth:`ShardGrid.near`), not only of the cell it is
in (:meth:`ShardGrid.home`). A node evaluates a pair of tracks only when it owns the pair's
cell (:func:`pair_cell`), so each pair is reported once across the nodes.

**Why no conflict is missed.** Two tracks *p*, *q* can lose separation within the
look-ahead only if their distance is at most the margin
(:meth:`ShardGrid.margin_m`: separation plus both tracks closing head-on at the top speed
for the look-ahead). ``near(q, margin)`` holds every cell with a point within ``margin``
of *q*, and *p* lies in ``home(p)``; so ``home(p) ∈ near(q)``, ``home(q) ∈ near(p)``, and
``home(p) ∈ near(p)``: the owner of either home cell — in particular of the pair cell
``min(home(p), home(q))`` — receives both tracks.

**The grid.** Latitude bands of one height (``size_km`` along a meridian, rounded so
that a whole number of bands spans pole to pole); each band holds
``floor(width / size)`` cells (at least one) of equal longitude extent, ``width`` being
the band's circumference at its middle latitude, so cells are about ``size`` wide there
and of roughly equal area (the polar caps are cut into wedges that meet at the pole).
Cell ids count bands from the south pole, and cells within a band eastward from
−180°. A point on an edge belongs to the cell north / east of it; the north pole to the
northernmost band, 180° to the cell starting at −180°.

**The bound behind** :meth:`ShardGrid.near`. Along any path on the ellipsoid
``ds² = M²dφ² + N²cos²φ dλ²``, with ``M ≥ A(1 − e²)`` (:data:`M_EQUATOR`) and ``N ≥ A``. So a
path of length ``s`` changes the latitude by at most ``s / M_EQUATOR``, and, staying
between the latitudes so reached, changes the longitude by at most ``s / (A·cos φ*)``,
φ* the most poleward of them (unbounded when that range holds a pole: all longitudes).
The geodesic to any point within the margin is such a path. The margin is padded by
:data:`PAD_REL` and :data:`PAD_M`, which cover floating-point rounding and the
proximity model's own distance (it differs from the geodesic by under 0.5 ppm for pairs
within 150 km, measured against pyproj); the result may hold extra cells, never miss one.

>>> grid = ShardGrid(500.0)
>>> len(grid), grid.bands
(2022, 40)
>>> margin = ShardGrid.margin_m(9_260.0, 120.0, 250.0)
>>> margin
69260.0
>>> paris = grid.home(2.35, 48.85)
>>> paris, sorted(grid.near(2.35, 48.85, margin)), sorted(grid.near(2.35, 48.85, 100_000.0))
(1755, [1755], [1755, 1806, 1807])
>>> pair_cell(paris, grid.home(2.35, 49.6)), owner(1755, ["hub-a", "hub-b", "hub-c"])
(1755, 'hub-a')
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from deconfliction.detect._alerts import Alert, AlertKind
from deconfliction.errors import InvalidInput
from deconfliction.geo._geodesy import E2, GEOD, M_EQUATOR, A

__all__ = ["PAD_M", "PAD_REL", "CellSets", "ShardGrid", "alert_cell", "owner", "pair_cell"]

Array = NDArray[np.float64]
Codes = NDArray[np.int64]

MERIDIAN_M = float(GEOD.inv(0.0, -90.0, 0.0, 90.0)[2])
"""Length of a meridian from pole to pole on WGS84, metres (≈ 20,003,931 m)."""

PAD_REL = 1e-5
"""Relative padding of the margin in :meth:`ShardGrid.near` (10 ppm)."""

PAD_M = 0.01
"""Absolute padding of the margin in :meth:`ShardGrid.near`, metres."""

MIN_SIZE_KM = 10.0
MAX_SIZE_KM = 40_000.0


@dataclass(frozen=True, slots=True)
class CellSets:
    """The cells near each of a batch of points, in compressed rows (CSR): the cells of
    point ``k`` are ``cells[indptr[k]:indptr[k + 1]]`` (distinct, not sorted).

    >>> sets = ShardGrid(500.0).nears([2.35, 179.9], [48.85, 89.9], 10_000.0)
    >>> len(sets), sets.of(0), sorted(sets.of(1))
    (2, frozenset({1755}), [2019, 2020, 2021])
    >>> sets.rows().tolist(), sets.indptr.tolist(), sets.of_array(0).tolist()
    ([0, 1, 1, 1], [0, 1, 4], [1755])
    """

    indptr: Codes
    cells: Codes

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def of_array(self, k: int) -> Codes:
        """The cells near point ``k``, as an array."""
        return self.cells[self.indptr[k] : self.indptr[k + 1]]

    def of(self, k: int) -> frozenset[int]:
        """The cells near point ``k``."""
        return frozenset(self.of_array(k).tolist())

    def rows(self) -> Codes:
        """The point each entry of :attr:`cells` belongs to (to route tracks: a track
        goes to the owner of every cell of its row)."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.indptr))


def _check_size(size_km: float) -> float:
    if isinstance(size_km, bool) or not isinstance(size_km, int | float):
        raise InvalidInput("size_km", f"{size_km!r} is not a number")
    if not MIN_SIZE_KM <= size_km <= MAX_SIZE_KM:
        raise InvalidInput("size_km", f"{size_km!r} is not in [{MIN_SIZE_KM}, {MAX_SIZE_KM}] km")
    return float(size_km)


def _check_margin(margin_m: float) -> float:
    if isinstance(margin_m, bool) or not isinstance(margin_m, int | float):
        raise InvalidInput("margin_m", f"{margin_m!r} is not a number")
    if not 0.0 <= margin_m < math.inf:
        raise InvalidInput("margin_m", f"{margin_m!r} is not a finite distance ≥ 0 m")
    return float(margin_m)


def _positions(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    lo = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    la = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if lo.ndim != 1 or lo.shape != la.shape:
        raise InvalidInput(
            "lon", f"lon and lat must be 1-D of one length, not {lo.shape}, {la.shape}"
        )
    if not np.isfinite(lo).all():
        raise InvalidInput("lon", "every longitude must be a finite number of degrees")
    if not (np.abs(la) <= 90.0).all():  # also refuses NaN
        raise InvalidInput("lat", "every latitude must be in [-90, 90] degrees")
    return lo, la


@dataclass(frozen=True, slots=True)
class ShardGrid:
    """Cells of about ``size_km`` × ``size_km`` tiling the whole globe, ids ``0 … len − 1``
    (see the module docstring for the layout and the guarantee).

    >>> grid = ShardGrid(1_000.0)
    >>> len(grid), grid.home(0.0, 90.0), grid.home(180.0, 0.0) == grid.home(-180.0, 0.0)
    (502, 500, True)
    >>> [round(v, 3) for v in grid.bounds(grid.home(10.0, 47.0))]
    [0.0, 45.0, 13.846, 54.0]
    """

    size_km: float = 500.0
    bands: int = field(init=False)
    """How many latitude bands."""
    band_deg: float = field(init=False)
    """Height of a band, degrees of latitude."""
    counts: Codes = field(init=False, repr=False, compare=False)
    """Cells per band, south to north."""
    offsets: Codes = field(init=False, repr=False, compare=False)
    """Id of each band's first cell (and the total count last)."""
    lat_edges: Array = field(init=False, repr=False, compare=False)
    """Latitudes of the band edges, −90 to 90 (exactly), degrees."""

    def __post_init__(self) -> None:
        size_m = _check_size(self.size_km) * 1_000.0
        object.__setattr__(self, "size_km", size_m / 1_000.0)
        nb = max(1, round(MERIDIAN_M / size_m))
        h = 180.0 / nb
        mid = np.radians(-90.0 + (np.arange(nb) + 0.5) * h)
        s = np.sin(mid)
        width = 2.0 * math.pi * A / np.sqrt(1.0 - E2 * s * s) * np.cos(mid)
        counts = np.maximum(1, np.floor(width / size_m)).astype(np.int64)
        object.__setattr__(self, "bands", nb)
        object.__setattr__(self, "band_deg", h)
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "offsets", np.concatenate([[0], np.cumsum(counts)]))
        edges = -90.0 + np.arange(nb + 1) * h
        edges[-1] = 90.0
        object.__setattr__(self, "lat_edges", edges)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    # -- where a point is --------------------------------------------------------------

    def _band(self, lat: Array) -> Codes:
        """Band of each latitude: the last whose south edge is at or below it."""
        b = np.searchsorted(self.lat_edges, lat, side="right").astype(np.int64) - 1
        return np.clip(b, 0, self.bands - 1)

    @staticmethod
    def _lon_edge(i: Codes | int, n: Codes | int) -> Array:
        """West edge of cell ``i`` of a band of ``n`` (180 exactly for ``i == n``)."""
        return np.where(np.asarray(i) >= n, 180.0, -180.0 + np.asarray(i) * (360.0 / np.asarray(n)))

    def homes(self, lon: ArrayLike, lat: ArrayLike) -> Codes:
        """The cell holding each point (vectorised :meth:`home`).

        >>> ShardGrid(500.0).homes([0.0, 180.0, -180.0, 2.35], [-90.0, 0.0, 0.0, 48.85]).tolist()
        [1, 1011, 1011, 1755]
        """
        lo, la = _positions(lon, lat)
        band = self._band(la)
        n = self.counts[band]
        wrapped = (lo >= -180.0) & (lo < 180.0)
        lo = np.where(wrapped, lo, np.mod(lo + 180.0, 360.0) - 180.0)
        i = np.clip(np.floor((lo + 180.0) / (360.0 / n)).astype(np.int64), 0, n - 1)
        # settle rounding at the edges exactly as :meth:`bounds` states them
        i = np.where((i > 0) & (self._lon_edge(i, n) > lo), i - 1, i)
        i = np.where((i < n - 1) & (self._lon_edge(i + 1, n) <= lo), i + 1, i)
        result: Codes = self.offsets[band] + i
        return result

    def home(self, lon: float, lat: float) -> int:
        """The cell holding the point (lon, lat degrees; any longitude, wrapped).

        >>> ShardGrid(500.0).home(-179.99, 0.0), ShardGrid(500.0).home(540.0, 0.0)
        (1011, 1011)
        """
        return int(self.homes([lon], [lat])[0])

    def bounds(self, cell: int) -> tuple[float, float, float, float]:
        """``(lon_min, lat_min, lon_max, lat_max)`` of a cell, degrees (``lon_max`` ≤ 180).

        >>> ShardGrid(500.0).bounds(0)
        (-180.0, -90.0, -60.0, -85.5)
        """
        if isinstance(cell, bool) or not isinstance(cell, int | np.integer):
            raise InvalidInput("cell", f"{cell!r} is not a cell id")
        if not 0 <= cell < len(self):
            raise InvalidInput("cell", f"{cell} is not in [0, {len(self)})")
        band = int(np.searchsorted(self.offsets, cell, side="right")) - 1
        n = int(self.counts[band])
        i = int(cell) - int(self.offsets[band])
        lon0, lon1 = (float(self._lon_edge(k, n)) for k in (i, i + 1))
        return (lon0, float(self.lat_edges[band]), lon1, float(self.lat_edges[band + 1]))

    # -- which cells a point may concern -----------------------------------------------

    @staticmethod
    def margin_m(separation_m: float, look_ahead_s: float, max_speed_mps: float) -> float:
        """The distance within which two tracks may lose separation within the look-ahead:
        ``separation + look_ahead × 2 × max_speed`` (both flying head-on at the top speed
        — the reach :func:`~deconfliction.detect.detect_proximity` uses). The caller picks
        the top speed: the fastest ground speed among the tracks (as proximity does), or
        a ceiling per deployment. Use the largest separation of any pair of kinds.

        >>> ShardGrid.margin_m(9_260.0, 120.0, 300.0)
        81260.0
        """
        values: tuple[tuple[str, object], ...] = (
            ("separation_m", separation_m),
            ("look_ahead_s", look_ahead_s),
            ("max_speed_mps", max_speed_mps),
        )
        for name, v in values:
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < math.inf:
                raise InvalidInput(name, f"{v!r} is not a finite number ≥ 0")
        return float(separation_m) + float(look_ahead_s) * 2.0 * float(max_speed_mps)

    def nears(self, lon: ArrayLike, lat: ArrayLike, margin_m: float) -> CellSets:
        """For each point, every cell with a point within ``margin_m`` (geodesic, WGS84)
        of it, as :class:`CellSets` (vectorised :meth:`near`; a few ms for 5,000 points)."""
        lo, la = _positions(lon, lat)
        m = _check_margin(margin_m) * (1.0 + PAD_REL) + PAD_M
        dphi = math.degrees(m / M_EQUATOR)
        lat_lo, lat_hi = la - dphi, la + dphi
        b_lo, b_hi = self._band(lat_lo), self._band(lat_hi)
        pole = (lat_lo <= -90.0) | (lat_hi >= 90.0)
        cos_min = np.minimum(
            np.cos(np.radians(np.clip(lat_lo, -90.0, 90.0))),
            np.cos(np.radians(np.clip(lat_hi, -90.0, 90.0))),
        )
        bounded = ~pole & (A * cos_min * math.pi > m)
        dlam = np.where(bounded, np.degrees(m / (A * np.where(bounded, cos_min, 1.0))), 0.0)
        # one row per (point, band)
        nbands = b_hi - b_lo + 1
        point = np.repeat(np.arange(len(lo), dtype=np.int64), nbands)
        first = np.cumsum(nbands) - nbands
        band = b_lo[point] + np.arange(len(point), dtype=np.int64) - first[point]
        n = self.counts[band]
        w = 360.0 / n
        x = np.mod(lo + 180.0, 360.0)[point]
        d = dlam[point]
        i_lo = np.floor((x - d) / w).astype(np.int64)
        span = np.floor((x + d) / w).astype(np.int64) - i_lo + 1
        every = ~bounded[point] | (span >= n)
        k = np.where(every, n, span)
        start = np.where(every, 0, i_lo)
        # one entry per (point, band, cell)
        row = np.repeat(np.arange(len(band), dtype=np.int64), k)
        rank = np.arange(len(row), dtype=np.int64) - np.repeat(np.cumsum(k) - k, k)
        cells = self.offsets[band][row] + np.mod(start[row] + rank, n[row])
        per_point = np.bincount(point, weights=k, minlength=len(lo)).astype(np.int64)
        indptr = np.concatenate([[0], np.cumsum(per_point)]).astype(np.int64)
        return CellSets(indptr, cells.astype(np.int64))

    def near(self, lon: float, lat: float, margin_m: float) -> frozenset[int]:
        """Every cell with a point within ``margin_m`` (geodesic, WGS84) of (lon, lat); it
        may hold a few extra cells, never misses one. Always holds :meth:`home`.

        >>> grid = ShardGrid(500.0)
        >>> sorted(grid.near(0.0, 0.0, 0.0))  # a corner: the four cells that meet there
        [970, 971, 1050, 1051]
        >>> len(grid.near(0.0, 90.0, 100_000.0)), len(grid.near(0.0, 90.0, 600_000.0))
        (3, 12)
        """
        return self.nears([lon], [lat], margin_m).of(0)


def pair_cell(home_a: int, home_b: int) -> int:
    """The one cell whose owner evaluates a pair of tracks: the smaller home cell. Both
    tracks reach its owner (each home is near the other track), so each pair is reported
    by exactly one node.

    >>> pair_cell(1054, 1007)
    1007
    """
    return min(int(home_a), int(home_b))


def alert_cell(alert: Alert, home_of: Mapping[Hashable, int]) -> int:
    """The cell whose owner reports ``alert``: the pair cell of a proximity alert's two
    tracks, the home cell of the (first) track of any other (an incursion or a
    non-conformance concerns one track; every node holds every volume). ``home_of``
    maps each track id to its home cell, from the report the cycle used.

    >>> a = Alert(AlertKind.PROXIMITY, ("proximity", "x", "y"), ("P", "Q"), ("x", "y"))
    >>> alert_cell(a, {"x": 1054, "y": 1007})
    1007
    """
    if alert.kind is AlertKind.PROXIMITY:
        a, b = alert.tracks[:2]
        return pair_cell(home_of[a], home_of[b])
    return int(home_of[alert.tracks[0]])


def _weight(cell: int, node: str) -> int:
    digest = hashlib.blake2b(f"{cell}:{node}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(cell: int, nodes: Sequence[str]) -> str:
    """The node owning a cell: rendezvous (highest-random-weight) hashing over
    ``blake2b(cell:node)``, stable across processes and machines. When a node leaves,
    only its cells move (each to its next-highest node); when one joins, it takes cells
    only from the others, about ``1/len(nodes)`` of them. Ties (never seen with 64-bit
    weights) go to the greater name.

    >>> owner(1755, ["hub-a", "hub-b", "hub-c"]), owner(1755, ["hub-c", "hub-a"])
    ('hub-a', 'hub-a')
    """
    if isinstance(cell, bool) or not isinstance(cell, int | np.integer):
        raise InvalidInput("cell", f"{cell!r} is not a cell id")
    if isinstance(nodes, str) or not nodes:
        raise InvalidInput("nodes", "a cell needs at least one node (a sequence of names)")
    return max(nodes, key=lambda node: (_weight(int(cell), node), node))
