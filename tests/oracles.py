"""Brute-force oracles built on pyproj's geodesic solver only (independent of our frames).

``oracle_distance`` samples both footprints' true boundaries (points computed along each
geodesic edge by pyproj), finds the closest sample pairs with exact geodesic distances,
refines around them, and adds containment (a footprint wholly inside the other). Samples are
real points of the footprints, so a sample pair within a threshold is a *witness* of a
conflict: a decision that misses it is a false negative, with no tolerance.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from pyproj import CRS, Transformer

from deconfliction.geo import Circle, Footprint, Polygon
from deconfliction.geo._geodesy import GEOD, ecef


def _edge_points(lon1: float, lat1: float, lon2: float, lat2: float, spacing: float) -> np.ndarray:
    az, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    n = max(1, math.ceil(dist / spacing))
    f = np.arange(n) / n
    lon, lat, _ = GEOD.fwd(np.full(n, lon1), np.full(n, lat1), np.full(n, az), dist * f)
    return np.stack([lon, lat], axis=1)


def boundary(fp: Footprint, spacing: float) -> np.ndarray:
    """Points on the footprint's true boundary, at most ``spacing`` apart."""
    if isinstance(fp, Circle):
        n = max(8, min(20_000, math.ceil(2 * math.pi * fp.radius_m / spacing)))
        az = np.linspace(0, 360, n, endpoint=False)
        lon, lat, _ = GEOD.fwd(
            np.full(n, fp.centre[0]), np.full(n, fp.centre[1]), az, np.full(n, fp.radius_m)
        )
        return np.stack([lon, lat], axis=1)
    v = fp.lonlat
    parts = [_edge_points(*v[i], *v[(i + 1) % len(v)], spacing) for i in range(len(v))]
    return np.concatenate(parts)


def _spacing(fp: Footprint) -> float:
    return max(0.25, fp.radius_m / 150.0)


def contains(fp: Footprint, lon: float, lat: float) -> bool:
    """Point in footprint, via PROJ's own ellipsoidal azimuthal equidistant projection."""
    return bool(contains_any(fp, np.array([[lon, lat]])))


def contains_any(fp: Footprint, pts: np.ndarray) -> bool:
    """Whether any of the lon/lat points lies in the footprint (PROJ aeqd + GEOS)."""
    if isinstance(fp, Circle):
        n = len(pts)
        _, _, d = GEOD.inv(np.full(n, fp.centre[0]), np.full(n, fp.centre[1]), pts[:, 0], pts[:, 1])
        return bool(np.any(np.asarray(d) <= fp.radius_m))
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={fp.centre[1]} +lon_0={fp.centre[0]} +ellps=WGS84")
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    ring = boundary(fp, max(0.1, fp.radius_m / 2000.0))
    x, y = tr.transform(ring[:, 0], ring[:, 1])
    px, py = tr.transform(pts[:, 0], pts[:, 1])
    poly = shapely.Polygon(np.stack([x, y], axis=1))
    return bool(np.any(shapely.covers(poly, shapely.points(np.asarray(px), np.asarray(py)))))


class _Ring:
    """A polygon's true boundary parametrised by arc length (exact geodesic edges)."""

    def __init__(self, fp: Polygon) -> None:
        v = fp.lonlat
        w = np.roll(v, -1, axis=0)
        az, _, d = GEOD.inv(v[:, 0], v[:, 1], w[:, 0], w[:, 1])
        self.v, self.az, self.d = v, np.asarray(az), np.asarray(d)
        self.cum = np.concatenate([[0.0], np.cumsum(self.d)])
        self.length = float(self.cum[-1])

    def at(self, s: np.ndarray) -> np.ndarray:
        s = np.mod(s, self.length)
        k = np.clip(np.searchsorted(self.cum, s, side="right") - 1, 0, len(self.d) - 1)
        lon, lat, _ = GEOD.fwd(self.v[k, 0], self.v[k, 1], self.az[k], s - self.cum[k])
        return np.stack([np.asarray(lon), np.asarray(lat)], axis=1)

    def window(self, centre: float, half: float, spacing: float) -> tuple[np.ndarray, np.ndarray]:
        """Arc lengths and points at ``spacing`` within ``half`` of ``centre``, plus the
        vertices in that stretch (so corners are always sampled)."""
        if 2 * half >= self.length:
            s = np.arange(0.0, self.length, spacing)
            corners = self.cum[:-1]
        else:
            s = np.arange(centre - half, centre + half + spacing, spacing)
            off = (self.cum[:-1] - centre + self.length / 2) % self.length - self.length / 2
            corners = self.cum[:-1][np.abs(off) <= half]
        s = np.concatenate([s, corners])
        return s, self.at(s)


def _scored_pairs(pa: np.ndarray, pb: np.ndarray, slack: float) -> list[tuple[float, int, int]]:
    """Sample pairs whose exact geodesic distance is within ``slack`` of the minimum."""
    ea, eb = ecef(pa[:, 0], pa[:, 1]), ecef(pb[:, 0], pb[:, 1])
    chunk = max(1, 2_000_000 // max(1, len(eb)))
    c = np.concatenate(
        [
            np.linalg.norm(ea[s : s + chunk, None, :] - eb[None, :, :], axis=2)
            for s in range(0, len(ea), chunk)
        ]
    )
    i0, j0 = np.unravel_index(np.argmin(c), c.shape)
    _, _, g0 = GEOD.inv(pa[i0, 0], pa[i0, 1], pb[j0, 0], pb[j0, 1])
    ii, jj = np.nonzero(c <= g0 + slack + 1e-6)  # chord <= geodesic: nothing closer is dropped
    _, _, g = GEOD.inv(pa[ii, 0], pa[ii, 1], pb[jj, 0], pb[jj, 1])
    g = np.asarray(g)
    keep = np.flatnonzero(g <= g.min() + slack)
    keep = keep[np.argsort(g[keep])][:200]
    return [(float(g[k]), int(ii[k]), int(jj[k])) for k in keep]


def witness_distance(a: Footprint, b: Footprint) -> float:
    """Upper bound on the core-to-core distance (polygon boundary or circle centre), refined
    to about a millimetre, minus the circles' radii.

    Both boundaries are sampled at one spacing ``h``: the true closest points are within
    ``h`` of some sample pair scoring within ``2h`` of the best, so windows of ±3h around
    every such pair, resampled at h/20, contain them. Repeat down to a millimetre."""
    fps = (a, b)
    rings = [_Ring(fp) if isinstance(fp, Polygon) else None for fp in fps]
    lengths = [r.length for r in rings if r is not None]
    h = max(0.05, max(lengths) / 1500.0) if lengths else 0.0

    def samples(k: int, centre: float, half: float) -> tuple[np.ndarray, np.ndarray]:
        ring = rings[k]
        if ring is None:
            return np.zeros(1), np.array([fps[k].centre])
        return ring.window(centre, half, h)

    work: list[tuple[float, float]] = [(0.0, 0.0)]
    best = math.inf
    half = math.inf
    for _ in range(12):
        found: list[tuple[float, float, float]] = []
        for ca, cb in work:
            sa, pa = samples(0, ca, half)
            sb, pb = samples(1, cb, half)
            for g, i, j in _scored_pairs(pa, pb, 2 * h):
                found.append((g, float(sa[i]), float(sb[j])))
        best = min(best, min(f[0] for f in found))
        if h < 0.001 or not lengths:
            break
        found.sort()
        work, seen = [], set()
        for g, ca, cb in found:
            key = (round(ca / (3 * h)), round(cb / (3 * h)))
            if g <= best + 2 * h and key not in seen:
                seen.add(key)
                work.append((ca, cb))
            if len(work) >= 12:
                break
        half = 3 * h
        h = h / 20.0
    return max(0.0, best - a.core_radius_m - b.core_radius_m)


def oracle_distance(a: Footprint, b: Footprint) -> float:
    """Geodesic distance between two footprints from sampling (0 when they meet)."""
    d = witness_distance(a, b)
    if d == 0.0:
        return 0.0
    if isinstance(a, Circle) and isinstance(b, Circle):
        return d
    # a footprint inside the other, or boundaries crossing: some boundary sample (or a
    # circle's centre) of one lies in the other
    sa = np.array([a.centre]) if isinstance(a, Circle) else boundary(a, _spacing(a))
    sb = np.array([b.centre]) if isinstance(b, Circle) else boundary(b, _spacing(b))
    if (isinstance(a, Polygon) and contains_any(a, sb)) or (
        isinstance(b, Polygon) and contains_any(b, sa)
    ):
        return 0.0
    return d


__all__ = ["boundary", "contains", "contains_any", "oracle_distance", "witness_distance"]
