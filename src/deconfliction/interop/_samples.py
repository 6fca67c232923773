"""The ``traffic`` samples' record format (recorded OpenSky ADS-B) → track reports.

A sample file is a JSON list (gzipped when its name ends in ``.gz``) of records:
``timestamp`` (epoch milliseconds), ``icao24``, ``callsign``, ``latitude``, ``longitude``,
``altitude`` (barometric feet), ``groundspeed`` (knots), ``track`` (degrees),
``vertical_rate`` (feet per minute), ``onground``. :func:`iter_json_array` streams the
records with the standard library (no need to hold a 280,000-record list), and
:func:`track_from_sample` turns one into a report, or the reason it is refused: the
recordings hold the noise a live feed has (altitudes of 123,100 ft, nulls).

>>> from uuid import UUID
>>> rec = {"timestamp": 1633608773000, "icao24": "0101de", "callsign": "MSR799",
...        "latitude": 48.48, "longitude": 3.83, "altitude": 13650.0, "groundspeed": 325.0,
...        "track": 311.1, "vertical_rate": -896.0, "onground": False}
>>> track_from_sample(rec, UUID(int=1)).time.isoformat()
'2021-10-07T12:12:53+00:00'
>>> track_from_sample({**rec, "altitude": 123100.0}, UUID(int=1))
'altitude 37521 m (123100 ft) is implausible (outside -457..18288 m)'
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO
from uuid import UUID

from deconfliction.errors import InvalidInput
from deconfliction.geo import FEET_TO_METRES
from deconfliction.interop._common import (
    DEFAULT_FEED_LIMITS,
    FeedLimits,
    number,
    surveillance_track,
)
from deconfliction.model import (
    FEET_PER_MIN_MPS,
    KNOT_MPS,
    AltitudeReference,
    Track,
    TrackSource,
)

__all__ = ["iter_json_array", "iter_sample_records", "track_from_sample"]

_CHUNK = 1 << 20
_WS = " \t\r\n"
_AFTER = ",]" + _WS
"""What may follow an array item."""


def _skip_ws(buf: str, pos: int) -> int:
    while pos < len(buf) and buf[pos] in _WS:
        pos += 1
    return pos


def iter_json_array(
    stream: IO[str], name: str = "document", *, chunk: int = _CHUNK
) -> Iterator[object]:
    """The items of the JSON array in ``stream``, one at a time, parsed incrementally.

    Reads ``chunk`` characters at a time. Raises
    :class:`~deconfliction.errors.InvalidInput` (field ``name``) when the text is not one
    JSON array.

    >>> from io import StringIO
    >>> list(iter_json_array(StringIO(' [1, {"a": [2]}, "x"] ')))
    [1, {'a': [2]}, 'x']
    """
    decoder = json.JSONDecoder()
    buf, pos, eof = "", 0, False
    expect = "["  # then a value; then "," or "]"

    def more() -> None:
        nonlocal buf, pos, eof
        text = stream.read(chunk)
        eof = not text
        buf, pos = buf[pos:] + text, 0

    more()
    index = 0
    while True:
        pos = _skip_ws(buf, pos)
        if pos >= len(buf) - 1 and not eof:  # keep one character of look-ahead
            more()
            continue
        if pos >= len(buf):
            if expect == "[":
                raise InvalidInput(name, "must be a JSON array (the text is empty)")
            raise InvalidInput(name, f"truncated: the array ends without ']' (after {index} items)")
        ch = buf[pos]
        if expect == "[":
            if ch != "[":
                raise InvalidInput(name, "must be a JSON array")
            pos, expect = pos + 1, "first"
        elif expect in ("first", "value"):
            if expect == "first" and ch == "]":
                break
            try:
                item, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError as exc:
                if not eof:
                    more()
                    continue
                raise InvalidInput(name, f"item {index}: {exc.msg}") from None
            except RecursionError:
                raise InvalidInput(name, f"item {index}: nested too deeply") from None
            if not eof and (end >= len(buf) or buf[end] not in _AFTER):
                more()  # a number cut by the chunk's end (1.5|e3) goes on in the next one
                continue
            yield item
            index += 1
            pos, expect = end, "separator"
        else:
            if ch == "]":
                break
            if ch != ",":
                raise InvalidInput(name, f"after item {index - 1}: expected ',' or ']', got {ch!r}")
            pos, expect = pos + 1, "value"
    pos += 1
    while True:  # only white space may follow the array
        pos = _skip_ws(buf, pos)
        if pos < len(buf):
            raise InvalidInput(name, f"text after the array's closing ']': {buf[pos : pos + 20]!r}")
        if eof:
            return
        more()


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def iter_sample_records(path: Path) -> Iterator[object]:
    """Stream the records of a sample file (gzipped when its name ends in ``.gz``).

    Raises :class:`~deconfliction.errors.InvalidInput` (field: the file's path) when the
    file cannot be read or is not a JSON array.
    """
    name = str(path)
    try:
        with _open(path) as text:
            yield from iter_json_array(text, name)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise InvalidInput(name, f"cannot read: {exc}") from None


def _epoch_s(value: object) -> float:
    if isinstance(value, str):
        try:
            t = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"timestamp {value[:40]!r} is not epoch ms nor ISO 8601") from None
        if t.tzinfo is None:
            raise ValueError("timestamp has no time zone")
        return t.timestamp()
    ms = number(value, "timestamp")
    if ms is None:
        raise ValueError("no timestamp")
    return ms / 1000.0


def track_from_sample(
    record: object,
    party: UUID,
    *,
    shift: timedelta = timedelta(0),
    limits: FeedLimits = DEFAULT_FEED_LIMITS,
    source: TrackSource = TrackSource.OPENSKY,
) -> Track | str:
    """A report from one sample record, its time moved by ``shift`` (to replay a
    recording as live traffic), or why it is refused."""
    if not isinstance(record, Mapping):
        return f"not a JSON object ({type(record).__name__})"
    try:
        address = record.get("icao24")
        if not isinstance(address, str) or not address.strip():
            return "no icao24"
        t = _epoch_s(record.get("timestamp")) + shift.total_seconds()
        alt = number(record.get("altitude"), "altitude")
        gs = number(record.get("groundspeed"), "groundspeed")
        vr = number(record.get("vertical_rate"), "vertical_rate")
        callsign = record.get("callsign")
        on_ground = record.get("onground", False)
        if not isinstance(on_ground, bool):
            return "onground must be true or false"
        return surveillance_track(
            party=party,
            source=source,
            time_s=t,
            address=address,
            lat=number(record.get("latitude"), "latitude"),
            lon=number(record.get("longitude"), "longitude"),
            altitude_m=None if alt is None else alt * FEET_TO_METRES,
            altitude_ref=AltitudeReference.BAROMETRIC,
            ground_speed_mps=None if gs is None else gs * KNOT_MPS,
            track_deg=number(record.get("track"), "track"),
            vertical_rate_mps=None if vr is None else vr * FEET_PER_MIN_MPS,
            callsign=callsign if isinstance(callsign, str) else None,
            on_ground=on_ground,
            limits=limits,
        )
    except (ValueError, OverflowError) as exc:
        return str(exc)
