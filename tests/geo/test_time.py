"""Unit tests for deconfliction.geo._time (TimeWindow)."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

import pytest

from deconfliction.errors import DeconflictionError, InvalidVolume
from deconfliction.geo import TimeWindow

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PARIS_WINTER = timezone(timedelta(hours=1))
MINUS_0530 = timezone(-timedelta(hours=5, minutes=30))


class _NoOffset(tzinfo):
    """A tzinfo whose utcoffset() is None: such a datetime is naive by Python's definition."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None


def w(start_s: float, end_s: float) -> TimeWindow:
    return TimeWindow.from_epoch(start_s, end_s)


# -- construction ------------------------------------------------------------------------


def test_aware_utc_window_keeps_its_instants() -> None:
    win = TimeWindow(T0, T0 + timedelta(hours=2))
    assert win.start == datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert win.end == datetime(2026, 11, 25, 14, tzinfo=UTC)
    assert win.duration_s == 7200.0
    assert win.start_s == 1795608000.0
    assert win.end_s == 1795615200.0


@pytest.mark.parametrize("tz", [PARIS_WINTER, MINUS_0530, timezone(timedelta(hours=14))])
def test_non_utc_offsets_are_normalised_to_utc(tz: timezone) -> None:
    start = T0.astimezone(tz)
    end = (T0 + timedelta(minutes=30)).astimezone(tz)
    assert start.utcoffset() != timedelta(0)  # the input really is not UTC
    win = TimeWindow(start, end)
    assert win.start.tzinfo is UTC
    assert win.end.tzinfo is UTC
    assert (win.start.hour, win.start.minute) == (12, 0)
    assert (win.end.hour, win.end.minute) == (12, 30)
    assert win == TimeWindow(T0, T0 + timedelta(minutes=30))
    assert hash(win) == hash(TimeWindow(T0, T0 + timedelta(minutes=30)))


def test_mixed_offsets_compare_as_instants() -> None:
    # 13:00+01:00 is 12:00Z, i.e. before 12:30Z, although 13 > 12 on the wall clock.
    win = TimeWindow(datetime(2026, 11, 25, 13, tzinfo=PARIS_WINTER), T0 + timedelta(minutes=30))
    assert win.duration_s == 1800.0


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (datetime(2026, 1, 1, 10), datetime(2026, 1, 1, 11, tzinfo=UTC), "time.start"),
        (datetime(2026, 1, 1, 10, tzinfo=UTC), datetime(2026, 1, 1, 11), "time.end"),
        (datetime(2026, 1, 1, 10), datetime(2026, 1, 1, 11), "time.start"),
        (datetime(2026, 1, 1, 10, tzinfo=_NoOffset()), T0, "time.start"),
    ],
    ids=["naive-start", "naive-end", "both-naive", "tzinfo-without-offset"],
)
def test_naive_datetime_is_rejected(start: datetime, end: datetime, field: str) -> None:
    with pytest.raises(InvalidVolume) as ei:
        TimeWindow(start, end)
    assert ei.value.field == field
    assert ei.value.reason == "naive datetime: a timezone (UTC) is required"


@pytest.mark.parametrize(
    ("start", "end", "field", "type_name"),
    [
        ("2026-01-01T10:00Z", T0, "time.start", "str"),
        (T0, 1795615200.0, "time.end", "float"),
        (date(2026, 11, 25), T0, "time.start", "date"),
        (None, T0, "time.start", "NoneType"),
    ],
)
def test_non_datetime_is_rejected(start: object, end: object, field: str, type_name: str) -> None:
    with pytest.raises(InvalidVolume) as ei:
        TimeWindow(start, end)  # type: ignore[arg-type]
    assert ei.value.field == field
    assert ei.value.reason == f"must be a datetime, got {type_name}"


@pytest.mark.parametrize("delta", [timedelta(0), -timedelta(seconds=1), -timedelta(days=3)])
def test_start_not_before_end_is_rejected(delta: timedelta) -> None:
    with pytest.raises(InvalidVolume) as ei:
        TimeWindow(T0, T0 + delta)
    assert ei.value.field == "time.end"
    assert ei.value.reason == "must be after time.start"
    assert str(ei.value) == "time.end: must be after time.start"


def test_start_equal_to_end_in_different_offsets_is_rejected() -> None:
    with pytest.raises(InvalidVolume) as ei:
        TimeWindow(T0, T0.astimezone(PARIS_WINTER))
    assert ei.value.field == "time.end"


def test_invalid_volume_is_in_the_project_tree() -> None:
    with pytest.raises(DeconflictionError):
        TimeWindow(T0, T0)
    with pytest.raises(ValueError, match="must be after"):
        TimeWindow(T0, T0)


# -- from_epoch --------------------------------------------------------------------------


def test_from_epoch_values() -> None:
    win = TimeWindow.from_epoch(1795608000, 1795608000.5)
    assert win.start == T0
    assert win.end == T0 + timedelta(milliseconds=500)
    assert win.start.tzinfo is UTC
    assert win.duration_s == 0.5
    assert TimeWindow.from_epoch(-60, 0).start == datetime(1969, 12, 31, 23, 59, tzinfo=UTC)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("which", ["start", "end"])
def test_from_epoch_rejects_non_finite(bad: float, which: str) -> None:
    args = (bad, 60.0) if which == "start" else (0.0, bad)
    with pytest.raises(InvalidVolume) as ei:
        TimeWindow.from_epoch(*args)
    assert ei.value.field == f"time.{which}"
    assert ei.value.reason == "must be a finite number of seconds"


def test_from_epoch_rejects_start_after_end() -> None:
    with pytest.raises(InvalidVolume) as ei:
        TimeWindow.from_epoch(60, 0)
    assert ei.value.field == "time.end"


def test_from_epoch_out_of_datetime_range_is_invalid_volume() -> None:
    with pytest.raises(InvalidVolume) as ei:
        TimeWindow.from_epoch(0, 1e12)
    assert ei.value.field == "time.end"


def test_datetime_not_representable_in_utc_is_invalid_volume() -> None:
    late = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))
    with pytest.raises(InvalidVolume) as ei:
        TimeWindow(T0, late)
    assert ei.value.field == "time.end"


# -- gap_s -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "gap"),
    [
        ((0, 10), (15, 20), 5.0),
        ((15, 20), (0, 10), 5.0),
        ((0, 10), (10, 20), 0.0),  # touching
        ((0, 10), (5, 20), 0.0),  # overlapping
        ((0, 100), (20, 30), 0.0),  # contained
        ((0, 10), (0, 10), 0.0),
        ((0, 1), (86_400, 86_401), 86_399.0),
    ],
)
def test_gap_s(a: tuple[int, int], b: tuple[int, int], gap: float) -> None:
    assert w(*a).gap_s(w(*b)) == gap
    assert w(*b).gap_s(w(*a)) == gap


def test_gap_s_is_independent_of_input_offsets() -> None:
    a = TimeWindow(T0.astimezone(MINUS_0530), (T0 + timedelta(hours=1)).astimezone(MINUS_0530))
    b = TimeWindow(T0 + timedelta(hours=1, seconds=90), T0 + timedelta(hours=2))
    assert a.gap_s(b) == 90.0


# -- intersection ------------------------------------------------------------------------


def test_intersection_of_overlapping_windows() -> None:
    assert w(0, 10).intersection(w(5, 20)) == w(5, 10)
    assert w(5, 20).intersection(w(0, 10)) == w(5, 10)


def test_intersection_of_contained_window_is_the_inner_one() -> None:
    assert w(0, 100).intersection(w(20, 30)) == w(20, 30)
    assert w(0, 100).intersection(w(0, 100)) == w(0, 100)


@pytest.mark.parametrize(("a", "b"), [((0, 10), (10, 20)), ((0, 10), (11, 20)), ((30, 40), (0, 1))])
def test_intersection_of_touching_or_disjoint_windows_is_none(
    a: tuple[int, int], b: tuple[int, int]
) -> None:
    assert w(*a).intersection(w(*b)) is None
    assert w(*b).intersection(w(*a)) is None


# -- expanded ----------------------------------------------------------------------------


def test_expanded_widens_both_sides() -> None:
    win = TimeWindow(T0, T0 + timedelta(hours=1)).expanded(300)
    assert win.start == T0 - timedelta(minutes=5)
    assert win.end == T0 + timedelta(hours=1, minutes=5)
    assert win.duration_s == 3600.0 + 600.0


def test_expanded_by_zero_and_by_fraction() -> None:
    assert w(0, 10).expanded(0) == w(0, 10)
    assert w(0, 10).expanded(0.25) == w(-0.25, 10.25)


def test_expanded_negative_shrinks_and_collapse_is_rejected() -> None:
    assert w(0, 10).expanded(-2) == w(2, 8)
    with pytest.raises(InvalidVolume) as ei:
        w(0, 10).expanded(-5)
    assert ei.value.field == "time.end"


# -- value semantics ---------------------------------------------------------------------


def test_window_is_immutable() -> None:
    win = w(0, 10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        win.start = T0  # type: ignore[misc]
    # CPython 3.11 raises TypeError (not FrozenInstanceError) for a frozen slots dataclass's
    # unknown attribute; either way the object is unchanged.
    with pytest.raises((AttributeError, TypeError)):
        win.extra = 1  # type: ignore[attr-defined]
    assert win == w(0, 10)


def test_window_is_hashable_and_usable_as_key() -> None:
    a, b, c = w(0, 10), w(0, 10), w(0, 11)
    assert a == b
    assert a != c
    assert hash(a) == hash(b)
    assert len({a, b, c}) == 2
    assert {a: "x"}[b] == "x"
