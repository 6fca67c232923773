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
from typing import Any, cast

import numpy as np
import shapely

from deconfliction.geo._altitude import AltitudeBand
from deconfliction.geo._footprint import Circle, Footprint, Polygon
from deconfliction.geo._geodesy import GEOD, LocalFrame
from deconfliction.geo._spatial import _centre_between, spatial_check
from deconfliction.geo._time import TimeWindow
from deconfliction.geo._volume import TIME_SLACK_S, VERTICAL_SLACK_M, Volume4D, meets_1d

__all__ = ["Overlap", "overlap"]


_UNSET: Any = object()


class Overlap:
    """Where and when two volumes meet (or come within the buffers of each other).

    Immutable, compared and hashed by its five values (not by :attr:`footprints`).
    Overlaps made by :class:`~deconfliction.geo.VolumeIndex` compute their values on first
    access (then cache them): a query that only needs the decision does not pay for the
    distance or the intersection window and band.
    """

    __slots__ = ("_a", "_ab", "_b", "_fps", "_hd", "_inter", "_tg", "_thr", "_tw", "_vg")

    _a: Any
    _b: Any
    _ab: Any
    _fps: tuple[Footprint, Footprint]
    _hd: Any
    _inter: Any
    _tg: Any
    _thr: float
    _tw: Any
    _vg: Any

    def __init__(
        self,
        time_window: TimeWindow | None,
        time_gap_s: float,
        altitude_band: AltitudeBand | None,
        vertical_gap_m: float,
        horizontal_distance_m: float,
        footprints: tuple[Footprint, Footprint],
    ) -> None:
        self._tw, self._tg = time_window, time_gap_s
        self._ab, self._vg = altitude_band, vertical_gap_m
        self._hd = horizontal_distance_m
        self._fps = footprints
        self._a = self._b = None
        self._thr = 0.0
        self._inter = _UNSET

    @classmethod
    def _lazy(cls, a: Volume4D, b: Volume4D, threshold_m: float) -> Overlap:
        """The overlap of two volumes already known to conflict, each value computed on
        first access; the distance is the one :func:`overlap` reports for the pair with
        ``horizontal_m=threshold_m``."""
        self = cls.__new__(cls)
        self._a, self._b, self._thr = a, b, threshold_m
        self._tw = self._tg = self._ab = self._vg = self._hd = self._inter = _UNSET
        self._fps = (a.footprint, b.footprint)
        return self

    @property
    def footprints(self) -> tuple[Footprint, Footprint]:
        """The two footprints compared (not part of equality)."""
        return self._fps

    @property
    def time_window(self) -> TimeWindow | None:
        """The common time window; None when they only come within the time buffer."""
        if self._tw is _UNSET:
            self._tw = self._a.time.intersection(self._b.time)
        return cast("TimeWindow | None", self._tw)

    @property
    def time_gap_s(self) -> float:
        """Seconds between the windows (0 when they overlap or touch)."""
        if self._tg is _UNSET:
            self._tg = self._a.time.gap_s(self._b.time)
        return cast("float", self._tg)

    @property
    def altitude_band(self) -> AltitudeBand | None:
        """The common altitude band; None when they only come within the vertical buffer."""
        if self._ab is _UNSET:
            self._ab = self._a.altitude.intersection(self._b.altitude)
        return cast("AltitudeBand | None", self._ab)

    @property
    def vertical_gap_m(self) -> float:
        """Metres between the bands (0 when they overlap or touch)."""
        if self._vg is _UNSET:
            self._vg = self._a.altitude.gap_m(self._b.altitude)
        return cast("float", self._vg)

    @property
    def horizontal_distance_m(self) -> float:
        """Geodesic distance between the footprints, 0 when they intersect (±max(1 m, 0.01 %))."""
        if self._hd is _UNSET:
            self._hd = _pair_check(*self.footprints, self._thr)[1]
        return cast("float", self._hd)

    @property
    def intersection(self) -> dict[str, Any] | None:
        """The footprints' common area as a GeoJSON geometry (lon/lat), or None."""
        if self._inter is _UNSET:
            self._inter = (
                None if self.horizontal_distance_m > 0 else intersection_geojson(*self.footprints)
            )
        return cast("dict[str, Any] | None", self._inter)

    def _values(self) -> tuple[Any, ...]:
        return (
            self.time_window,
            self.time_gap_s,
            self.altitude_band,
            self.vertical_gap_m,
            self.horizontal_distance_m,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Overlap):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        names = ("time_window", "time_gap_s", "altitude_band", "vertical_gap_m")
        parts = [f"{n}={v!r}" for n, v in zip(names, self._values(), strict=False)]
        parts.append(f"horizontal_distance_m={self.horizontal_distance_m!r}")
        return f"Overlap({', '.join(parts)})"


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
    hit, dist = _pair_check(a.footprint, b.footprint, float(horizontal_m))
    if not hit:
        return None
    return Overlap(
        time_window=a.time.intersection(b.time),
        time_gap_s=tgap,
        altitude_band=a.altitude.intersection(b.altitude),
        vertical_gap_m=vgap,
        horizontal_distance_m=dist,
        footprints=tuple(sorted((a.footprint, b.footprint), key=_sort_key)),  # type: ignore[arg-type]
    )


def _pair_check(a: Footprint, b: Footprint, horizontal_m: float) -> tuple[bool, float]:
    """The decision and the reported distance for one pair, made symmetrically (in a frame
    centred between the two, footprints in a canonical order, bounds refined to
    max(1 m, 0.01 %)): whether they are within ``horizontal_m``, and their distance (0 when
    they may intersect)."""
    fa, fb = sorted((a, b), key=_sort_key)
    frame = LocalFrame.at(*_centre_between(fa, fb))
    res = spatial_check(fa, [fb], horizontal_m, frame=frame, precise=True)
    dist = float(res.estimate_m[0]) if res.lower_m[0] > 0 else 0.0
    return bool(res.hit[0]), dist


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
