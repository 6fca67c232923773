"""Brute-force oracles built on pyproj's geodesic solver only (independent of our frames).

``oracle_distance`` samples both footprints' true boundaries (points computed along each
geodesic edge by pyproj), finds the closest sample pairs with exact geodesic distances,
refines around them, and adds containment (a footprint wholly inside the other). Samples are
real points of the footprints, so a sample pair within a threshold is a *witness* of a
conflict: a decision that misses it is a false negative, with no tolerance.
"""

from __future__ import annotations

import math
from itertools import pairwise

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


def _min_pair(pa: np.ndarray, pb: np.ndarray) -> tuple[float, list[tuple[int, int]]]:
    """Exact minimum geodesic distance over sample pairs, and the pairs near it."""
    ea, eb = ecef(pa[:, 0], pa[:, 1]), ecef(pb[:, 0], pb[:, 1])
    best_g, near = math.inf, []
    chunk = max(1, 2_000_000 // max(1, len(eb)))
    chords = []
    for s in range(0, len(ea), chunk):
        d = np.linalg.norm(ea[s : s + chunk, None, :] - eb[None, :, :], axis=2)
        chords.append(d)
    c = np.concatenate(chords)
    i0, j0 = np.unravel_index(np.argmin(c), c.shape)
    _, _, g0 = GEOD.inv(pa[i0, 0], pa[i0, 1], pb[j0, 0], pb[j0, 1])
    ii, jj = np.nonzero(c <= g0 + 1e-6)
    _, _, g = GEOD.inv(pa[ii, 0], pa[ii, 1], pb[jj, 0], pb[jj, 1])
    g = np.asarray(g)
    best_g = float(g.min())
    order = np.argsort(g)[:8]
    near = [(int(ii[k]), int(jj[k])) for k in order]
    return best_g, near


def _polygon_point_samples(fp: Footprint) -> tuple[np.ndarray, float]:
    if isinstance(fp, Circle):
        return np.array([fp.centre]), 0.0
    sp = max(0.05, fp.radius_m / 150.0)
    return boundary(fp, sp), sp


def witness_distance(a: Footprint, b: Footprint) -> float:
    """Upper bound on the core-to-core distance (polygon boundary or circle centre),
    refined around the best pairs to about a millimetre, minus the circles' radii."""
    pa, sa = _polygon_point_samples(a)
    pb, sb = _polygon_point_samples(b)
    best, near = _min_pair(pa, pb)
    for _ in range(12):
        if max(sa, sb) < 0.001:
            break
        cand = []
        for i, j in near[:3]:
            la = _local(a, pa, i, sa) if sa else pa
            lb = _local(b, pb, j, sb) if sb else pb
            g, nn = _min_pair(la, lb)
            cand.append((g, la, lb, nn))
        g, pa, pb, near = min(cand, key=lambda c: c[0])
        best = min(best, g)
        sa, sb = sa / 25.0, sb / 25.0
    core = a.core_radius_m + b.core_radius_m
    return max(0.0, best - core)


def _local(fp: Footprint, pts: np.ndarray, i: int, spacing: float) -> np.ndarray:
    """Dense true-boundary points (spacing/25) within 2 samples of sample ``i``.

    Consecutive samples always share an edge (every vertex is a sample), so the geodesic
    between them is part of the boundary; skipping a sample could cut a corner."""
    n = len(pts)
    wrap = isinstance(fp, Polygon) and spacing >= fp.radius_m / 150.0 and n > 4
    idx = [(i + k) % n if wrap else min(max(i + k, 0), n - 1) for k in range(-2, 3)]
    idx = [j for k, j in enumerate(idx) if k == 0 or j != idx[k - 1]]
    parts = [_edge_points(*pts[j], *pts[k], spacing / 25) for j, k in pairwise(idx)]
    parts.append(pts[idx[-1]][None, :])
    return np.concatenate(parts)


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
