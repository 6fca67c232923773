"""Assets: a party's aircraft, vehicles or teams whose position and speed it reports.

They are what *time-to-clear* is about: when an activity is declared over an asset, the
hub works out how long the asset needs to leave the area (plus buffer) at its best speed,
and flags the notice *insufficient* when the lead time left is shorter.

>>> from uuid import uuid4
>>> from datetime import datetime, timezone
>>> a = Asset(uuid4(), uuid4(), "HELO-2", 2.35, 48.85, 300.0, 0.0, 41.0,
...           datetime(2026, 12, 1, tzinfo=timezone.utc))
>>> a.max_speed_mps
41.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from deconfliction.errors import InvalidInput

__all__ = ["MAX_ASSET_SPEED_MPS", "Asset"]

MAX_ASSET_SPEED_MPS = 1_000.0
"""Highest speed accepted (about Mach 3): anything faster is a unit error."""


def _finite(value: object, field: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field, f"must be a number, got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v) or not lo <= v <= hi:
        raise InvalidInput(field, f"must be between {lo:g} and {hi:g}, got {value!r}")
    return v


@dataclass(frozen=True, slots=True)
class Asset:
    """The latest report of one asset of a party (``ref``: the party's own name for it)."""

    id: UUID
    owner: UUID
    ref: str
    lon: float
    lat: float
    altitude_m: float | None
    """Above mean sea level; None when unknown (then every altitude band counts)."""
    speed_mps: float
    max_speed_mps: float
    """The best speed it can make to get clear (what time-to-clear assumes)."""
    reported_at: datetime
    name: str = ""

    def __post_init__(self) -> None:
        if not 1 <= len(self.ref.strip()) <= 100:
            raise InvalidInput("ref", "must be 1 to 100 characters")
        object.__setattr__(self, "ref", self.ref.strip())
        if len(self.name) > 200:
            raise InvalidInput("name", "must be at most 200 characters")
        object.__setattr__(self, "lon", _finite(self.lon, "lon", -180.0, 180.0))
        object.__setattr__(self, "lat", _finite(self.lat, "lat", -90.0, 90.0))
        if self.altitude_m is not None:
            object.__setattr__(
                self, "altitude_m", _finite(self.altitude_m, "altitude_m", -1_000.0, 100_000.0)
            )
        top = MAX_ASSET_SPEED_MPS
        object.__setattr__(self, "speed_mps", _finite(self.speed_mps, "speed_mps", 0.0, top))
        v = _finite(self.max_speed_mps, "max_speed_mps", 0.0, top)
        if v <= 0:
            raise InvalidInput(
                "max_speed_mps", "must be > 0 (an asset that cannot move cannot clear)"
            )
        if v < self.speed_mps:
            raise InvalidInput("max_speed_mps", "is below the reported speed")
        object.__setattr__(self, "max_speed_mps", v)
        if self.reported_at.tzinfo is None or self.reported_at.utcoffset() is None:
            raise InvalidInput("reported_at", "naive datetime: a timezone (UTC) is required")
