"""Portable SQL expressions, evaluated by a real SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.store._functions import seconds_between
from deconfliction.store._types import UtcDateTime

_T = sa.table("t", sa.column("a", UtcDateTime()), sa.column("b", UtcDateTime()))


@pytest.fixture(scope="module")
def engine() -> sa.Engine:
    e = sa.create_engine("sqlite://")
    with e.begin() as c:
        c.execute(sa.text("CREATE TABLE t (a DATETIME, b DATETIME)"))
    return e


def _between(engine: sa.Engine, a: datetime | None, b: datetime | None) -> float | None:
    with engine.begin() as c:
        c.execute(sa.delete(_T))
        c.execute(sa.insert(_T).values(a=a, b=b))
        value = c.execute(sa.select(seconds_between(_T.c.b, _T.c.a))).scalar_one()
    return None if value is None else float(value)


T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


@given(st.integers(-30 * 86_400_000, 30 * 86_400_000))
def test_seconds_between_to_the_millisecond(engine: sa.Engine, ms: int) -> None:
    later = T0 + timedelta(milliseconds=ms)
    assert _between(engine, T0, later) == pytest.approx(ms / 1000, abs=5e-4)
    assert round(_between(engine, T0, later) or 0.0, 3) == ms / 1000


def test_null_when_either_side_is_null(engine: sa.Engine) -> None:
    assert _between(engine, T0, None) is None
    assert _between(engine, None, T0) is None
