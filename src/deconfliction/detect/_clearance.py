"""Time-to-clear: how long an asset in or near an activity's volumes needs to get out.

For each asset and each volume that is not over yet: if the asset is inside the volume
grown by the buffers (horizontally the footprint plus the horizontal buffer; vertically
the band plus the vertical buffer, an unknown altitude counting as inside), it needs
``distance / max speed`` to leave by the shortest way out (:func:`~deconfliction.geo.
exit_distance_m`). It has until the volume starts, less the time buffer. If it needs
longer, the notice is *insufficient* — flagged, never a reason to refuse anything.

Only the horizontal way out is counted: the hub knows no climb or descent performance,
and a ground or surface asset has none.

>>> from datetime import datetime, timedelta, timezone
>>> from deconfliction.geo import AltitudeBand, Buffers, Circle, TimeWindow, Volume4D
>>> now = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)
>>> v = Volume4D(Circle((2.0, 48.0), 5_000.0), AltitudeBand(0, 3_000),
...              TimeWindow(now + timedelta(minutes=1), now + timedelta(hours=1)))
>>> slow = Position("helo", 2.0, 48.0, 300.0, 40.0)
>>> (need,) = clearance_needs([slow], [v], Buffers(9_260.0, 300.0, 0.0), now)
>>> round(need.required_s), need.available_s, need.insufficient
(356, 60.0, True)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime

from deconfliction.geo import Buffers, Volume4D, exit_distance_m

__all__ = ["ClearanceNeed", "Position", "clearance_needs"]


@dataclass(frozen=True, slots=True)
class Position:
    """An asset where it was last reported (``key`` identifies it to the caller)."""

    key: Hashable
    lon: float
    lat: float
    altitude_m: float | None
    max_speed_mps: float


@dataclass(frozen=True, slots=True)
class ClearanceNeed:
    """One asset in (or within the buffers of) one volume."""

    key: Hashable
    volume: int
    """Index of the volume in the activity."""
    distance_m: float
    """The shortest way out of the volume plus its horizontal buffer."""
    max_speed_mps: float
    required_s: float
    available_s: float
    """Seconds from now until the volume starts (less the time buffer); 0 once started."""

    @property
    def insufficient(self) -> bool:
        return self.required_s > self.available_s


def clearance_needs(
    positions: Sequence[Position],
    volumes: Sequence[Volume4D],
    buffers: Buffers,
    now: datetime,
) -> list[ClearanceNeed]:
    """Every (asset, volume) pair where the asset has to get out, in input order."""
    out: list[ClearanceNeed] = []
    for i, v in enumerate(volumes):
        if (v.time.end - now).total_seconds() + buffers.time_s < 0:
            continue  # over (with its time buffer): nothing to clear
        lo = v.altitude.lower_m - buffers.vertical_m
        hi = v.altitude.upper_m + buffers.vertical_m
        available = max(0.0, (v.time.start - now).total_seconds() - buffers.time_s)
        for p in positions:
            if p.altitude_m is not None and not lo <= p.altitude_m <= hi:
                continue
            d = exit_distance_m((p.lon, p.lat), v.footprint, buffers.horizontal_m)
            if d is None:
                continue
            out.append(ClearanceNeed(p.key, i, d, p.max_speed_mps, d / p.max_speed_mps, available))
    return out
