"""Active activity volumes prepared for the tactical checks (built once per change).

A :class:`VolumeSet` holds every active activity's 4D volumes with what each cycle needs:

* a planar *core* per volume in the volume's own :class:`~deconfliction.geo._geodesy.
  LocalFrame` (a polygon's densified geodesic ring, or a circle's centre), prepared for
  GEOS, and the frame's parameters as arrays so that many tracks can be projected into
  many volumes' frames in one vectorised call;
* error bounds over the region a track path can reach (``max_reach_m`` around the
  footprint): largest conformal scale, ring sagitta, seam;
* an STRtree over each volume's bounding cube on the globe (unit normals scaled as in
  :mod:`~deconfliction.detect._grid`), queried with the tracks' reach.

:func:`path_within` is the one horizontal decision both incursion and conformance use:
is a track's straight path (a point when it has no length) within ``tolerance`` of a
footprint? It never says no when the true geodesic path comes within the tolerance; it may
say yes when it stays outside by less than the margins (centimetres to a few metres).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from deconfliction.detect._grid import GRID_RADIUS_M
from deconfliction.errors import InvalidInput
from deconfliction.geo import Circle, Volume4D
from deconfliction.geo._geodesy import (
    DENSIFY_M,
    E2,
    B,
    LocalFrame,
    densify_ring,
    isometric_latitude,
    poleward_pad,
    sagitta_bound,
)

__all__ = ["ActivityVolumes", "VolumeSet", "path_within"]

Array = NDArray[np.float64]
Codes = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class ActivityVolumes:
    """One active activity: its id, the party that declared it, and its volumes."""

    activity: Hashable
    party: Hashable
    volumes: Sequence[Volume4D]


class VolumeSet:
    """Every volume of the active activities, as columns (``len()`` counts volumes).

    ``max_reach_m`` bounds how far a track's path (speed × look-ahead + tolerance) may
    reach in one cycle; a cycle asking for more raises :class:`InvalidInput`.
    """

    def __init__(
        self, activities: Iterable[ActivityVolumes], *, max_reach_m: float = 300_000.0
    ) -> None:
        if not (math.isfinite(max_reach_m) and max_reach_m > 0):
            raise InvalidInput("max_reach_m", "must be a finite number > 0")
        self.max_reach_m = float(max_reach_m)
        self.activities: list[ActivityVolumes] = list(activities)
        rows: list[tuple[float, ...]] = []
        cores: list[object] = []
        act: list[int] = []
        pos: list[int] = []
        for a, entry in enumerate(self.activities):
            for p, v in enumerate(entry.volumes):
                row, core = _prepare(v, self.max_reach_m)
                rows.append(row)
                cores.append(core)
                act.append(a)
                pos.append(p)
        cols = np.array(rows, dtype=np.float64).reshape(-1, len(_FIELDS))
        for k, name in enumerate(_FIELDS):
            setattr(self, name, np.ascontiguousarray(cols[:, k]))
        self.is_circle = self.radius > 0
        self.core = np.empty(len(cores), dtype=object)
        self.core[:] = cores
        shapely.prepare(self.core)
        self.activity: Codes = np.array(act, dtype=np.int64)
        """Index into :attr:`activities` of each volume."""
        self.position: Codes = np.array(pos, dtype=np.int64)
        """Index of each volume within its activity."""
        self._trees: dict[int, shapely.STRtree] = {}
        self._edges = _edges(self.core)

    # columns set from _FIELDS (declared for type checkers)
    lon0: Array
    c: Array
    log_k: Array
    radius_g: Array
    sc: Array
    cc: Array
    radius: Array
    extent: Array
    m_max: Array
    sag: Array
    seam: Array
    alt_lo: Array
    alt_hi: Array
    t_start: Array
    t_end: Array
    gx: Array
    gy: Array
    gz: Array

    def __len__(self) -> int:
        return len(self.activity)

    def party_codes(self, parties: Sequence[Hashable]) -> Codes:
        """Each volume's party as a code of a :class:`TrackSet`'s ``parties`` (−1: a
        party with no track)."""
        index = {p: i for i, p in enumerate(parties)}
        per_activity = np.array(
            [index.get(a.party, -1) for a in self.activities] or [0], dtype=np.int64
        )
        return per_activity[self.activity] if len(self) else np.empty(0, dtype=np.int64)

    def _tree(self, reach_m: float) -> shapely.STRtree:
        """STRtree over the volumes' cubes widened by ``reach_m`` rounded up to 5 km
        (cached: a cycle's largest reach rarely changes)."""
        step = 5_000
        bucket = math.ceil(reach_m / step)
        tree = self._trees.get(bucket)
        if tree is None:
            half = self.extent + bucket * step + 1.0
            tree = shapely.STRtree(
                shapely.box(self.gx - half, self.gy - half, self.gx + half, self.gy + half)
            )
            self._trees = {bucket: tree}
        return tree

    def near(self, gx: Array, gy: Array, gz: Array, reach: Array) -> tuple[Codes, Codes]:
        """``(track, volume)`` pairs where the track's scaled normal is within
        ``reach + extent`` of the volume's (a superset of those that can meet)."""
        if not len(self) or not len(gx):
            e = np.empty(0, dtype=np.int64)
            return e, e
        tree = self._tree(float(reach.max()))
        t, v = tree.query(shapely.points(gx, gy))
        t, v = t.astype(np.int64), v.astype(np.int64)
        dx, dy, dz = gx[t] - self.gx[v], gy[t] - self.gy[v], gz[t] - self.gz[v]
        r = reach[t] + self.extent[v] + 1.0
        keep = dx * dx + dy * dy + dz * dz <= r * r
        return t[keep], v[keep]

    def edges(self, v: Codes) -> tuple[Codes, Array, Array, Array, Array]:
        """Every edge of the planar cores of volumes ``v``: the row of ``v`` each belongs
        to, and its end points (a circle's core is one zero-length edge at its centre)."""
        start, count, x0, y0, x1, y1 = self._edges
        n = count[v]
        row = np.repeat(np.arange(len(v)), n)
        k = np.arange(int(n.sum())) + np.repeat(start[v] - (np.cumsum(n) - n), n)
        return row, x0[k], y0[k], x1[k], y1[k]

    def project(self, lon: Array, lat: Array, v: Codes) -> tuple[Array, Array]:
        """Points (degrees) into the frames of volumes ``v`` (one volume per point)."""
        lam = np.radians(lon)
        psi = isometric_latitude(np.radians(np.clip(lat, -89.9999999, 89.9999999)))
        c = self.c[v]
        u = c * psi + self.log_k[v]
        sin_chi = np.tanh(u)
        cos_chi = 1.0 / np.cosh(u)
        dlam = np.remainder(lam - self.lon0[v] + math.pi, 2 * math.pi) - math.pi
        big = c * dlam
        vx, vy = cos_chi * np.cos(big), cos_chi * np.sin(big)
        sc, cc = self.sc[v], self.cc[v]
        e, n, up = vy, -sc * vx + cc * sin_chi, cc * vx + sc * sin_chi
        rho = np.hypot(e, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(rho > 0, self.radius_g[v] * np.arctan2(rho, up) / rho, 0.0)
        return e * scale, n * scale


_FIELDS = (
    "lon0",
    "c",
    "log_k",
    "radius_g",
    "sc",
    "cc",
    "radius",
    "extent",
    "m_max",
    "sag",
    "seam",
    "alt_lo",
    "alt_hi",
    "t_start",
    "t_end",
    "gx",
    "gy",
    "gz",
)


def _prepare(v: Volume4D, max_reach_m: float) -> tuple[tuple[float, ...], object]:
    """One volume's row of :data:`_FIELDS` and its planar core."""
    fp = v.footprint
    lon, lat = fp.centre
    frame = LocalFrame.at(lon, lat)
    if isinstance(fp, Circle):
        core: object = shapely.Point(0.0, 0.0)
        pad = math.degrees(fp.radius_m / GRID_RADIUS_M)
        lat_lo, lat_hi = math.radians(max(-90.0, lat - pad)), math.radians(min(90.0, lat + pad))
        radius, ring_sag = fp.radius_m, 0.0
    else:
        dense = densify_ring(fp.lonlat[:, 0], fp.lonlat[:, 1], DENSIFY_M)
        x, y = frame.forward_deg(dense[:, 0], dense[:, 1])
        core = shapely.make_valid(shapely.Polygon(np.stack([x, y], axis=1)))
        lat_r = np.radians(dense[:, 1])
        lat_lo, lat_hi = float(lat_r.min()), float(lat_r.max())
        radius, ring_sag = 0.0, sagitta_bound(DENSIFY_M, fp.radius_m)
    r_ext = fp.radius_m + max_reach_m
    _, m_max = frame.scale_range(*poleward_pad(lat_lo, lat_hi, r_ext))
    if not math.isfinite(frame.stretch(r_ext)):
        raise InvalidInput("max_reach_m", "too large for this footprint's frame")
    seam = frame.seam_m(r_ext)
    (_, _, _), (sc_neg, _, cc), (_, _, _) = frame.rot
    phi, lam = math.radians(lat), math.radians(lon)
    g = (
        GRID_RADIUS_M * math.cos(phi) * math.cos(lam),
        GRID_RADIUS_M * math.cos(phi) * math.sin(lam),
        GRID_RADIUS_M * math.sin(phi),
    )
    row = (
        frame.lon0,
        frame.c,
        frame.log_k,
        frame.radius,
        -sc_neg,
        cc,
        radius,
        fp.radius_m * (1 + 1e-9) + 1.0,
        m_max,
        ring_sag,
        seam,
        v.altitude.lower_m,
        v.altitude.upper_m,
        v.time.start_s,
        v.time.end_s,
        *g,
    )
    return row, core


def _edges(cores: NDArray[np.object_]) -> tuple[Codes, Codes, Array, Array, Array, Array]:
    """Edges of every core's rings (exterior and holes), grouped by core."""
    xs0: list[Array] = []
    ys0: list[Array] = []
    xs1: list[Array] = []
    ys1: list[Array] = []
    counts = np.zeros(len(cores), dtype=np.int64)
    for k, core in enumerate(cores):
        if isinstance(core, shapely.Point):
            rings = [np.array([[core.x, core.y], [core.x, core.y]])]
        else:
            parts = shapely.get_parts(core)
            rings = [
                shapely.get_coordinates(r)
                for p in parts
                if isinstance(p, shapely.Polygon)
                for r in shapely.get_rings(p)
            ]
        for xy in rings:
            xs0.append(xy[:-1, 0])
            ys0.append(xy[:-1, 1])
            xs1.append(xy[1:, 0])
            ys1.append(xy[1:, 1])
            counts[k] += len(xy) - 1
    start = np.cumsum(counts) - counts
    cat = [np.concatenate(a) if a else np.empty(0) for a in (xs0, ys0, xs1, ys1)]
    return start, counts, cat[0], cat[1], cat[2], cat[3]


def _stretch(vs: VolumeSet, v: Codes, r: Array) -> Array:
    """Azimuthal stretch ``k(r) = (r/R)/sin(r/R)`` of volumes ``v``'s frames at ``r``."""
    t = np.minimum(r / vs.radius_g[v], 3.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(t > 1e-9, t / np.sin(t), 1.0)
    result: Array = k
    return result


def path_margin(vs: VolumeSet, v: Codes, piece_m: Array, reach_m: Array) -> Array:
    """Planar slack for a stretch of geodesic path of length ``piece_m`` whose ends are
    projected exactly, lying within ``reach_m`` of volumes ``v``'s footprints: how far the
    projected geodesic can bow away from the chord between its ends, plus the frame's seam."""
    r = vs.extent[v] + reach_m
    bow = piece_m * piece_m * 2.0 * (r / (B * B) + E2 / B) / 8.0 + 1e-2
    result: Array = bow + vs.seam[v] + 1e-3
    return result


def path_within(
    vs: VolumeSet,
    v: Codes,
    ax: Array,
    ay: Array,
    bx: Array,
    by: Array,
    piece_m: Array,
    reach_m: Array,
    tolerance_m: float,
) -> tuple[NDArray[np.bool_], Array]:
    """Whether each planar segment ``a→b`` in volume ``v``'s frame — the exact projections
    of the ends of a geodesic stretch of ``piece_m`` lying within ``reach_m`` of the
    footprint's extent — comes within ``tolerance_m`` (geodesic) of the footprint.

    Returns the decision and the planar threshold used (for locating the entry).
    """
    tol = float(tolerance_m)
    k = _stretch(vs, v, vs.extent[v] + reach_m + tol)
    thr = np.where(
        vs.is_circle[v],
        (vs.radius[v] + tol) * vs.m_max[v],
        tol * k * vs.m_max[v] + vs.sag[v],
    ) + path_margin(vs, v, piece_m, reach_m)
    # a stretch shorter than a micrometre is its start point: GEOS computes the distance of
    # a segment whose ends differ by a subnormal amount as NaN, and dwithin(NaN) is False
    tiny = np.hypot(bx - ax, by - ay) < 1e-6
    bx, by = np.where(tiny, ax, bx), np.where(tiny, ay, by)
    segs = shapely.linestrings(
        np.stack([np.stack([ax, ay], axis=1), np.stack([bx, by], axis=1)], axis=1)
    )
    return shapely.dwithin(segs, vs.core[v], thr), thr
