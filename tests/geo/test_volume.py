"""Unit tests for deconfliction.geo._volume (Volume4D, Buffers, Limits, check_limits)."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from deconfliction.errors import InvalidVolume
from deconfliction.geo import (
    DEFAULT_LIMITS,
    AltitudeBand,
    Buffers,
    Circle,
    Limits,
    Polygon,
    TimeWindow,
    Volume4D,
    check_limits,
)

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)
BAND = AltitudeBand(0, 500)
HOUR = TimeWindow(T0, T0 + timedelta(hours=1))
CIRCLE = Circle((10.0, 47.0), 1_000.0)
SQUARE = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])  # about 12,309 km²


def vol(footprint: Circle | Polygon = CIRCLE, time: TimeWindow = HOUR) -> Volume4D:
    return Volume4D(footprint, BAND, time)


# -- Volume4D ----------------------------------------------------------------------------


def test_volume_holds_its_parts() -> None:
    v = Volume4D(SQUARE, BAND, HOUR)
    assert v.footprint is SQUARE
    assert v.altitude is BAND
    assert v.time is HOUR
    assert v == Volume4D(Polygon([(0, 0), (0, 1), (1, 1), (1, 0)]), AltitudeBand(0, 500), HOUR)
    assert hash(v) == hash(Volume4D(SQUARE, BAND, HOUR))
    assert v != vol()


@pytest.mark.parametrize(
    ("footprint", "altitude", "time", "field", "reason"),
    [
        ("circle", BAND, HOUR, "footprint", "must be a Polygon or a Circle"),
        (None, BAND, HOUR, "footprint", "must be a Polygon or a Circle"),
        ([(0, 0), (1, 0), (1, 1)], BAND, HOUR, "footprint", "must be a Polygon or a Circle"),
        (CIRCLE, (0, 500), HOUR, "altitude", "must be an AltitudeBand"),
        (CIRCLE, None, HOUR, "altitude", "must be an AltitudeBand"),
        (CIRCLE, BAND, (T0, T0 + timedelta(hours=1)), "time", "must be a TimeWindow"),
        (CIRCLE, BAND, BAND, "time", "must be a TimeWindow"),
        (BAND, CIRCLE, HOUR, "footprint", "must be a Polygon or a Circle"),
    ],
)
def test_volume_type_checks(
    footprint: object, altitude: object, time: object, field: str, reason: str
) -> None:
    with pytest.raises(InvalidVolume) as ei:
        Volume4D(footprint, altitude, time)  # type: ignore[arg-type]
    assert ei.value.field == field
    assert ei.value.reason == reason


def test_volume_is_immutable() -> None:
    v = vol()
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.altitude = AltitudeBand(0, 1)  # type: ignore[misc]
    assert v.altitude == BAND


# -- Buffers -----------------------------------------------------------------------------


def test_buffers_default_to_zero() -> None:
    b = Buffers()
    assert (b.horizontal_m, b.vertical_m, b.time_s) == (0.0, 0.0, 0.0)


def test_buffers_store_floats() -> None:
    b = Buffers(horizontal_m=9260, vertical_m=304.8, time_s=np.float64(300.0))
    assert (b.horizontal_m, b.vertical_m, b.time_s) == (9260.0, 304.8, 300.0)
    assert all(type(x) is float for x in (b.horizontal_m, b.vertical_m, b.time_s))
    assert Buffers(1, 2, 3) == Buffers(1.0, 2.0, 3.0)
    assert hash(Buffers(1, 2, 3)) == hash(Buffers(1.0, 2.0, 3.0))


@pytest.mark.parametrize("name", ["horizontal_m", "vertical_m", "time_s"])
@pytest.mark.parametrize(
    "bad", [-1.0, -1e-9, -1, math.nan, math.inf, -math.inf, True, False, "5", None]
)
def test_buffers_reject_bad_values(name: str, bad: object) -> None:
    with pytest.raises(InvalidVolume) as ei:
        Buffers(**{name: bad})  # type: ignore[arg-type]
    assert ei.value.field == f"buffers.{name}"
    assert ei.value.reason == "must be a finite number ≥ 0"


def test_buffers_report_the_first_bad_field() -> None:
    with pytest.raises(InvalidVolume) as ei:
        Buffers(horizontal_m=1.0, vertical_m=-1.0, time_s=-1.0)
    assert ei.value.field == "buffers.vertical_m"


def test_buffers_reject_huge_integer() -> None:
    with pytest.raises(InvalidVolume) as ei:
        Buffers(horizontal_m=10**400)
    assert ei.value.field == "buffers.horizontal_m"


def test_buffers_are_immutable() -> None:
    b = Buffers(1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.time_s = 5.0  # type: ignore[misc]
    assert b.time_s == 0.0


# -- Limits and check_limits -------------------------------------------------------------


def test_default_limits() -> None:
    assert Limits() == DEFAULT_LIMITS
    assert DEFAULT_LIMITS.max_area_m2 == 1.0e12
    assert DEFAULT_LIMITS.max_radius_m == 1_500_000.0
    assert DEFAULT_LIMITS.max_duration_s == 30 * 86_400.0


def test_ordinary_volumes_pass_the_default_limits() -> None:
    assert check_limits(vol()) is None
    assert check_limits(vol(SQUARE)) is None
    assert check_limits(vol(Circle((0.0, 90.0), 500_000.0))) is None


def test_circle_radius_cap() -> None:
    limits = Limits(max_radius_m=1_000.0)
    assert check_limits(vol(Circle((10.0, 47.0), 1_000.0)), limits) is None
    with pytest.raises(InvalidVolume) as ei:
        check_limits(vol(Circle((10.0, 47.0), 1_000.5)), limits)
    assert ei.value.field == "footprint.radius_m"
    assert ei.value.reason == "1000.5 m is above the cap of 1000 m"


def test_circle_radius_default_cap() -> None:
    with pytest.raises(InvalidVolume) as ei:
        check_limits(vol(Circle((10.0, 47.0), 1_600_000.0)))
    assert ei.value.field == "footprint.radius_m"
    assert ei.value.reason == "1.6e+06 m is above the cap of 1.5e+06 m"


def test_polygon_radius_cap() -> None:
    radius = SQUARE.radius_m
    assert 78_000 < radius < 80_000
    assert check_limits(vol(SQUARE), Limits(max_radius_m=radius)) is None
    with pytest.raises(InvalidVolume) as ei:
        check_limits(vol(SQUARE), Limits(max_radius_m=50_000.0))
    assert ei.value.field == "footprint.vertices"
    assert (
        ei.value.reason == f"extends {radius / 1000:.1f} km from its centre, above the cap of 50 km"
    )


@pytest.mark.parametrize("fp", [SQUARE, Circle((10.0, 47.0), 65_000.0)], ids=["polygon", "circle"])
def test_area_cap(fp: Circle | Polygon) -> None:
    area = fp.area_m2
    assert 1.5e10 > area > 1.2e10
    assert check_limits(vol(fp), Limits(max_area_m2=area)) is None
    with pytest.raises(InvalidVolume) as ei:
        check_limits(vol(fp), Limits(max_area_m2=1e10))
    assert ei.value.field == "footprint"
    assert ei.value.reason == f"area {area / 1e6:.3g} km² is above the cap of 10000 km²"


def test_area_cap_doc_example() -> None:
    with pytest.raises(InvalidVolume) as ei:
        check_limits(vol(), Limits(max_area_m2=1e6))
    assert str(ei.value) == "footprint: area 3.14 km² is above the cap of 1 km²"


def test_radius_is_checked_before_area() -> None:
    with pytest.raises(InvalidVolume) as ei:
        check_limits(vol(), Limits(max_area_m2=1.0, max_radius_m=1.0))
    assert ei.value.field == "footprint.radius_m"


def test_duration_cap() -> None:
    thirty_days = TimeWindow(T0, T0 + timedelta(days=30))
    assert check_limits(vol(time=thirty_days)) is None
    with pytest.raises(InvalidVolume) as ei:
        check_limits(vol(time=TimeWindow(T0, T0 + timedelta(days=30, seconds=1))))
    assert ei.value.field == "time.end"
    assert ei.value.reason == "window of 30.0 days is longer than the cap of 30 days"


def test_duration_custom_cap() -> None:
    with pytest.raises(InvalidVolume) as ei:
        check_limits(vol(), Limits(max_duration_s=1800.0))
    assert ei.value.field == "time.end"
    assert ei.value.reason == "window of 0.0 days is longer than the cap of 0.0208333 days"
