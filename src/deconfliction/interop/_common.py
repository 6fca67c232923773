"""What every surveillance-feed parser shares: plausibility limits and one report builder.

A feed's values arrive in its own units (feet, knots, feet per minute, or SI for OpenSky);
:func:`surveillance_track` converts them with the factors of :mod:`deconfliction.model`,
refuses values no aircraft reports (a feed's noise: a 123,100 ft altitude, a NaN latitude)
and returns either a :class:`~deconfliction.model.Track` or the reason it was refused —
never an exception.

>>> from uuid import UUID
>>> r = surveillance_track(party=UUID(int=1), source=TrackSource.SBS1, time_s=1633608773.0,
...     address="4CA1F3", lat=48.85, lon=2.35, altitude_m=72_500 * FEET_TO_METRES)
>>> r
'altitude 22098 m (72500 ft) is implausible (outside -457..18288 m)'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from deconfliction.errors import InvalidInput
from deconfliction.geo import FEET_TO_METRES
from deconfliction.model import (
    FEET_PER_MIN_MPS,
    KNOT_MPS,
    AltitudeReference,
    Track,
    TrackSource,
)

__all__ = ["ADDRESS", "DEFAULT_FEED_LIMITS", "FeedLimits", "number", "surveillance_track"]

ADDRESS = re.compile(r"~?[0-9a-f]{6}")
"""A transponder address as feeds write it (lower-cased): six hex digits, ``~``-prefixed
for readsb's non-ICAO addresses (TIS-B, ADS-R, anonymous)."""
_MIN_EPOCH_S = 946_684_800.0  # 2000-01-01: an earlier time is a unit error (s for ms)
_MAX_EPOCH_S = 4_102_444_800.0  # 2100-01-01: a later time is a unit error (ms for s)


@dataclass(frozen=True, slots=True)
class FeedLimits:
    """Plausibility limits for civil surveillance feeds (SI units).

    Defaults: altitude from −1,500 ft (pressure altitude at a sea-level airport on a
    high-pressure day goes a few hundred feet below zero) to 60,000 ft (above every
    civil ceiling); ground speed up to 1,000 kt; vertical rate within ±10,000 ft/min.
    A report outside them is refused with the reason, as a real tracker drops garbled
    replies.
    """

    min_altitude_m: float = -1_500 * FEET_TO_METRES
    max_altitude_m: float = 60_000 * FEET_TO_METRES
    max_ground_speed_mps: float = 1_000 * KNOT_MPS
    max_vertical_rate_mps: float = 10_000 * FEET_PER_MIN_MPS


DEFAULT_FEED_LIMITS = FeedLimits()


class _Refused(Exception):
    """Internal: a value was refused (the message is the reason)."""


def number(value: object, name: str) -> float | None:
    """A finite float from a JSON/CSV value, None when missing (None, "" or NaN).

    Raises ValueError with a reason for anything else (text, a boolean, infinity).
    """
    if type(value) is float and -math.inf < value < math.inf:  # the common case, fast
        return value
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            v = float(text)
        except ValueError:
            raise ValueError(f"{name} {value[:40]!r} is not a number") from None
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    else:
        try:
            v = float(value)
        except OverflowError:
            raise ValueError(f"{name} is too large") from None
    if math.isnan(v):
        return None
    if math.isinf(v):
        raise ValueError(f"{name} must be finite")
    return v


def _limited(v: float | None, name: str, lo: float, hi: float, unit: str, factor: float) -> None:
    if v is not None and not lo <= v <= hi:
        feet = "ft" if unit == "m" else ("kt" if factor == KNOT_MPS else "ft/min")
        raise _Refused(
            f"{name} {v:.0f} {unit} ({v / factor:.0f} {feet}) is implausible "
            f"(outside {lo:.0f}..{hi:.0f} {unit})"
        )


def _mm(v: float | None) -> float | None:
    """Rounded to the millimetre (or mm/s): unit conversions leave float noise."""
    return None if v is None else round(v, 3)


def surveillance_track(
    *,
    party: UUID,
    source: TrackSource,
    time_s: float,
    address: str,
    lat: float | None,
    lon: float | None,
    altitude_m: float | None = None,
    altitude_ref: AltitudeReference = AltitudeReference.BAROMETRIC,
    ground_speed_mps: float | None = None,
    track_deg: float | None = None,
    vertical_rate_mps: float | None = None,
    callsign: str | None = None,
    on_ground: bool = False,
    limits: FeedLimits = DEFAULT_FEED_LIMITS,
) -> Track | str:
    """A report from a surveillance feed (values already in SI), or why it is refused.

    ``address`` is the transponder's address: six hex digits become both the track key
    and the ICAO address (lower case); readsb's ``~``-prefixed non-ICAO addresses are kept
    as the key only; anything else is refused. ``time_s`` is seconds since the Unix epoch.
    """
    try:
        if lat is None or lon is None:
            raise _Refused("no position (latitude or longitude missing)")
        if not _MIN_EPOCH_S < time_s < _MAX_EPOCH_S:
            raise _Refused(f"time {time_s!r} s since the epoch is not a plausible time")
        lim = limits
        _limited(
            altitude_m, "altitude", lim.min_altitude_m, lim.max_altitude_m, "m", FEET_TO_METRES
        )
        if ground_speed_mps is not None:
            if ground_speed_mps < 0:
                raise _Refused(f"ground speed {ground_speed_mps:g} m/s is negative")
            top = lim.max_ground_speed_mps
            _limited(ground_speed_mps, "ground speed", 0.0, top, "m/s", KNOT_MPS)
        vr = lim.max_vertical_rate_mps
        _limited(vertical_rate_mps, "vertical rate", -vr, vr, "m/s", FEET_PER_MIN_MPS)
        key = address.strip().lower()
        if not ADDRESS.fullmatch(key):
            raise _Refused(f"address {address[:20]!r} is not 6 hex digits (or ~ and 6)")
        return Track(
            key=key,
            party=party,
            source=source,
            time=datetime.fromtimestamp(time_s, UTC),
            lat=lat,
            lon=lon,
            altitude_m=_mm(altitude_m),
            altitude_ref=altitude_ref,
            ground_speed_mps=_mm(ground_speed_mps),
            track_deg=None if track_deg is None else track_deg % 360.0,
            vertical_rate_mps=_mm(vertical_rate_mps),
            callsign=callsign,
            icao24=None if key[0] == "~" else key,
            on_ground=on_ground,
        )
    except _Refused as exc:
        return str(exc)
    except InvalidInput as exc:
        return f"{exc.field}: {exc.reason}"
