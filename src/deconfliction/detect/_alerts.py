"""Tactical alerts with stable keys, and the book that makes them stateful.

Each cycle the engine reports what holds *now*; :class:`AlertBook` compares it with what
held before and says what is new (*raised*, notify once), what persists with new figures
(*updated*), and what no longer holds (*cleared*). A non-conformance that has persisted for
``contingent_after_s`` (60 s, ASTM F3548-21) is reported once as *contingent*. The book is
pure: the caller supplies the cycle time.

>>> book = AlertBook()
>>> a = Alert(AlertKind.NON_CONFORMING, ("non_conforming", "t1", "act-1"), ("red",), ("t1",))
>>> [len(x) for x in book.update([a], now_s=0.0)]
[1, 0, 0, 0]
>>> [len(x) for x in book.update([a], now_s=30.0)]
[0, 0, 0, 0]
>>> book.update([a], now_s=61.0).contingent[0].key
('non_conforming', 't1', 'act-1')
>>> [len(x) for x in book.update([], now_s=62.0)]
[0, 0, 1, 0]
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from deconfliction.errors import InvalidInput

__all__ = ["CONTINGENT_AFTER_S", "Alert", "AlertBook", "AlertKind", "BookUpdate"]

CONTINGENT_AFTER_S = 60.0
"""Non-conforming for this long makes an activity contingent (ASTM F3548-21)."""


class AlertKind(StrEnum):
    """What a tactical alert is about."""

    PROXIMITY = "proximity"
    INCURSION = "incursion"
    NON_CONFORMING = "non_conforming"


@dataclass(frozen=True, slots=True)
class Alert:
    """One tactical finding of one cycle. ``key`` is stable across cycles for the same
    situation: ``(kind, track_a, track_b)`` with the two ids in a fixed order for
    proximity, ``(kind, track, activity)`` for incursion and non-conformance."""

    kind: AlertKind
    key: tuple[Hashable, ...]
    parties: tuple[Hashable, ...]
    """Parties concerned (to be told): both tracks' for proximity; the track's and the
    activity's for incursion; the activity's party for non-conformance."""
    tracks: tuple[Hashable, ...]
    activity: Hashable | None = None
    volume: int | None = None
    """Index of the volume within the activity (incursion)."""
    time_to_s: float | None = None
    """Seconds to loss of separation or to entry (0: now)."""
    cpa_time_s: float | None = None
    cpa_distance_m: float | None = None
    cpa_vertical_m: float | None = None
    position: tuple[float, float, float] | None = None
    """Where the (first) track is: lon, lat (degrees), altitude (metres)."""


@dataclass(frozen=True, slots=True)
class BookUpdate:
    """What changed at one update, each in key order."""

    raised: tuple[Alert, ...]
    updated: tuple[Alert, ...]
    """Alerts that persist with different figures."""
    cleared: tuple[Alert, ...]
    """Alerts that no longer hold (as last seen)."""
    contingent: tuple[Alert, ...]
    """Non-conformance alerts that reached ``contingent_after_s`` at this update."""

    def __iter__(self) -> Iterator[tuple[Alert, ...]]:
        return iter((self.raised, self.updated, self.cleared, self.contingent))


def _order(key: tuple[Hashable, ...]) -> str:
    return repr(key)


class AlertBook:
    """Current alerts by key, with the time each was first seen."""

    def __init__(self, *, contingent_after_s: float = CONTINGENT_AFTER_S) -> None:
        if not contingent_after_s >= 0:
            raise InvalidInput("contingent_after_s", "must be ≥ 0")
        self.contingent_after_s = float(contingent_after_s)
        self._alerts: dict[tuple[Hashable, ...], Alert] = {}
        self._since: dict[tuple[Hashable, ...], float] = {}
        self._contingent: set[tuple[Hashable, ...]] = set()
        self._last: float | None = None

    def __len__(self) -> int:
        return len(self._alerts)

    def __contains__(self, key: object) -> bool:
        return key in self._alerts

    def copy(self) -> AlertBook:
        """An independent copy: the book to go back to when the changes an update returned
        could not be told (the next update then returns them again)."""
        other = AlertBook(contingent_after_s=self.contingent_after_s)
        other._alerts, other._since = dict(self._alerts), dict(self._since)
        other._contingent, other._last = set(self._contingent), self._last
        return other

    def first_seen(self, key: tuple[Hashable, ...]) -> float | None:
        """When the alert with ``key`` was raised (None when it is not current)."""
        return self._since.get(key)

    def is_contingent(self, key: tuple[Hashable, ...]) -> bool:
        return key in self._contingent

    def update(self, alerts: Iterable[Alert], now_s: float) -> BookUpdate:
        """Take one cycle's alerts (all that hold at ``now_s``) and return what changed.

        Raises:
            InvalidInput: ``now_s`` is earlier than the previous update's, or two alerts
                share a key.
        """
        if self._last is not None and now_s < self._last:
            raise InvalidInput("now_s", "cycles must not go back in time")
        self._last = now_s
        current: dict[tuple[Hashable, ...], Alert] = {}
        for a in alerts:
            if a.key in current:
                raise InvalidInput("alerts", f"two alerts share the key {a.key!r}")
            current[a.key] = a
        raised, updated, contingent = [], [], []
        for key in sorted(current, key=_order):
            a = current[key]
            before = self._alerts.get(key)
            if before is None:
                raised.append(a)
                self._since[key] = now_s
            elif before != a:
                updated.append(a)
            if (
                a.kind is AlertKind.NON_CONFORMING
                and key not in self._contingent
                and now_s - self._since[key] >= self.contingent_after_s
            ):
                self._contingent.add(key)
                contingent.append(a)
        cleared = [self._alerts[k] for k in sorted(self._alerts, key=_order) if k not in current]
        for a in cleared:
            self._since.pop(a.key, None)
            self._contingent.discard(a.key)
        self._alerts = current
        return BookUpdate(tuple(raised), tuple(updated), tuple(cleared), tuple(contingent))
