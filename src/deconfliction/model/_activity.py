"""Activities: a party's declared intent, with its state machine and versions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from deconfliction.errors import InvalidInput, InvalidTransition
from deconfliction.geo import Volume4D
from deconfliction.model._checks import aware, enum_value, text
from deconfliction.model._enums import ActivityKind, ActivityState, Priority

__all__ = ["MAX_VOLUMES", "Activity"]

MAX_VOLUMES = 100
"""An activity declares 1 to 100 volumes."""

_TRANSITIONS: dict[ActivityState, frozenset[ActivityState]] = {
    ActivityState.NOTIFIED: frozenset({ActivityState.ACTIVE, ActivityState.CANCELLED}),
    ActivityState.ACTIVE: frozenset({ActivityState.ENDED, ActivityState.CANCELLED}),
    ActivityState.ENDED: frozenset(),
    ActivityState.CANCELLED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Activity:
    """One version of a party's declared activity.

    ``remarks`` are the owner's internal notes: never shown to another party.

    >>> from uuid import uuid4
    >>> from datetime import datetime, timezone, timedelta
    >>> from deconfliction.geo import AltitudeBand, Circle, TimeWindow, Volume4D
    >>> t = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
    >>> v = Volume4D(Circle((2.35, 48.85), 2_000.0), AltitudeBand(0, 1_000),
    ...              TimeWindow(t, t + timedelta(hours=2)))
    >>> a = Activity(uuid4(), uuid4(), "flight", "Medevac", (v,), created_at=t, updated_at=t)
    >>> a.state, a.version
    (<ActivityState.NOTIFIED: 'notified'>, 1)
    >>> b = a.transition("active", t)
    >>> b.state, b.version
    (<ActivityState.ACTIVE: 'active'>, 2)
    >>> b.transition("notified", t)
    Traceback (most recent call last):
    ...
    deconfliction.errors.InvalidTransition: cannot go from active to notified
    """

    id: UUID
    owner: UUID
    kind: ActivityKind
    title: str
    volumes: tuple[Volume4D, ...]
    created_at: datetime
    updated_at: datetime
    priority: Priority = Priority.ROUTINE
    state: ActivityState = ActivityState.NOTIFIED
    version: int = 1
    remarks: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", enum_value(ActivityKind, self.kind, "kind"))
        object.__setattr__(self, "title", text(self.title, "title", max_len=200))
        object.__setattr__(self, "priority", enum_value(Priority, self.priority, "priority"))
        object.__setattr__(self, "state", enum_value(ActivityState, self.state, "state"))
        object.__setattr__(
            self, "remarks", text(self.remarks, "remarks", max_len=4000, required=False)
        )
        vols = tuple(self.volumes)
        if not 1 <= len(vols) <= MAX_VOLUMES:
            raise InvalidInput("volumes", f"must hold 1 to {MAX_VOLUMES} volumes, got {len(vols)}")
        for i, v in enumerate(vols):
            if not isinstance(v, Volume4D):
                raise InvalidInput(f"volumes[{i}]", "must be a Volume4D")
        object.__setattr__(self, "volumes", vols)
        object.__setattr__(self, "created_at", aware(self.created_at, "created_at"))
        object.__setattr__(self, "updated_at", aware(self.updated_at, "updated_at"))
        version: object = self.version
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidInput("version", "must be an integer ≥ 1")

    @property
    def start(self) -> datetime:
        """When the earliest volume begins."""
        return min(v.time.start for v in self.volumes)

    @property
    def end(self) -> datetime:
        """When the latest volume ends."""
        return max(v.time.end for v in self.volumes)

    def transition(self, target: ActivityState | str, now: datetime) -> Activity:
        """The next version in state ``target`` (raises :class:`InvalidTransition`)."""
        to = enum_value(ActivityState, target, "state")
        if to not in _TRANSITIONS[self.state]:
            raise InvalidTransition(f"cannot go from {self.state} to {to}")
        return replace(self, state=to, version=self.version + 1, updated_at=now)

    def amended(
        self,
        now: datetime,
        *,
        volumes: Iterable[Volume4D] | None = None,
        title: str | None = None,
        priority: Priority | str | None = None,
        remarks: str | None = None,
        kind: ActivityKind | str | None = None,
    ) -> Activity:
        """The next version with the given fields changed (only while notified or active)."""
        if not self.state.is_live:
            raise InvalidTransition(f"cannot amend an activity that is {self.state}")
        return replace(
            self,
            volumes=self.volumes if volumes is None else tuple(volumes),
            title=self.title if title is None else title,
            priority=self.priority
            if priority is None
            else enum_value(Priority, priority, "priority"),
            remarks=self.remarks if remarks is None else remarks,
            kind=self.kind if kind is None else enum_value(ActivityKind, kind, "kind"),
            version=self.version + 1,
            updated_at=now,
        )
