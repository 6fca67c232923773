"""Exact 4D overlap of two volumes.

Two volumes *conflict* when, all at once, their time windows are at most ``time_s`` apart,
their altitude bands at most ``vertical_m`` apart and their footprints at most
``horizontal_m`` apart (geodesic). All three comparisons are closed: touching counts.

>>> from datetime import datetime, timezone, timedelta
>>> t = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
>>> w = TimeWindow(t, t + timedelta(hours=1))
>>> a = Volume4D(Circle((10.0, 47.0), 1_000.0), AltitudeBand(0, 300), w)
>>> b = Volume4D(Circle((10.0, 47.01), 1_000.0), AltitudeBand(200, 900), w)
>>> o = overlap(a, b)
>>> o.altitude_band, o.horizontal_distance_m
(AltitudeBand(lower_m=200.0, upper_m=300.0), 0.0)
>>> overlap(a, b, horizontal_m=0.0) == overlap(b, a)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import shapely

from deconfliction.geo._altitude import AltitudeBand
from deconfliction.geo._footprint import Circle, Footprint, Polygon
from deconfliction.geo._geodesy import GEOD, LocalFrame
from deconfliction.geo._spatial import _centre_between, spatial_check
from deconfliction.geo._time import TimeWindow
from deconfliction.geo._volume import TIME_SLACK_S, VERTICAL_SLACK_M, Volume4D, meets_1d

__all__ = ["Overlap", "overlap"]


@dataclass(frozen=True)
class Overlap:
    """Where and when two volumes meet (or come within the buffers of each other)."""

    time_window: TimeWindow | None
    """The common time window; None when they only come within the time buffer."""
    time_gap_s: float
    """Seconds between the windows (0 when they overlap or touch)."""
    altitude_band: AltitudeBand | None
    """The common altitude band; None when they only come within the vertical buffer."""
    vertical_gap_m: float
    """Metres between the bands (0 when they overlap or touch)."""
    horizontal_distance_m: float
    """Geodesic distance between the footprints, 0 when they intersect (±max(1 m, 0.01 %))."""
    footprints: tuple[Footprint, Footprint] = field(repr=False, compare=False)

    @cached_property
    def intersection(self) -> dict[str, Any] | None:
        """The footprints' common area as a GeoJSON geometry (lon/lat), or None."""
        if self.horizontal_distance_m > 0:
            return None
        return intersection_geojson(*self.footprints)


def _sort_key(fp: Footprint) -> tuple[int, bytes]:
    if isinstance(fp, Circle):
        return (0, np.array([*fp.centre, fp.radius_m]).tobytes())
    return (1, fp.lonlat.tobytes())


def overlap(
    a: Volume4D,
    b: Volume4D,
    *,
    horizontal_m: float = 0.0,
    vertical_m: float = 0.0,
    time_s: float = 0.0,
) -> Overlap | None:
    """The :class:`Overlap` of two volumes within the given buffers, or None.

    Symmetric: ``overlap(a, b)`` and ``overlap(b, a)`` are equal. Never misses a conflict;
    may report one whose footprints are up to a few millimetres beyond ``horizontal_m``.
    """
    for name, v in (("horizontal_m", horizontal_m), ("vertical_m", vertical_m), ("time_s", time_s)):
        if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):  # type: ignore[redundant-expr]
            raise ValueError(f"{name} must be a finite number ≥ 0")
    ta, tb, za, zb = a.time, b.time, a.altitude, b.altitude
    if not meets_1d(ta.start_s, ta.end_s, tb.start_s, tb.end_s, time_s, TIME_SLACK_S):
        return None
    if not meets_1d(za.lower_m, za.upper_m, zb.lower_m, zb.upper_m, vertical_m, VERTICAL_SLACK_M):
        return None
    tgap = ta.gap_s(tb)
    vgap = za.gap_m(zb)
    fa, fb = sorted((a.footprint, b.footprint), key=_sort_key)
    frame = LocalFrame.at(*_centre_between(fa, fb))
    res = spatial_check(fa, [fb], float(horizontal_m), frame=frame, precise=True)
    if not res.hit[0]:
        return None
    dist = float(res.estimate_m[0]) if res.lower_m[0] > 0 else 0.0
    return Overlap(
        time_window=a.time.intersection(b.time),
        time_gap_s=tgap,
        altitude_band=a.altitude.intersection(b.altitude),
        vertical_gap_m=vgap,
        horizontal_distance_m=dist,
        footprints=(fa, fb),
    )


def _ring_lonlat(fp: Footprint) -> np.ndarray:
    if isinstance(fp, Polygon):
        lam, psi = fp._dense_lam, fp._dense_psi
        from deconfliction.geo._geodesy import _latitude_from_isometric

        return np.stack([np.degrees(lam), np.degrees(_latitude_from_isometric(psi))], axis=1)
    n = 128
    lon, lat, _ = GEOD.fwd(
        np.full(n, fp.centre[0]),
        np.full(n, fp.centre[1]),
        np.linspace(0, 360, n, endpoint=False),
        np.full(n, fp.radius_m),
    )
    return np.stack([lon, lat], axis=1)


def intersection_geojson(a: Footprint, b: Footprint) -> dict[str, Any] | None:
    """GeoJSON geometry of the common area of two footprints, or None if they don't meet.

    Computed in a local frame; circles are drawn as 128-gons, so the outline is for display
    and reports, not for decisions.
    """
    frame = LocalFrame.at(*_centre_between(a, b))
    polys = []
    for fp in (a, b):
        ll = _ring_lonlat(fp)
        x, y = frame.forward_deg(ll[:, 0], ll[:, 1])
        polys.append(shapely.Polygon(np.stack([x, y], axis=1)))
    inter = shapely.intersection(polys[0], polys[1])
    if inter.is_empty or inter.area <= 0:
        return None

    def back(coords: np.ndarray) -> np.ndarray:
        lon, lat = frame.inverse_deg(coords[:, 0], coords[:, 1])
        return np.stack([lon, lat], axis=1)

    geo = shapely.transform(inter, back)
    parts = [
        g for g in getattr(geo, "geoms", [geo]) if isinstance(g, shapely.Polygon) and not g.is_empty
    ]
    rings = [
        [[list(map(float, p)) for p in part.exterior.coords]]
        + [[list(map(float, p)) for p in hole.coords] for hole in part.interiors]
        for part in parts
    ]
    if not rings:
        return None
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": rings[0]}
    return {"type": "MultiPolygon", "coordinates": rings}
