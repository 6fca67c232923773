"""Protected sites: places a party asks others to keep clear of."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from deconfliction.errors import InvalidInput, InvalidTransition
from deconfliction.geo import AltitudeBand, Circle, Polygon, TimeWindow, Volume4D
from deconfliction.model._checks import aware, enum_value, text
from deconfliction.model._enums import SiteCategory, SiteState

__all__ = ["MAX_SITE_BUFFER_M", "SITE_DEFAULT_ALTITUDE", "ProtectedSite"]

MAX_SITE_BUFFER_M = 100_000.0
"""A site's own buffer is at most 100 km."""

SITE_DEFAULT_ALTITUDE = AltitudeBand(-500.0, 100_000.0)
"""A site is protected from the ground up to 100 km unless its owner says otherwise."""


@dataclass(frozen=True, slots=True)
class ProtectedSite:
    """One version of a protected site.

    Its coordinates are disclosed to another party only through a conflict with that
    party's activity, and every such disclosure is recorded.

    >>> from uuid import uuid4
    >>> from datetime import datetime, timezone, timedelta
    >>> from deconfliction.geo import Circle, TimeWindow
    >>> t = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
    >>> s = ProtectedSite(uuid4(), uuid4(), "medical", "Hôpital Nord", Circle((2.35, 48.9), 150.0),
    ...                   TimeWindow(t, t + timedelta(days=365)), created_at=t, updated_at=t,
    ...                   buffer_m=500.0)
    >>> s.volume.altitude.upper_m
    100000.0
    """

    id: UUID
    owner: UUID
    category: SiteCategory
    name: str
    footprint: Polygon | Circle
    validity: TimeWindow
    created_at: datetime
    updated_at: datetime
    buffer_m: float = 0.0
    altitude: AltitudeBand = SITE_DEFAULT_ALTITUDE
    state: SiteState = SiteState.ACTIVE
    version: int = 1
    remarks: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "category", enum_value(SiteCategory, self.category, "category"))
        object.__setattr__(self, "state", enum_value(SiteState, self.state, "state"))
        object.__setattr__(self, "name", text(self.name, "name", max_len=200))
        object.__setattr__(
            self, "remarks", text(self.remarks, "remarks", max_len=4000, required=False)
        )
        if not isinstance(self.footprint, Polygon | Circle):
            raise InvalidInput("footprint", "must be a Polygon or Circle")
        if not isinstance(self.validity, TimeWindow):
            raise InvalidInput("validity", "must be a TimeWindow")
        if not isinstance(self.altitude, AltitudeBand):
            raise InvalidInput("altitude", "must be an AltitudeBand")
        b: object = self.buffer_m
        if isinstance(b, bool) or not isinstance(b, int | float) or not math.isfinite(b):
            raise InvalidInput("buffer_m", "must be a finite number")
        if not 0 <= b <= MAX_SITE_BUFFER_M:
            raise InvalidInput("buffer_m", f"must be between 0 and {MAX_SITE_BUFFER_M:g} m")
        object.__setattr__(self, "buffer_m", float(b))
        object.__setattr__(self, "created_at", aware(self.created_at, "created_at"))
        object.__setattr__(self, "updated_at", aware(self.updated_at, "updated_at"))

    @property
    def volume(self) -> Volume4D:
        """The site as a 4D volume (its buffer is applied on top, by the index)."""
        return Volume4D(self.footprint, self.altitude, self.validity)

    def withdrawn(self, now: datetime) -> ProtectedSite:
        """The next version, withdrawn (raises if it already is)."""
        if self.state is SiteState.WITHDRAWN:
            raise InvalidTransition("the site is already withdrawn")
        return replace(self, state=SiteState.WITHDRAWN, version=self.version + 1, updated_at=now)
