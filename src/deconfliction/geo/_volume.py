"""4D volumes and the limits a hub puts on them.

>>> from datetime import datetime, timezone, timedelta
>>> t0 = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
>>> v = Volume4D(Circle((10.0, 47.0), 1_000.0), AltitudeBand(0, 500),
...              TimeWindow(t0, t0 + timedelta(hours=1)))
>>> check_limits(v, Limits(max_area_m2=1e6))
Traceback (most recent call last):
...
deconfliction.errors.InvalidVolume: footprint: area 3.14 km² is above the cap of 1 km²
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from deconfliction.errors import InvalidVolume
from deconfliction.geo._altitude import AltitudeBand
from deconfliction.geo._footprint import Circle, Footprint, Polygon
from deconfliction.geo._time import TimeWindow

__all__ = ["DEFAULT_LIMITS", "Buffers", "Limits", "Volume4D", "check_limits"]


@dataclass(frozen=True, slots=True)
class Volume4D:
    """A footprint × altitude band × time window."""

    footprint: Footprint
    altitude: AltitudeBand
    time: TimeWindow

    def __post_init__(self) -> None:
        if not isinstance(self.footprint, Polygon | Circle):
            raise InvalidVolume("footprint", "must be a Polygon or a Circle")
        if not isinstance(self.altitude, AltitudeBand):
            raise InvalidVolume("altitude", "must be an AltitudeBand")
        if not isinstance(self.time, TimeWindow):
            raise InvalidVolume("time", "must be a TimeWindow")


@dataclass(frozen=True, slots=True)
class Buffers:
    """Separation added around a volume when looking for conflicts.

    Defaults are zero (exact contact); the hotline's policy supplies the operational ones
    (5 NM / 1,000 ft / 5 min by default).
    """

    horizontal_m: float = 0.0
    vertical_m: float = 0.0
    time_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("horizontal_m", "vertical_m", "time_s"):
            v = getattr(self, name)
            try:
                f = float(v) if isinstance(v, int | float) and not isinstance(v, bool) else math.nan
            except OverflowError:
                f = math.inf
            if not (math.isfinite(f) and f >= 0):
                raise InvalidVolume(f"buffers.{name}", "must be a finite number ≥ 0")
            object.__setattr__(self, name, f)


TIME_SLACK_S = 1e-3
"""Windows whose gap exceeds the time buffer by less than this still meet: a margin for
floating-point rounding, so that a gap exactly equal to the buffer is never missed."""
VERTICAL_SLACK_M = 1e-3
"""The same margin for altitude bands (1 mm)."""


def meets_1d(a0: float, a1: float, b0: float, b1: float, buffer: float, slack: float) -> bool:
    """Whether ``[a0, a1]`` and ``[b0, b1]`` come within ``buffer`` (+ ``slack``) of each
    other. The index evaluates the same expression, vectorised, so both always agree."""
    return b0 <= a1 + buffer + slack and b1 >= a0 - buffer - slack


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps a hub applies to declared volumes (all configurable)."""

    max_area_m2: float = 1.0e12
    """Largest footprint area (default 1,000,000 km²)."""
    max_radius_m: float = 1_500_000.0
    """Largest circle radius, and largest distance from a polygon's centre to its edge."""
    max_duration_s: float = 30 * 86_400.0
    """Longest time window (ASTM F3548-21's plan horizon: 30 days)."""


DEFAULT_LIMITS = Limits()


def check_limits(volume: Volume4D, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise :class:`InvalidVolume` when ``volume`` exceeds ``limits``."""
    fp = volume.footprint
    if isinstance(fp, Circle) and fp.radius_m > limits.max_radius_m:
        raise InvalidVolume(
            "footprint.radius_m",
            f"{fp.radius_m:g} m is above the cap of {limits.max_radius_m:g} m",
        )
    if isinstance(fp, Polygon) and fp.radius_m > limits.max_radius_m:
        raise InvalidVolume(
            "footprint.vertices",
            f"extends {fp.radius_m / 1000:.1f} km from its centre, above the cap of "
            f"{limits.max_radius_m / 1000:g} km",
        )
    area = fp.area_m2
    if area > limits.max_area_m2:
        raise InvalidVolume(
            "footprint",
            f"area {area / 1e6:.3g} km² is above the cap of {limits.max_area_m2 / 1e6:g} km²",
        )
    if volume.time.duration_s > limits.max_duration_s:
        raise InvalidVolume(
            "time.end",
            f"window of {volume.time.duration_s / 86400:.1f} days is longer than the cap of "
            f"{limits.max_duration_s / 86400:g} days",
        )
