"""ASTM F3548-21 ``Volume4D`` ⇄ the hub's :class:`~deconfliction.geo.Volume4D`, and which
extents meet.

An F3548 volume is an outline (polygon with geodesic edges, or circle), altitudes in
metres above the WGS84 ellipsoid (``reference`` ``W84``, ``units`` ``M``) and RFC 3339
times: the hub's own conventions, so the conversion is exact. What the hub cannot
represent (an altitude below -1,000 m, a polygon wider than its frame) is refused with
the reason, as is a missing field that a write needs.

>>> v = Volume4DIn.model_validate({
...     "volume": {"outline_circle": {"center": {"lat": 48.85, "lng": 2.35},
...                                   "radius": {"value": 500, "units": "M"}},
...                "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
...                "altitude_upper": {"value": 120, "reference": "W84", "units": "M"}},
...     "time_start": {"value": "2026-12-01T10:00:00Z", "format": "RFC3339"},
...     "time_end": {"value": "2026-12-01T11:00:00Z", "format": "RFC3339"}})
>>> vol = to_volume(v, "extents[0]")
>>> vol.footprint.radius_m, vol.altitude.upper_m, time_json(vol.time.end)["value"]
(500.0, 120.0, '2026-12-01T11:00:00Z')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deconfliction.errors import InvalidInput
from deconfliction.geo import (
    AltitudeBand,
    Circle,
    Footprint,
    Polygon,
    TimeWindow,
    Volume4D,
    overlap,
)

__all__ = [
    "ALTITUDE_RANGE_M",
    "TIME_RANGE",
    "In",
    "TimeIn",
    "Volume4DIn",
    "bounds",
    "extents_json",
    "extents_meet",
    "far_apart",
    "parse_time",
    "time_json",
    "to_volume",
]


class In(BaseModel):
    """An F3548 input object: fields the interface does not declare are ignored."""

    model_config = ConfigDict(extra="ignore")


class TimeIn(In):
    value: str = Field(max_length=64)
    format: Literal["RFC3339"]


class AltitudeIn(In):
    value: float = Field(ge=-8000, le=100_000)
    reference: Literal["W84"]
    units: Literal["M"]


class LatLngIn(In):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class RadiusIn(In):
    value: float = Field(gt=0)
    units: Literal["M"]


class CircleIn(In):
    center: LatLngIn
    radius: RadiusIn


class PolygonIn(In):
    vertices: list[LatLngIn] = Field(min_length=3, max_length=10_000)


class Volume3DIn(In):
    outline_circle: CircleIn | None = None
    outline_polygon: PolygonIn | None = None
    altitude_lower: AltitudeIn | None = None
    altitude_upper: AltitudeIn | None = None


class Volume4DIn(In):
    volume: Volume3DIn
    time_start: TimeIn | None = None
    time_end: TimeIn | None = None


ALTITUDE_RANGE_M = (-1_000.0, 1_000_000.0)
"""The band an area of interest without altitudes covers (all the hub represents)."""
TIME_RANGE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))
"""The window an area of interest without times covers."""


def parse_time(t: TimeIn, field: str) -> datetime:
    """An aware UTC datetime from an RFC 3339 ``Time`` (an offset is required)."""
    try:
        dt = datetime.fromisoformat(t.value)
    except ValueError:
        raise InvalidInput(f"{field}.value", f"{t.value!r} is not an RFC 3339 time") from None
    if dt.tzinfo is None:
        raise InvalidInput(f"{field}.value", "needs a time zone ('Z')")
    return dt.astimezone(UTC)


def time_json(dt: datetime) -> dict[str, str]:
    """An F3548 ``Time``: RFC 3339 in UTC with a 'Z'."""
    text = dt.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {"value": text, "format": "RFC3339"}


def to_volume(
    v: Volume4DIn,
    field: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    altitudes: tuple[float, float] | None = None,
) -> Volume4D:
    """The hub's volume for ``v``. A missing time takes ``start``/``end`` and missing
    altitudes take ``altitudes``; without those defaults they are required (a write).
    Errors name the field under ``field``."""
    vol = v.volume
    outline = f"{field}.volume"
    if (vol.outline_circle is None) == (vol.outline_polygon is None):
        raise InvalidInput(outline, "give exactly one of outline_circle and outline_polygon")
    try:
        if vol.outline_circle is not None:
            c = vol.outline_circle
            fp: Circle | Polygon = Circle((c.center.lng, c.center.lat), c.radius.value)
        else:
            assert vol.outline_polygon is not None
            fp = Polygon([(p.lng, p.lat) for p in vol.outline_polygon.vertices])
    except InvalidInput as exc:
        kind = "outline_circle" if vol.outline_circle is not None else "outline_polygon"
        raise InvalidInput(f"{outline}.{kind}", f"{exc.field}: {exc.reason}") from None
    lo, hi = vol.altitude_lower, vol.altitude_upper
    if (lo is None or hi is None) and altitudes is None:
        raise InvalidInput(f"{outline}.altitude_lower", "altitude_lower and _upper are required")
    try:
        band = AltitudeBand(
            lo.value if lo is not None else altitudes[0],  # type: ignore[index]
            hi.value if hi is not None else altitudes[1],  # type: ignore[index]
        )
    except InvalidInput as exc:
        name = "altitude_upper" if exc.field.endswith("upper_m") else "altitude_lower"
        raise InvalidInput(f"{outline}.{name}", exc.reason) from None
    t0 = parse_time(v.time_start, f"{field}.time_start") if v.time_start else start
    t1 = parse_time(v.time_end, f"{field}.time_end") if v.time_end else end
    if t0 is None or t1 is None:
        raise InvalidInput(f"{field}.time_start", "time_start and time_end are required")
    try:
        window = TimeWindow(t0, t1)
    except InvalidInput:
        raise InvalidInput(f"{field}.time_end", "must be after time_start") from None
    return Volume4D(fp, band, window)


_EARTH_R_M = 6_371_008.8


def far_apart(a: Footprint, b: Footprint) -> bool:
    """Whether two footprints certainly do not meet: their centres are further apart than
    the sum of their radii (each an upper bound of the geodesic distance from the centre)
    with a margin of 1 % + 1 km that covers the sphere's error against the ellipsoid."""
    (lon1, lat1), (lon2, lat2) = a.centre, b.centre
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    d = 2 * _EARTH_R_M * math.asin(math.sqrt(min(1.0, max(0.0, h))))
    reach = a.radius_m + b.radius_m
    return d > reach * 1.01 + 1_000.0


def extents_meet(a: Sequence[Volume4D], b: Sequence[Volume4D]) -> bool:
    """Whether any volume of ``a`` meets (touches or overlaps, in space, altitude and time)
    any volume of ``b``: exact (:func:`deconfliction.geo.overlap`), after a cheap test that
    only ever rules out pairs that cannot meet.

    >>> from deconfliction.geo import AltitudeBand, Circle, TimeWindow, Volume4D
    >>> w = TimeWindow(*TIME_RANGE)
    >>> def disc(lon): return Volume4D(Circle((lon, 0.0), 1_000.0), AltitudeBand(0, 100), w)
    >>> extents_meet([disc(0.0)], [disc(0.017)]), extents_meet([disc(0.0)], [disc(0.02)])
    (True, False)
    """
    for va in a:
        for vb in b:
            if not far_apart(va.footprint, vb.footprint) and overlap(va, vb) is not None:
                return True
    return False


def bounds(extents: Sequence[Volume4D]) -> tuple[datetime, datetime]:
    """The earliest start and latest end of ``extents``."""
    return min(v.time.start for v in extents), max(v.time.end for v in extents)


def extents_json(extents: Sequence[Volume4D]) -> dict[str, Any]:
    """``time_start`` and ``time_end`` of a reference covering ``extents``."""
    t0, t1 = bounds(extents)
    return {"time_start": time_json(t0), "time_end": time_json(t1)}
