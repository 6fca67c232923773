"""Conflicts: an activity meets another party's activity or protected site."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from deconfliction.geo import Overlap
from deconfliction.model._enums import ConflictKind, ConflictStatus

__all__ = ["Conflict", "VolumeOverlap"]


@dataclass(frozen=True, slots=True)
class VolumeOverlap:
    """Where one volume of the activity meets one volume of the other side.

    Times and altitudes are None when the volumes only come within the buffers of each
    other (then the gaps say by how much they are apart).
    """

    volume: int
    """Index of the activity's volume."""
    other_volume: int
    """Index of the other side's volume (0 for a site)."""
    time_start: datetime | None
    time_end: datetime | None
    time_gap_s: float
    altitude_lower_m: float | None
    altitude_upper_m: float | None
    vertical_gap_m: float
    horizontal_distance_m: float
    intersection: dict[str, Any] | None = field(default=None, compare=False)
    """The common area as a GeoJSON geometry, when the footprints intersect and it was
    asked for (``GET /v1/conflicts/{id}?geometry=true``); None otherwise."""

    @classmethod
    def from_overlap(cls, volume: int, other_volume: int, o: Overlap) -> VolumeOverlap:
        """Summarise a geometry-core :class:`~deconfliction.geo.Overlap` (without the common
        area, which is computed on request: it is costly and only a display aid)."""
        return cls(
            volume=volume,
            other_volume=other_volume,
            time_start=o.time_window.start if o.time_window else None,
            time_end=o.time_window.end if o.time_window else None,
            time_gap_s=o.time_gap_s,
            altitude_lower_m=o.altitude_band.lower_m if o.altitude_band else None,
            altitude_upper_m=o.altitude_band.upper_m if o.altitude_band else None,
            vertical_gap_m=o.vertical_gap_m,
            horizontal_distance_m=o.horizontal_distance_m,
        )


@dataclass(frozen=True, slots=True)
class Conflict:
    """A detected conflict between an activity and another party's activity or site.

    ``activity_*`` is the side whose filing first revealed the conflict; ``other_*`` the
    activity or site it met. The pair is the conflict's identity: later versions of either
    side update it (``overlaps``, versions) until it is resolved.
    """

    id: UUID
    kind: ConflictKind
    activity_id: UUID
    activity_owner: UUID
    activity_version: int
    other_id: UUID
    other_owner: UUID
    other_version: int
    overlaps: tuple[VolumeOverlap, ...]
    detected_at: datetime
    updated_at: datetime
    status: ConflictStatus = ConflictStatus.OPEN
    resolved_at: datetime | None = None

    @property
    def parties(self) -> tuple[UUID, UUID]:
        """The two parties concerned."""
        return (self.activity_owner, self.other_owner)

    @property
    def min_horizontal_distance_m(self) -> float:
        """The closest the two sides come horizontally (0 when they intersect)."""
        return min(o.horizontal_distance_m for o in self.overlaps)

    def involves(self, object_id: UUID) -> bool:
        """Whether ``object_id`` is one of the two sides."""
        return object_id in (self.activity_id, self.other_id)

    def resolved(self, now: datetime) -> Conflict:
        """This conflict, resolved at ``now``."""
        return replace(self, status=ConflictStatus.RESOLVED, resolved_at=now, updated_at=now)
