"""Unit tests for deconfliction.geo._altitude (AltitudeBand, FEET_TO_METRES)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest

from deconfliction.errors import InvalidVolume
from deconfliction.geo import FEET_TO_METRES, AltitudeBand

Maker = Callable[[float, float], AltitudeBand]

MAKERS: list[tuple[Maker, str]] = [
    (AltitudeBand, "m"),
    (AltitudeBand.from_metres, "m"),
    (AltitudeBand.from_feet, "ft"),
    (AltitudeBand.from_flight_levels, "fl"),
]
MAKER_IDS = ["ctor", "metres", "feet", "flight-levels"]


def test_feet_to_metres_is_the_international_foot() -> None:
    assert FEET_TO_METRES == 0.3048


# -- values ------------------------------------------------------------------------------


def test_from_metres_stores_floats_unchanged() -> None:
    band = AltitudeBand.from_metres(0, 120)
    assert (band.lower_m, band.upper_m) == (0.0, 120.0)
    assert type(band.lower_m) is float
    assert type(band.upper_m) is float
    assert AltitudeBand.from_metres(-12.5, 33.25) == AltitudeBand(-12.5, 33.25)


@pytest.mark.parametrize(
    ("feet", "metres"),
    [
        ((0, 400), (0.0, 121.92)),
        ((1_000, 2_000), (304.8, 609.6)),
        ((-500, 1), (-152.4, 0.3048)),
        ((0.5, 10_000), (0.1524, 3048.0)),
    ],
)
def test_from_feet_values(feet: tuple[float, float], metres: tuple[float, float]) -> None:
    band = AltitudeBand.from_feet(*feet)
    assert (band.lower_m, band.upper_m) == metres


@pytest.mark.parametrize(
    ("levels", "metres"),
    [
        ((100, 200), (3048.0, 6096.0)),
        ((0, 50), (0.0, 1524.0)),
        ((-10, 5), (-304.8, 152.4)),
        ((245, 660), (7467.6, 20116.8)),
    ],
)
def test_from_flight_levels_values(
    levels: tuple[float, float], metres: tuple[float, float]
) -> None:
    band = AltitudeBand.from_flight_levels(*levels)
    assert (band.lower_m, band.upper_m) == metres


def test_feet_and_flight_levels_agree() -> None:
    assert AltitudeBand.from_flight_levels(10, 35) == AltitudeBand.from_feet(1_000, 3_500)


def test_numpy_floats_are_accepted() -> None:
    band = AltitudeBand(np.float64(10.0), np.float64(20.5))
    assert (band.lower_m, band.upper_m) == (10.0, 20.5)
    assert type(band.lower_m) is float


def test_limits_are_inclusive() -> None:
    band = AltitudeBand(-1_000, 1_000_000)
    assert (band.lower_m, band.upper_m) == (-1000.0, 1_000_000.0)


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "unit"), MAKERS, ids=MAKER_IDS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("which", ["lower", "upper"])
def test_non_finite_is_rejected(make: Maker, unit: str, bad: float, which: str) -> None:
    args = (bad, 10.0) if which == "lower" else (0.0, bad)
    with pytest.raises(InvalidVolume) as ei:
        make(*args)
    assert ei.value.field == f"altitude.{which}_{unit}"
    assert ei.value.reason == "must be finite (NaN and infinity are not altitudes)"


@pytest.mark.parametrize(("make", "unit"), MAKERS, ids=MAKER_IDS)
@pytest.mark.parametrize(
    ("bad", "type_name"),
    [(True, "bool"), (False, "bool"), ("100", "str"), (None, "NoneType"), ([1], "list")],
)
@pytest.mark.parametrize("which", ["lower", "upper"])
def test_non_number_is_rejected(
    make: Maker, unit: str, bad: object, type_name: str, which: str
) -> None:
    args = (bad, 10.0) if which == "lower" else (0.0, bad)
    with pytest.raises(InvalidVolume) as ei:
        make(*args)  # type: ignore[arg-type]
    assert ei.value.field == f"altitude.{which}_{unit}"
    assert ei.value.reason == f"must be a number, got {type_name}"


@pytest.mark.parametrize(
    ("lower", "upper", "field", "value"),
    [
        (-1_000.5, 0.0, "altitude.lower_m", "-1000.5"),
        (-5_000, 0.0, "altitude.lower_m", "-5000.0"),
        (0.0, 1_000_000.5, "altitude.upper_m", "1000000.5"),
        (0.0, 1e9, "altitude.upper_m", "1000000000.0"),
    ],
)
def test_out_of_range_metres_is_rejected(
    lower: float, upper: float, field: str, value: str
) -> None:
    with pytest.raises(InvalidVolume) as ei:
        AltitudeBand(lower, upper)
    assert ei.value.field == field
    assert ei.value.reason == f"{value} m is outside [-1000, 1e+06] m"


@pytest.mark.parametrize(
    ("make", "unit"),
    [(AltitudeBand.from_feet, "ft"), (AltitudeBand.from_flight_levels, "fl")],
    ids=["feet", "fl"],
)
def test_out_of_range_input_unit_is_rejected_on_its_own_field(make: Maker, unit: str) -> None:
    with pytest.raises(InvalidVolume) as ei:
        make(0, 4e6)
    # the range is checked on the converted value, in metres, but named in the input unit
    assert ei.value.field == f"altitude.upper_{unit}"
    assert "m is outside [-1000, 1e+06] m" in ei.value.reason


@pytest.mark.parametrize(("lower", "upper"), [(100.0, 100.0), (100.0, 99.999), (0, -1)])
def test_lower_not_below_upper_is_rejected(lower: float, upper: float) -> None:
    with pytest.raises(InvalidVolume) as ei:
        AltitudeBand(lower, upper)
    assert ei.value.field == "altitude.lower_m"
    assert ei.value.reason == "must be below altitude.upper_m"


@pytest.mark.parametrize(
    ("make", "unit"),
    [(AltitudeBand.from_feet, "ft"), (AltitudeBand.from_flight_levels, "fl")],
    ids=["feet", "fl"],
)
def test_converted_lower_not_below_upper_is_rejected(make: Maker, unit: str) -> None:
    # The check runs after conversion and currently names the metres field; naming the
    # caller's own field would be better (see the GeoJSON xfail), so accept either here.
    with pytest.raises(InvalidVolume) as ei:
        make(50, 50)
    assert ei.value.field in ("altitude.lower_m", f"altitude.lower_{unit}")
    assert ei.value.reason == "must be below altitude.upper_m"


def test_flight_level_range_is_checked_in_metres_after_conversion() -> None:
    # FL -40 is -1219.2 m, below the -1000 m floor.
    with pytest.raises(InvalidVolume) as ei:
        AltitudeBand.from_flight_levels(-40, 10)
    assert ei.value.field in ("altitude.lower_m", "altitude.lower_fl")
    assert "-1219.2 m is outside [-1000, 1e+06] m" in ei.value.reason
    assert AltitudeBand.from_flight_levels(-30, 0).lower_m == -914.4


def test_from_feet_accepts_values_within_the_metre_range() -> None:
    band = AltitudeBand.from_feet(-1_500, 0)
    assert band.lower_m == -457.2


def test_huge_integer_is_invalid_volume() -> None:
    with pytest.raises(InvalidVolume) as ei:
        AltitudeBand(0, 10**400)
    assert ei.value.field == "altitude.upper_m"


# -- gap_m -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "gap"),
    [
        ((0, 100), (150, 200), 50.0),
        ((0, 100), (100, 200), 0.0),  # touching
        ((0, 100), (50, 200), 0.0),  # overlapping
        ((0, 1_000), (10, 20), 0.0),  # contained
        ((-500, -400), (300.5, 301), 700.5),
    ],
)
def test_gap_m(a: tuple[float, float], b: tuple[float, float], gap: float) -> None:
    assert AltitudeBand(*a).gap_m(AltitudeBand(*b)) == gap
    assert AltitudeBand(*b).gap_m(AltitudeBand(*a)) == gap


# -- intersection ------------------------------------------------------------------------


def test_intersection_of_overlapping_bands() -> None:
    assert AltitudeBand(0, 100).intersection(AltitudeBand(50, 200)) == AltitudeBand(50, 100)
    assert AltitudeBand(50, 200).intersection(AltitudeBand(0, 100)) == AltitudeBand(50, 100)
    assert AltitudeBand(0, 1_000).intersection(AltitudeBand(10, 20)) == AltitudeBand(10, 20)


@pytest.mark.parametrize(("a", "b"), [((0, 100), (100, 200)), ((0, 100), (101, 200))])
def test_intersection_of_touching_or_disjoint_bands_is_none(
    a: tuple[float, float], b: tuple[float, float]
) -> None:
    assert AltitudeBand(*a).intersection(AltitudeBand(*b)) is None
    assert AltitudeBand(*b).intersection(AltitudeBand(*a)) is None


# -- value semantics ---------------------------------------------------------------------


def test_band_is_immutable_and_hashable() -> None:
    band = AltitudeBand(0, 100)
    with pytest.raises(dataclasses.FrozenInstanceError):
        band.lower_m = 5.0  # type: ignore[misc]
    assert band.lower_m == 0.0
    assert hash(band) == hash(AltitudeBand(0.0, 100.0))
    assert len({band, AltitudeBand(0, 100), AltitudeBand(0, 101)}) == 2
