"""F3548 Volume4D → the hub's volumes (and back for times), and which extents meet: the
decision is checked against a brute-force oracle (every pair through geo.overlap), alone
and through the store's time prefilter as a query runs it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from deconfliction.errors import InvalidInput
from deconfliction.geo import Circle, Polygon, overlap
from deconfliction.interop._dss_core import OPERATIONAL_INTENT, DssCore
from deconfliction.interop._dss_volumes import (
    ALTITUDE_RANGE_M,
    TIME_RANGE,
    Volume4DIn,
    extents_meet,
    time_json,
    to_volume,
)
from deconfliction.store import (
    DssEntityRow,
    SqlStore,
    delete_dss_entity,
    dss_entities_between,
    open_store,
    put_dss_entity,
    sqlite_url,
)
from tests.interop.dss_support import alt, circle, square
from tests.strategies import EPOCH, scenes


def _v(d: dict[str, Any]) -> Volume4DIn:
    return Volume4DIn.model_validate(d)


def test_a_circle_converts_exactly() -> None:
    start = datetime(2026, 12, 1, 10, tzinfo=UTC)
    v = to_volume(_v(circle(2.35, 48.85, 750, start=start, minutes=30, lo=10, hi=90)), "x")
    assert v.footprint == Circle((2.35, 48.85), 750.0)
    assert (v.altitude.lower_m, v.altitude.upper_m) == (10.0, 90.0)
    assert (v.time.start, v.time.end) == (start, start + timedelta(minutes=30))
    assert time_json(v.time.start) == {"value": "2026-12-01T10:00:00Z", "format": "RFC3339"}


def test_a_polygon_converts_with_lng_lat_order() -> None:
    v = to_volume(_v(square(10.0, 50.0, 0.01)), "x")
    assert isinstance(v.footprint, Polygon)
    assert sorted(v.footprint.vertices) == sorted(
        [(9.99, 49.99), (10.01, 49.99), (10.01, 50.01), (9.99, 50.01)]
    )


def test_an_offset_time_is_read_as_utc() -> None:
    d = circle(0, 0)
    d["time_start"]["value"] = "2026-12-01T12:00:00+02:00"
    d["time_end"]["value"] = "2026-12-01T11:00:00Z"
    v = to_volume(_v(d), "x")
    assert v.time.start == datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["volume"].pop("outline_circle"), "x.volume"),
        (lambda d: d["volume"].update(square(0, 0)["volume"]), "x.volume"),
        (lambda d: d["volume"].pop("altitude_upper"), "x.volume.altitude_lower"),
        (lambda d: d.pop("time_end"), "x.time_start"),
        (lambda d: d["time_start"].update(value="tomorrow"), "x.time_start.value"),
        (lambda d: d["time_start"].update(value="2026-12-01T10:00:00"), "x.time_start.value"),
        (lambda d: d["volume"].update(altitude_lower=alt(-2000)), "x.volume.altitude_lower"),
        (lambda d: d["volume"].update(altitude_lower=alt(500)), "x.volume.altitude_lower"),
        (lambda d: d.update(time_end=d["time_start"]), "x.time_end"),
        (
            lambda d: d["volume"]["outline_circle"]["radius"].update(value=5e6),
            "x.volume.outline_circle",
        ),
    ],
)
def test_what_a_write_cannot_take_is_refused_with_the_field(change: Any, field: str) -> None:
    d = circle(0.0, 0.0)
    change(d)
    with pytest.raises(InvalidInput) as e:
        to_volume(_v(d), "x")
    assert e.value.field == field


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["volume"]["altitude_lower"].update(reference="SFC"),
        lambda d: d["volume"]["altitude_lower"].update(units="FT"),
        lambda d: d["volume"]["outline_circle"]["radius"].update(units="NM"),
        lambda d: d["time_start"].update(format="ISO8601"),
        lambda d: d["volume"]["outline_circle"]["center"].update(lat=91),
    ],
)
def test_units_and_references_other_than_the_interfaces_are_malformed(change: Any) -> None:
    d = circle(0.0, 0.0)
    change(d)
    with pytest.raises(ValidationError):
        _v(d)


def test_an_area_of_interest_may_omit_times_and_altitudes() -> None:
    d = circle(0.0, 0.0, lo=None, hi=None)
    del d["time_start"], d["time_end"]
    v = to_volume(_v(d), "aoi", start=TIME_RANGE[0], end=TIME_RANGE[1], altitudes=ALTITUDE_RANGE_M)
    assert (v.altitude.lower_m, v.altitude.upper_m) == ALTITUDE_RANGE_M
    assert (v.time.start, v.time.end) == TIME_RANGE


@given(scenes(max_size=8), st.integers(0, 8))
def test_extents_meet_as_the_brute_force_oracle(scene: list[Any], cut: int) -> None:
    a, b = scene[: max(1, min(cut, len(scene) - 1))], scene[max(1, min(cut, len(scene) - 1)) :]
    if not b:
        b = a
    oracle = any(overlap(x, y) is not None for x in a for y in b)
    assert extents_meet(a, b) == oracle
    assert extents_meet(b, a) == oracle


@pytest.fixture(scope="module")
def store() -> Iterator[SqlStore]:
    with tempfile.TemporaryDirectory() as d, open_store(sqlite_url(Path(d))) as s:
        yield s


@given(scene=scenes(max_size=10), now_s=st.floats(0, 2 * 86_400))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_query_finds_exactly_the_intents_an_oracle_finds(
    store: SqlStore, scene: list[Any], now_s: float
) -> None:
    """Stored references (one volume each, the last one the area of interest) through the
    store's time prefilter and :func:`extents_meet`: the same set as every pair through
    geo.overlap, less those already ended."""
    *stored, aoi = scene
    now = datetime.fromtimestamp(EPOCH + now_s, UTC)
    rows = [
        DssEntityRow(uuid4(), OPERATIONAL_INTENT, "u", 1, "o" * 16, "https://u", (v,), now)
        for v in stored
    ]
    with store.transaction() as tx:
        for e in dss_entities_between(tx, OPERATIONAL_INTENT, *TIME_RANGE):
            delete_dss_entity(tx, e.id)
        for r in rows:
            put_dss_entity(tx, r)
    with store.read() as tx:
        got = {e.id for e in DssCore(lambda: None).meeting(tx, OPERATIONAL_INTENT, [aoi], now)}
    want = {
        r.id
        for r in rows
        if r.extents[0].time.end >= now and overlap(r.extents[0], aoi) is not None
    }
    assert got == want
