"""An activity as an ICAO NOTAM (PANS-AIM format): a draft for the NOTAM office to issue.

::

    (X0000/26 NOTAMN
    Q) LFFF/QRTCA/IV/NBO/W/000/100/4930N00215E012
    A) LFFF B) 2611261000 C) 2611261200
    E) TEMPO RESERVED AIRSPACE (CALIBRATION FLIGHT) WI AREA 493000N0021500E-...
    F) SFC G) FL100)

* **Q)** FIR, the NOTAM code (per activity kind, or given), traffic / purpose / scope, the
  lower and upper limits in flight levels (rounded outwards to the hundred feet) and the
  centre and radius (NM, rounded up) of a circle enclosing every volume.
* **B)** / **C)**: the earliest start and the latest end of the volumes (UTC, minute
  floored / ceiled); each volume's own times are in E) when there are several.
* **E)** the kind and title (upper case, NOTAM characters), each area (polygon vertices or
  circle, degrees-minutes-seconds) with its times and limits.
* **F)** / **G)**: ``SFC`` for a lower limit at or below 0, flight levels above 10,000 ft,
  feet otherwise. The hub keeps heights above the WGS84 ellipsoid; a NOTAM states them AMSL:
  no geoid correction is applied (up to ±100 m), which E) says.

The number is the office's to assign: ``series`` and ``number`` (default ``X`` and 0000, a
draft) only fill the slot. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pyproj import Geod

from deconfliction.errors import InvalidInput

__all__ = ["NOTAM_CODES", "notam_text"]

_GEOD = Geod(ellps="WGS84")
_FT = 0.3048
_NM = 1852.0
_FL_ABOVE_FT = 10_000

NOTAM_CODES: dict[str, tuple[str, str, str, str, str]] = {
    # kind: (code, traffic, purpose, scope, words for E)
    "air_operation": ("QWELW", "IV", "BO", "W", "MIL AIR OPS"),
    "flight": ("QWELW", "IV", "BO", "W", "FLIGHT ACT"),
    "uas_operation": ("QWULW", "IV", "BO", "W", "UNMANNED ACFT (UAS) OPS"),
    "ground_movement": ("QWELW", "IV", "M", "W", "GROUND MOVEMENT"),
    "maritime": ("QWELW", "IV", "M", "W", "MARITIME ACT"),
    "airspace_reservation": ("QRTCA", "IV", "NBO", "W", "TEMPO RESERVED AIRSPACE"),
    "hazard": ("QRDCA", "IV", "NBO", "W", "HAZARDOUS ACT"),
}
"""Per activity kind: the Q-code, traffic, purpose and scope, and the words E) starts with."""

_FIR = re.compile(r"^[A-Z]{4}$")
_CODE = re.compile(r"^Q[A-Z]{4}$")
_SERIES = re.compile(r"^[A-Z]$")


def _clean(text: str) -> str:
    """Upper case, NOTAM's characters only (letters, digits, space and . , - / ( ) :)."""
    up = re.sub(r"[^A-Z0-9 .,\-/():]", " ", text.upper())
    return re.sub(r"\s+", " ", up).strip()


def _dms(value: float, pos: str, neg: str, width: int) -> str:
    hemi = pos if value >= 0 else neg
    total = round(abs(value) * 3600)
    d, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{d:0{width}d}{m:02d}{s:02d}{hemi}"


def _dm(value: float, pos: str, neg: str, width: int) -> str:
    hemi = pos if value >= 0 else neg
    total = round(abs(value) * 60)
    d, m = divmod(total, 60)
    return f"{d:0{width}d}{m:02d}{hemi}"


def _point(lon: float, lat: float) -> str:
    return _dms(lat, "N", "S", 2) + _dms(lon, "E", "W", 3)


def _t(iso: str, *, up: bool = False) -> datetime:
    t = datetime.fromisoformat(iso).astimezone(UTC)
    floor = t.replace(second=0, microsecond=0)
    return floor + timedelta(minutes=1) if up and floor < t else floor


def _stamp(t: datetime) -> str:
    return t.strftime("%y%m%d%H%M")


def _limit(metres: float, *, lower: bool) -> str:
    if lower and metres <= 0:
        return "SFC"
    feet = metres / _FT
    hundreds = math.floor(feet / 100) if lower else math.ceil(feet / 100)
    if hundreds * 100 > _FL_ABOVE_FT:
        return f"FL{hundreds:03d}"
    return f"{hundreds * 100}FT AMSL"


def _fl(metres: float, *, lower: bool) -> str:
    feet = metres / _FT
    fl = math.floor(feet / 100) if lower else math.ceil(feet / 100)
    return f"{min(999, max(0, fl)):03d}"


def _area(feature: Mapping[str, Any]) -> tuple[str, list[tuple[float, float]], float]:
    """(the area in words, its points, the radius to add to them in metres)."""
    g = feature["geometry"]
    if g["type"] == "Point":
        lon, lat = (float(c) for c in g["coordinates"][:2])
        r = float(feature["properties"]["radius_m"])
        return f"WI {r / _NM:.1f}NM RADIUS CENTRED ON {_point(lon, lat)}", [(lon, lat)], r
    if g["type"] == "Polygon":
        ring = [(float(p[0]), float(p[1])) for p in g["coordinates"][0]]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        return "WI AREA " + "-".join(_point(x, y) for x, y in ring), ring[:-1], 0.0
    raise InvalidInput("geometry.type", f"{g['type']!r} cannot be described in a NOTAM")


def _enclosing(points: Sequence[tuple[float, float, float]]) -> tuple[float, float, float]:
    """A centre (the mean on the unit sphere, to the minute) and the radius (m) reaching
    every point plus its own radius. Vertices suffice: a geodesic disc this small is convex,
    so the geodesic edges between vertices inside it stay inside it."""
    xs = ys = zs = 0.0
    for lon, lat, _ in points:
        la, lo = math.radians(lat), math.radians(lon)
        xs += math.cos(la) * math.cos(lo)
        ys += math.cos(la) * math.sin(lo)
        zs += math.sin(la)
    # Rounded to the minute first, as Q) writes it, so the radius encloses from there.
    clon = round(math.degrees(math.atan2(ys, xs)) * 60) / 60
    clat = round(math.degrees(math.atan2(zs, math.hypot(xs, ys))) * 60) / 60
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    _, _, dist = _GEOD.inv([clon] * len(points), [clat] * len(points), lons, lats)
    return clon, clat, max(d + p[2] for d, p in zip(dist, points, strict=True))


def notam_text(
    activity: Mapping[str, Any],
    *,
    fir: str,
    series: str = "X",
    number: int = 0,
    code: str | None = None,
    now: datetime | None = None,
) -> str:
    """The NOTAM of an activity as the API shows it (``GET /v1/activities/{id}``)."""
    if not _FIR.match(fir):
        raise InvalidInput("fir", f"{fir!r} is not a four-letter ICAO location indicator")
    if not _SERIES.match(series):
        raise InvalidInput("series", f"{series!r} is not one letter")
    if not 0 <= number <= 9999:
        raise InvalidInput("number", "must be 0 to 9999")
    kind = str(activity["kind"])
    if kind not in NOTAM_CODES:
        raise InvalidInput("kind", f"{kind!r} is not an activity kind")
    default_code, traffic, purpose, scope, words = NOTAM_CODES[kind]
    code = code or default_code
    if not _CODE.match(code):
        raise InvalidInput("code", f"{code!r} is not a NOTAM code (Q and four letters)")
    features = activity["volumes"]["features"]
    starts = [_t(f["properties"]["time_start"]) for f in features]
    ends = [_t(f["properties"]["time_end"], up=True) for f in features]
    lowers = [float(f["properties"]["altitude_lower_m"]) for f in features]
    uppers = [float(f["properties"]["altitude_upper_m"]) for f in features]
    areas = [_area(f) for f in features]
    points = [(x, y, r) for _, pts, r in areas for x, y in pts]
    clon, clat, radius = _enclosing(points)
    radius_nm = min(999, max(1, math.ceil(radius / _NM)))
    year = (now or min(starts)).strftime("%y")
    q = (
        f"Q) {fir}/{code}/{traffic}/{purpose}/{scope}/{_fl(min(lowers), lower=True)}/"
        f"{_fl(max(uppers), lower=False)}/{_dm(clat, 'N', 'S', 2)}{_dm(clon, 'E', 'W', 3)}"
        f"{radius_nm:03d}"
    )
    title = _clean(str(activity.get("title", "")))
    e = f"{words}" + (f" ({title})" if title else "")
    if len(areas) == 1:
        e += f" {areas[0][0]}."
    else:
        for i, ((text, _, _), s, t, lo, hi) in enumerate(
            zip(areas, starts, ends, lowers, uppers, strict=True), 1
        ):
            e += (
                f" AREA {i}: {text} {_stamp(s)}-{_stamp(t)} "
                f"{_limit(lo, lower=True)}-{_limit(hi, lower=False)}."
            )
    e += " VERTICAL LIMITS REF WGS84 ELLIPSOID."
    lines = [
        f"({series}{number:04d}/{year} NOTAMN",
        q,
        f"A) {fir} B) {_stamp(min(starts))} C) {_stamp(max(ends))}",
        f"E) {e}",
        f"F) {_limit(min(lowers), lower=True)} G) {_limit(max(uppers), lower=False)})",
    ]
    return "\n".join(lines) + "\n"
