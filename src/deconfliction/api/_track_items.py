"""Track reports in: the body of ``POST /v1/tracks`` (and of the track stream) read into
reports, or the reason each item is refused.

The body is parsed by orjson; a batch (up to 10,000 reports) is then read column by column
(:func:`tracks_from_items`: one list per field, the unit conversions and the checks done a
column at a time, the reports filled by
:func:`~deconfliction.model.tracks_from_columns`) — no pydantic model and
no ``Track(...)`` call per report. An item the columns cannot vouch for is read alone by
:func:`track_from_item`, the reference reader, so that every refusal carries its own index
and the very reason it always had; the columnar reader gives, item by item, exactly what
the reference does (tested against it with Hypothesis). The pydantic models document the
body in the OpenAPI.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import numpy as np
import orjson
from pydantic import BaseModel, Field

from deconfliction.errors import DeconflictionError, InvalidInput
from deconfliction.geo import FEET_TO_METRES
from deconfliction.model import (
    FEET_PER_MIN_MPS,
    KNOT_MPS,
    AltitudeReference,
    Track,
    TrackSource,
    tracks_from_columns,
)

__all__ = ["NDJSON", "TrackIn", "TracksIn", "read_items", "track_from_item", "tracks_from_items"]

NDJSON = "application/x-ndjson"


class TrackIn(BaseModel):
    """One position report (give each quantity in one unit: m or ft, m/s or kt…)."""

    key: str = Field(max_length=100, description="the track's name within my party")
    time: datetime = Field(description="when the position was measured (RFC 3339, UTC)")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    altitude_m: float | None = None
    altitude_ft: float | None = None
    altitude_ref: AltitudeReference = AltitudeReference.WGS84
    ground_speed_mps: float | None = None
    ground_speed_kt: float | None = None
    track_deg: float | None = None
    vertical_rate_mps: float | None = None
    vertical_rate_fpm: float | None = None
    callsign: str | None = None
    icao24: str | None = None
    activity_id: UUID | None = Field(default=None, description="my activity it flies for")
    source: TrackSource = TrackSource.OWN
    on_ground: bool = False


class TracksIn(BaseModel):
    tracks: list[TrackIn] = Field(max_length=10_000)


_FIELDS = frozenset(TrackIn.model_fields)
_UNITS = (
    ("altitude_m", "altitude_ft", FEET_TO_METRES),
    ("ground_speed_mps", "ground_speed_kt", KNOT_MPS),
    ("vertical_rate_mps", "vertical_rate_fpm", FEET_PER_MIN_MPS),
)


def _time(value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput("time", "must be an RFC 3339 date-time string")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("time", f"not an RFC 3339 date-time: {value[:40]!r}") from None
    if t.tzinfo is None:
        raise InvalidInput("time", "must carry its offset (Z or ±hh:mm)")
    return t


def _scaled(item: dict[str, Any], si: str, other: str, factor: float) -> float | None:
    if si in item and other in item:
        raise InvalidInput(si, f"give {si} or {other}, not both")
    if other not in item:
        return item.get(si)
    v = item[other]
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise InvalidInput(other, "must be a number")
    return float(v) * factor


def track_from_item(item: object, party: UUID) -> Track:
    """A report of ``party`` from one decoded JSON item (raises InvalidInput)."""
    if not isinstance(item, dict):
        raise InvalidInput("item", "must be a JSON object")
    unknown = set(item) - _FIELDS
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "unknown field")
    if "key" not in item or "time" not in item or "lat" not in item or "lon" not in item:
        raise InvalidInput("item", "needs key, time, lat and lon")
    units = {si: _scaled(item, si, other, f) for si, other, f in _UNITS}
    activity = item.get("activity_id")
    if activity is not None:
        try:
            activity = UUID(activity) if isinstance(activity, str) else None
        except ValueError:
            activity = None
        if activity is None:
            raise InvalidInput("activity_id", "must be a UUID")
    on_ground = item.get("on_ground", False)
    if not isinstance(on_ground, bool):
        raise InvalidInput("on_ground", "must be true or false")
    return Track(
        key=item["key"],
        party=party,
        source=item.get("source", TrackSource.OWN),
        time=_time(item["time"]),
        lat=item["lat"],
        lon=item["lon"],
        altitude_ref=item.get("altitude_ref", AltitudeReference.WGS84),
        track_deg=item.get("track_deg"),
        callsign=item.get("callsign"),
        icao24=item.get("icao24"),
        activity_id=activity,
        on_ground=on_ground,
        **units,
    )


@dataclass(frozen=True, slots=True)
class _Unreadable:
    """An NDJSON line that is not JSON (refused with its index, like any bad item)."""

    reason: str


def read_items(body: bytes, content_type: str) -> list[object]:
    """The items of a body: a ``{"tracks": [...]}`` document, or NDJSON lines (a line that
    is not JSON is an :class:`_Unreadable` item, refused with its index)."""
    if content_type.split(";")[0].strip().lower() == NDJSON:
        out: list[object] = []
        for n, line in enumerate(body.splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                out.append(_Unreadable(f"line {n}: not JSON"))
        return out
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("body", f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"tracks"} or not isinstance(doc["tracks"], list):
        raise InvalidInput("body", 'must be {"tracks": [...]} (or NDJSON, one report a line)')
    return list(doc["tracks"])


_MISSING: Any = object()
_REQUIRED = ("key", "time", "lat", "lon")
_PASSED = ("track_deg", "callsign", "icao24")
"""Fields taken as they are (the report checks them)."""
_BIG = 1e300
"""A number of feet or knots beyond this is left to the reference reader (float() of a huge
integer overflows there, as it always did)."""


def tracks_from_items(items: Sequence[object], party: UUID) -> list[Track | str]:
    """Item ``i`` read as ``track_from_item(items[i], party)`` does: the report, or the
    reason it raises (a :class:`_Unreadable` item: its reason). Column by column; an item
    any column doubts is read alone by :func:`track_from_item`."""
    out: list[Track | str] = [""] * len(items)
    rows: list[int] = []
    docs: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        if type(item) is dict:
            rows.append(i)
            docs.append(item)
        else:
            out[i] = _alone(item, party)
    if docs:
        cols, alone = _columns(docs)
        keep = [j for j, a in enumerate(alone) if not a]
        if len(keep) < len(docs):
            cols = {name: [c[j] for j in keep] for name, c in cols.items()}
        for j, got in zip(keep, tracks_from_columns(party, cols), strict=True):
            out[rows[j]] = got
        for j, a in enumerate(alone):
            if a:
                out[rows[j]] = _alone(docs[j], party)
    return out


def _alone(item: object, party: UUID) -> Track | str:
    if isinstance(item, _Unreadable):
        return item.reason
    try:
        return track_from_item(item, party)
    except DeconflictionError as exc:
        return str(exc)


def _columns(docs: list[dict[str, Any]]) -> tuple[dict[str, list[Any]], list[bool]]:
    """The reports' columns (Track's fields) and which items must be read alone: those with
    an unknown or missing field, both units of a quantity, or a value the reference reader
    refuses before it builds the report (a unit value, the time, activity_id, on_ground)."""
    seen: set[str] = set().union(*docs)
    alone = [False] * len(docs)
    if not seen <= _FIELDS:
        alone = [not (d.keys() <= _FIELDS) for d in docs]
    for name in _REQUIRED:
        if name in seen:
            _flag(alone, [name not in d for d in docs])
        else:
            alone = [True] * len(docs)
    cols: dict[str, list[Any]] = {
        "key": [d.get("key") for d in docs],
        "source": [d.get("source", TrackSource.OWN) for d in docs],
        "time": _parsed([d.get("time") for d in docs], _time, alone, optional=False),
        "lat": [d.get("lat") for d in docs],
        "lon": [d.get("lon") for d in docs],
        "altitude_ref": [d.get("altitude_ref", AltitudeReference.WGS84) for d in docs],
    }
    for name in _PASSED:
        if name in seen:
            cols[name] = [d.get(name) for d in docs]
    for si, other, factor in _UNITS:
        if other in seen:
            cols[si] = _scaled_column(docs, seen, (si, other, factor), alone)
        elif si in seen:
            cols[si] = [d.get(si) for d in docs]
    if "activity_id" in seen:
        activities = [d.get("activity_id") for d in docs]
        cols["activity_id"] = _parsed(activities, UUID, alone, optional=True)
    if "on_ground" in seen:
        cols["on_ground"] = flags = [d.get("on_ground", False) for d in docs]
        _flag(alone, [type(v) is not bool for v in flags])
    return cols, alone


def _flag(alone: list[bool], doubtful: list[bool]) -> None:
    if any(doubtful):
        alone[:] = [a or d for a, d in zip(alone, doubtful, strict=True)]


def _parsed(
    values: list[object], parse: Callable[[str], object], alone: list[bool], *, optional: bool
) -> list[Any]:
    """Strings parsed by ``parse`` (each distinct one once); an item whose value is not a
    string, or does not parse (ValueError), is flagged — but for None when ``optional``."""
    parsed: dict[str, object] = {}
    for v in values:
        if type(v) is str and v not in parsed:
            try:
                parsed[v] = parse(v)
            except ValueError:  # InvalidInput included
                parsed[v] = None
    got = [parsed.get(v) if type(v) is str else None for v in values]
    _flag(
        alone,
        [g is None and not (optional and v is None) for g, v in zip(got, values, strict=True)],
    )
    return got


def _scaled_column(
    docs: list[dict[str, Any]],
    seen: set[str],
    units: tuple[str, str, float],
    alone: list[bool],
) -> list[Any]:
    """One quantity in SI, from whichever unit each item gives (as :func:`_scaled`)."""
    si, other, factor = units
    given = [d.get(other, _MISSING) for d in docs]
    if set(map(type, given)) <= {float, int}:  # the usual case: every item in this unit
        try:
            scaled: list[Any] = (np.array(given, dtype=np.float64) * factor).tolist()
        except OverflowError:  # an integer too large for a float
            pass
        else:
            if si in seen:
                _flag(alone, [si in d for d in docs])
            return scaled
    out: list[Any] = []
    doubtful: list[bool] = []
    for d, v in zip(docs, given, strict=True):
        if v is _MISSING:
            out.append(d.get(si))
            doubtful.append(False)
            continue
        number = type(v) is float or (type(v) is int and -_BIG <= v <= _BIG)
        out.append(float(v) * factor if number else None)
        doubtful.append(si in d or not (number or v is None))
    _flag(alone, doubtful)
    return out
