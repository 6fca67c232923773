"""Whether a subscription covers an operational intent (ASTM F3548-21: "the subscription
specified by this ID must cover at least the area over which this operational intent is
conducted").

As the reference discovery service decides it: the subscription's time bounds hold the
intent's, and its area holds the intent's (altitudes are not compared). The area decision
is made in the azimuthal equidistant frame centred on each of the intent's footprints
(PROJ's ellipsoidal ``aeqd``, in which distances from the centre are exact, so the intent's
own circle is an exact circle there), with geodesic edges and the subscription's circles
densified to points at most :data:`_STEP_M` apart (a chord then strays from the true
boundary by millimetres) and the intent's circle replaced by a polygon that contains it.

**Tolerance.** An intent is taken as covered when no part of it lies more than
:data:`COVER_TOLERANCE_M` outside the subscription's footprints: a subscription drawn on
exactly the intent's own shape must cover it, whatever the rounding, and a metre is far
below what decides who must be notified. Anything further out is refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Geod, Transformer

from deconfliction.geo import Circle, Footprint, Volume4D
from deconfliction.interop._dss_volumes import far_apart

__all__ = ["COVER_TOLERANCE_M", "covers"]

COVER_TOLERANCE_M = 1.0
"""How far outside the subscription's footprints part of an intent may lie and still count
as covered (see the module's docstring)."""

_STEP_M = 50.0
"""Longest piece a geodesic edge or a circle is split into before projecting."""

_GEOD = Geod(ellps="WGS84")


def covers(subscription: Sequence[Volume4D], intent: Sequence[Volume4D]) -> bool:
    """Whether ``subscription``'s extents cover ``intent``'s: in time (its earliest start
    and latest end hold the intent's) and in area (the union of its footprints holds every
    footprint of the intent, to within :data:`COVER_TOLERANCE_M`).

    >>> from datetime import UTC, datetime, timedelta
    >>> from deconfliction.geo import AltitudeBand, TimeWindow
    >>> t0 = datetime(2030, 1, 1, tzinfo=UTC)
    >>> def disc(r, hours=1):
    ...     w = TimeWindow(t0, t0 + timedelta(hours=hours))
    ...     return Volume4D(Circle((2.0, 50.0), r), AltitudeBand(0, 100), w)
    >>> covers([disc(1_000)], [disc(1_000)]), covers([disc(999)], [disc(1_000)])
    (True, False)
    >>> covers([disc(2_000, hours=1)], [disc(1_000, hours=2)])
    False
    """
    if not subscription or not intent:
        return False
    if min(v.time.start for v in subscription) > min(v.time.start for v in intent):
        return False
    if max(v.time.end for v in subscription) < max(v.time.end for v in intent):
        return False
    areas = [v.footprint for v in subscription]
    return all(_area_covered(v.footprint, areas) for v in intent)


def _area_covered(target: Footprint, areas: Sequence[Footprint]) -> bool:
    lon0, lat0 = target.centre
    near = [a for a in areas if not far_apart(target, a)]
    if not near:
        return False
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +ellps=WGS84 +units=m")
    to_plane = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    if isinstance(target, Circle):
        # exact in this frame: a circle of the same radius about the origin; the regular
        # n-gon through radius r / cos(π/n) contains it, straying at most ≈ r·π²/2n²
        r = target.radius_m
        n = max(64, math.ceil(math.pi * math.sqrt(r / 0.02)))
        big = r / math.cos(math.pi / n)
        a = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
        outline = shapely.Polygon(np.stack([big * np.cos(a), big * np.sin(a)], axis=1))
    else:
        outline = _projected(target, to_plane)
    union = shapely.union_all([_projected(a, to_plane) for a in near])
    return bool(union.buffer(COVER_TOLERANCE_M).covers(outline))


def _projected(fp: Footprint, to_plane: Transformer) -> shapely.Polygon:
    """``fp``'s true boundary as points at most :data:`_STEP_M` apart, in the plane."""
    pts = _boundary(fp)
    x, y = to_plane.transform(pts[:, 0], pts[:, 1])
    return shapely.Polygon(np.stack([np.asarray(x), np.asarray(y)], axis=1))


def _boundary(fp: Footprint) -> NDArray[np.float64]:
    if isinstance(fp, Circle):
        n = max(64, math.ceil(2 * math.pi * fp.radius_m / _STEP_M))
        az = np.linspace(0.0, 360.0, n, endpoint=False)
        lon0, lat0 = fp.centre
        lon, lat, _ = _GEOD.fwd(np.full(n, lon0), np.full(n, lat0), az, np.full(n, fp.radius_m))
        return np.stack([lon, lat], axis=1)
    v = fp.lonlat
    parts = []
    for i in range(len(v)):
        (lon1, lat1), (lon2, lat2) = v[i], v[(i + 1) % len(v)]
        az, _, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
        n = max(1, math.ceil(dist / _STEP_M))
        f = np.arange(n) / n
        lon, lat, _ = _GEOD.fwd(np.full(n, lon1), np.full(n, lat1), np.full(n, az), dist * f)
        parts.append(np.stack([lon, lat], axis=1))
    return np.concatenate(parts)
