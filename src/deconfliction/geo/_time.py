"""Time windows: aware UTC intervals.

A naive datetime is an error, never a guess. Windows are closed intervals for conflict
purposes: two windows that touch (one ends when the other starts) are treated as meeting,
which errs on the side of reporting.

>>> from datetime import datetime, timezone, timedelta
>>> t0 = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
>>> w = TimeWindow(t0, t0 + timedelta(hours=2))
>>> w.duration_s
7200.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from deconfliction.errors import InvalidVolume

__all__ = ["TimeWindow"]


def _aware_utc(value: object, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidVolume(field, f"must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidVolume(field, "naive datetime: a timezone (UTC) is required")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidVolume(field, "is outside the range of representable times") from None


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """An interval ``[start, end]`` of aware datetimes, stored in UTC, ``start < end``.

    >>> from datetime import datetime, timezone
    >>> TimeWindow(datetime(2026, 1, 1, 10), datetime(2026, 1, 1, 11))
    Traceback (most recent call last):
    ...
    deconfliction.errors.InvalidVolume: time.start: naive datetime: a timezone (UTC) is required
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start = _aware_utc(self.start, "time.start")
        end = _aware_utc(self.end, "time.end")
        if not start < end:
            raise InvalidVolume("time.end", "must be after time.start")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @classmethod
    def from_epoch(cls, start_s: float, end_s: float) -> TimeWindow:
        """Build from POSIX seconds (UTC).

        >>> TimeWindow.from_epoch(0, 60).end.isoformat()
        '1970-01-01T00:01:00+00:00'
        """
        for name, v in (("time.start", start_s), ("time.end", end_s)):
            if not math.isfinite(v):
                raise InvalidVolume(name, "must be a finite number of seconds")
        try:
            start = datetime.fromtimestamp(start_s, UTC)
        except (OverflowError, ValueError, OSError):
            raise InvalidVolume(
                "time.start", "is outside the range of representable times"
            ) from None
        try:
            end = datetime.fromtimestamp(end_s, UTC)
        except (OverflowError, ValueError, OSError):
            raise InvalidVolume("time.end", "is outside the range of representable times") from None
        return cls(start, end)

    @property
    def start_s(self) -> float:
        """Start as POSIX seconds."""
        return self.start.timestamp()

    @property
    def end_s(self) -> float:
        """End as POSIX seconds."""
        return self.end.timestamp()

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return (self.end - self.start).total_seconds()

    def gap_s(self, other: TimeWindow) -> float:
        """Seconds between the two windows; 0 when they overlap or touch.

        >>> a = TimeWindow.from_epoch(0, 10); b = TimeWindow.from_epoch(15, 20)
        >>> a.gap_s(b), b.gap_s(a), a.gap_s(a)
        (5.0, 5.0, 0.0)
        """
        return max(0.0, (max(self.start, other.start) - min(self.end, other.end)).total_seconds())

    def intersection(self, other: TimeWindow) -> TimeWindow | None:
        """The common part, or None when the windows do not overlap for a positive time."""
        start, end = max(self.start, other.start), min(self.end, other.end)
        return TimeWindow(start, end) if start < end else None

    def expanded(self, seconds: float) -> TimeWindow:
        """The window widened by ``seconds`` on both sides."""
        delta = timedelta(seconds=seconds)
        return TimeWindow(self.start - delta, self.end + delta)
