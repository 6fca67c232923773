"""Many track reports at once: :class:`~deconfliction.model.Track` built column by column.

An ingest batch runs to 10,000 reports; building each with ``Track(...)`` checks its fields
one call at a time and costs several microseconds a report. :func:`tracks_from_columns`
takes one list per field instead, checks each column at once (types by list, ranges with
numpy), and fills the reports that pass without calling ``Track.__post_init__`` again.

Its answer is, row by row, exactly what ``Track(party=party, **row)`` would give — the
report, or the :class:`~deconfliction.errors.InvalidInput` message: a row the column checks
cannot vouch for (any doubt at all) is handed to ``Track(...)`` itself, so a refusal always
carries the reason the per-item constructor gives, and the columns only ever *accept* what
it accepts, with the same values (tested against it with Hypothesis).

>>> from datetime import datetime, timezone
>>> t = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
>>> got = tracks_from_columns(UUID(int=1), {
...     "key": ["a", " b "], "source": ["own", "adsb"], "time": [t, t],
...     "lat": [48.0, 91.0], "lon": [2, 2.5]})
>>> got[0].key, got[0].lon, got[1]
('a', 2.0, 'lat: must be between -90 and 90, got 91.0')
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, fields
from datetime import UTC, datetime
from enum import StrEnum
from itertools import repeat
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt

from deconfliction.errors import InvalidInput
from deconfliction.model._asset import MAX_ASSET_SPEED_MPS
from deconfliction.model._checks import CONTROL
from deconfliction.model._track import (
    ICAO24,
    MAX_TRACK_ALTITUDE_M,
    MAX_VERTICAL_RATE_MPS,
    MIN_TRACK_ALTITUDE_M,
    AltitudeReference,
    Track,
    TrackSource,
)

__all__ = ["tracks_from_columns"]

Mask = npt.NDArray[np.bool_]

_NAMES = tuple(f.name for f in fields(Track))
_DEFAULTS: dict[str, object] = {
    f.name: f.default for f in fields(Track) if f.default is not MISSING
}
_SLOTS = tuple(Track.__dict__[name] for name in _NAMES)
"""The slot descriptors of Track's fields, in order (they set a slot of a frozen report)."""

ICAO24_LINES = re.compile(r"[0-9a-f]{6}(?:\n[0-9a-f]{6})*")
"""ICAO 24-bit addresses, one a line (checked with the length: no line may hide two)."""

_BIG = 1e300
"""Integers beyond this go the per-item way (``float()`` of a huge int overflows there)."""


def tracks_from_columns(party: UUID, columns: Mapping[str, Sequence[object]]) -> list[Track | str]:
    """Row ``i`` is ``Track(party=party, **{f: columns[f][i] for f in columns})``, or the
    message of the InvalidInput it raises. ``columns`` are Track's field names other than
    ``party``, all of one length; a field left out takes its default (``key``, ``source``,
    ``time``, ``lat`` and ``lon`` have none and must be given)."""
    unknown = set(columns) - set(_NAMES) | ({"party"} & set(columns))
    if unknown:
        raise TypeError(f"not a Track column: {sorted(unknown)[0]}")
    n = len(columns["key"])
    if any(len(c) != n for c in columns.values()):
        raise ValueError("the columns differ in length")
    col = {name: columns.get(name) for name in _NAMES}
    ok = np.full(n, type(party) is UUID, dtype=bool)
    out: dict[str, list[Any]] = {"party": [party] * n}
    checks = (
        ("key", lambda c: _texts(c, 100, required=True)),
        ("source", lambda c: _enums(c, TrackSource)),
        ("time", _times),
        ("lat", lambda c: _floats(c, -90.0, 90.0, optional=False)),
        ("lon", lambda c: _floats(c, -180.0, 180.0, optional=False)),
        ("altitude_m", lambda c: _floats(c, MIN_TRACK_ALTITUDE_M, MAX_TRACK_ALTITUDE_M)),
        ("altitude_ref", lambda c: _enums(c, AltitudeReference)),
        ("ground_speed_mps", lambda c: _floats(c, 0, MAX_ASSET_SPEED_MPS)),
        ("track_deg", _angles),
        ("vertical_rate_mps", lambda c: _floats(c, -MAX_VERTICAL_RATE_MPS, MAX_VERTICAL_RATE_MPS)),
        ("callsign", lambda c: _texts(c, 40, required=False)),
        ("icao24", _icao24s),
        ("activity_id", _activities),
        ("on_ground", _flags),
    )
    for name, check in checks:
        given = col[name]
        if given is None:
            out[name] = [_DEFAULTS[name]] * n
            continue
        values, good = check(given)
        out[name] = values
        ok &= good
    return _assemble(party, col, out, ok)


def _assemble(
    party: UUID,
    col: Mapping[str, Sequence[object] | None],
    out: Mapping[str, list[Any]],
    ok: Mask,
) -> list[Track | str]:
    """The reports the columns vouch for, filled slot by slot; the others built one by one."""
    n = len(ok)
    keep = np.flatnonzero(ok).tolist()
    whole = len(keep) == n
    reports = list(map(object.__new__, repeat(Track, len(keep))))
    for name, slot in zip(_NAMES, _SLOTS, strict=True):
        values = out[name] if whole else [out[name][i] for i in keep]
        deque(map(slot.__set__, reports, values), maxlen=0)
    if whole:
        return list(reports)
    result: list[Track | str] = [""] * n
    for i, r in zip(keep, reports, strict=True):
        result[i] = r
    given = {name: c for name, c in col.items() if c is not None}
    for i in np.flatnonzero(~ok).tolist():
        try:
            row: dict[str, Any] = {name: c[i] for name, c in given.items()}
            result[i] = Track(party=party, **row)
        except InvalidInput as exc:
            result[i] = str(exc)
    return result


def _mask(flags: list[bool]) -> Mask:
    return np.array(flags, dtype=bool).reshape(len(flags))


def _every(n: int) -> Mask:
    return np.ones(n, dtype=bool)


def _kinds(c: Sequence[object]) -> set[type]:
    return set(map(type, c))


def _texts(c: Sequence[object], max_len: int, *, required: bool) -> tuple[list[Any], Mask]:
    """``text()`` by column: stripped strings, at most ``max_len``, no control characters
    (an optional one may be None, and an empty one becomes None)."""
    if _kinds(c) == {str}:
        stripped: list[str | None] = list(map(str.strip, c))  # type: ignore[arg-type]
        lens = np.array(list(map(len, stripped)), dtype=np.int64)  # type: ignore[arg-type]
    else:
        stripped = [v.strip() if type(v) is str else None for v in c]
        lens = np.array([-1 if s is None else len(s) for s in stripped], dtype=np.int64)
    good = (lens >= (1 if required else 0)) & (lens <= max_len)
    if not required:
        good |= _mask([v is None for v in c])
    if CONTROL.search("\n".join(s for s in stripped if s)):
        good &= _mask([s is None or CONTROL.search(s) is None for s in stripped])
    if required:
        return stripped, good
    return [s or None for s in stripped], good


def _enums(c: Sequence[object], enum: type[StrEnum]) -> tuple[list[Any], Mask]:
    """``enum_value()`` by column: a member, or the string value of one."""
    members: dict[object, StrEnum] = {m.value: m for m in enum}
    if _kinds(c) <= {str, enum}:
        try:
            return list(map(members.__getitem__, c)), _every(len(c))
        except KeyError:  # not a value: which ones, below
            pass
    values = [members.get(v) if type(v) is str or type(v) is enum else None for v in c]
    return values, _mask([v is not None for v in values])


def _times(c: Sequence[object]) -> tuple[list[Any], Mask]:
    """``aware()`` by column: aware datetimes, in UTC (each distinct object converted once)."""
    utc: dict[int, datetime | None] = {}
    for i, v in {id(v): v for v in c}.items():
        aware = type(v) is datetime and v.tzinfo is not None and v.utcoffset() is not None
        utc[i] = v.astimezone(UTC) if aware else None  # type: ignore[attr-defined]
    values = [utc[id(v)] for v in c]
    if None not in utc.values():
        return values, _every(len(c))
    return values, _mask([v is not None for v in values])


def _numbers(c: Sequence[object], *, optional: bool) -> tuple[npt.NDArray[np.float64], Mask, Mask]:
    """(the values as floats, which are given, which are acceptable numbers or None)."""
    kinds = set(map(type, c))
    if kinds == {float}:
        every = np.ones(len(c), dtype=bool)
        return np.array(c, dtype=np.float64).reshape(len(c)), every, every
    number = [type(v) is float or (type(v) is int and -_BIG <= v <= _BIG) for v in c]
    values = np.array(
        [float(v) if n else 0.0 for v, n in zip(c, number, strict=True)],  # type: ignore[arg-type]
        dtype=np.float64,
    ).reshape(len(c))
    given = _mask(number)
    good = given | _mask([v is None for v in c]) if optional else given
    return values, given, good


def _floats(
    c: Sequence[object], lo: float, hi: float, *, optional: bool = True
) -> tuple[list[Any], Mask]:
    """``_number()``/``_optional()`` by column: a number within [lo, hi], as a float."""
    values, given, good = _numbers(c, optional=optional)
    good &= ~given | ((lo <= values) & (values <= hi))
    return _listed(values, given), good


def _angles(c: Sequence[object]) -> tuple[list[Any], Mask]:
    """The track angle: within [0, 360], kept as its remainder by 360 (360 is 0)."""
    values, given, good = _numbers(c, optional=True)
    good &= ~given | ((values >= 0.0) & (values <= 360.0))
    with np.errstate(invalid="ignore"):  # an infinite angle is refused above
        turned = np.remainder(values, 360.0)
    return _listed(turned, given), good


def _listed(values: npt.NDArray[np.float64], given: Mask) -> list[Any]:
    floats: list[Any] = values.tolist()
    if given.all():
        return floats
    return [v if g else None for v, g in zip(floats, given.tolist(), strict=True)]


def _icao24s(c: Sequence[object]) -> tuple[list[Any], Mask]:
    """Six hexadecimal digits, stripped and in lower case (or None)."""
    if _kinds(c) == {str}:
        lowered = [v.strip().lower() for v in c]  # type: ignore[attr-defined]
        joined = "\n".join(lowered)  # six digits a line, and no other line (see the tests)
        if len(joined) == 7 * len(c) - 1 and ICAO24_LINES.fullmatch(joined):
            return lowered, _every(len(c))
    values = [v.strip().lower() if type(v) is str else None for v in c]
    good = [
        (v is None) if s is None else ICAO24.fullmatch(s) is not None
        for v, s in zip(c, values, strict=True)
    ]
    return values, _mask(good)


def _activities(c: Sequence[object]) -> tuple[list[Any], Mask]:
    if _kinds(c) <= {type(None), UUID}:
        return list(c), _every(len(c))
    return list(c), _mask([v is None or type(v) is UUID for v in c])


def _flags(c: Sequence[object]) -> tuple[list[Any], Mask]:
    if _kinds(c) == {bool}:
        return list(c), _every(len(c))
    return list(c), _mask([type(v) is bool for v in c])
