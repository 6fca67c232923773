"""Altitude bands, in metres above the WGS84 ellipsoid.

Conversions at the edges (feet, flight levels) are approximations, documented on each
constructor. Inside the package every altitude is metres above the ellipsoid.

>>> AltitudeBand.from_feet(0, 400).upper_m
121.92
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from deconfliction.errors import InvalidVolume

__all__ = ["FEET_TO_METRES", "AltitudeBand"]

FEET_TO_METRES = 0.3048
"""International foot, exact by definition."""

#: Lowest and highest altitude accepted (Dead Sea shore to well above any airspace).
_MIN_ALT_M = -1_000.0
_MAX_ALT_M = 1_000_000.0


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidVolume(field, f"must be a number, got {type(value).__name__}")
    try:
        v = float(value)
    except OverflowError:
        raise InvalidVolume(field, "is too large") from None
    if not math.isfinite(v):
        raise InvalidVolume(field, "must be finite (NaN and infinity are not altitudes)")
    return v


def _check(value: object, field: str) -> float:
    v = _number(value, field)
    if not _MIN_ALT_M <= v <= _MAX_ALT_M:
        raise InvalidVolume(field, f"{v} m is outside [{_MIN_ALT_M:g}, {_MAX_ALT_M:g}] m")
    return v


def _converted(lower: object, upper: object, unit: str, factor: float) -> AltitudeBand:
    """Build from another unit; errors name the field in that unit."""
    lo = _number(lower, f"altitude.lower_{unit}")
    hi = _number(upper, f"altitude.upper_{unit}")
    try:
        return AltitudeBand(round(lo * factor, 6), round(hi * factor, 6))
    except InvalidVolume as exc:
        name = exc.field.replace("_m", f"_{unit}")
        raise InvalidVolume(name, exc.reason) from None


@dataclass(frozen=True, slots=True)
class AltitudeBand:
    """A closed altitude interval ``[lower_m, upper_m]``, metres above the WGS84 ellipsoid."""

    lower_m: float
    upper_m: float

    def __post_init__(self) -> None:
        lo = _check(self.lower_m, "altitude.lower_m")
        hi = _check(self.upper_m, "altitude.upper_m")
        if not lo < hi:
            raise InvalidVolume("altitude.lower_m", "must be below altitude.upper_m")
        object.__setattr__(self, "lower_m", lo)
        object.__setattr__(self, "upper_m", hi)

    @classmethod
    def from_metres(cls, lower_m: float, upper_m: float) -> AltitudeBand:
        """Metres above the WGS84 ellipsoid (no conversion)."""
        return cls(lower_m, upper_m)

    @classmethod
    def from_feet(cls, lower_ft: float, upper_ft: float) -> AltitudeBand:
        """Feet, converted with the exact international foot (0.3048 m).

        The reference is taken as the ellipsoid: a value given above mean sea level differs
        from the ellipsoidal height by the local geoid undulation (up to about ±100 m);
        callers who need better must convert before calling.
        """
        return _converted(lower_ft, upper_ft, "ft", FEET_TO_METRES)

    @classmethod
    def from_flight_levels(cls, lower_fl: float, upper_fl: float) -> AltitudeBand:
        """Flight levels (hundreds of feet of pressure altitude, QNE 1013.25 hPa).

        Approximation: FL n is taken as ``n × 100 ft`` above the ellipsoid. The true
        geometric height of a flight level depends on the day's pressure and temperature
        (commonly several hundred feet off) and on the geoid; add a vertical buffer that
        covers it when this matters.

        >>> AltitudeBand.from_flight_levels(100, 200).lower_m
        3048.0
        """
        return _converted(lower_fl, upper_fl, "fl", 100 * FEET_TO_METRES)

    def gap_m(self, other: AltitudeBand) -> float:
        """Vertical distance between the bands; 0 when they overlap or touch.

        >>> AltitudeBand(0, 100).gap_m(AltitudeBand(150, 200))
        50.0
        """
        return max(0.0, max(self.lower_m, other.lower_m) - min(self.upper_m, other.upper_m))

    def intersection(self, other: AltitudeBand) -> AltitudeBand | None:
        """The common band, or None when the bands do not overlap over a positive height."""
        lo, hi = max(self.lower_m, other.lower_m), min(self.upper_m, other.upper_m)
        return AltitudeBand(lo, hi) if lo < hi else None
