"""Portable SQL expressions that SQLAlchemy Core does not provide.

:func:`seconds_between` is the time from one ``UtcDateTime`` column to another in seconds,
computed by the database (so that a query over many rows returns plain numbers instead of
datetimes to decode): ``EXTRACT(EPOCH FROM later - earlier)`` on PostgreSQL,
``(julianday(later) - julianday(earlier)) * 86400`` on SQLite (millisecond precision: SQLite
reads the first three decimals of the stored seconds).

>>> import sqlalchemy as sa
>>> from sqlalchemy.dialects import postgresql, sqlite
>>> t = sa.table("t", sa.column("a"), sa.column("b"))
>>> print(seconds_between(t.c.b, t.c.a).compile(dialect=sqlite.dialect()))
((julianday(t.b) - julianday(t.a)) * 86400.0)
>>> print(seconds_between(t.c.b, t.c.a).compile(dialect=postgresql.dialect()))
EXTRACT(EPOCH FROM (t.b - t.a))
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

__all__ = ["seconds_between"]


class _SecondsBetween(FunctionElement[float]):
    """``later - earlier`` in seconds (a float; NULL when either side is NULL)."""

    type = sa.Double()
    inherit_cache = True
    name = "seconds_between"


@compiles(_SecondsBetween)
def _default(element: _SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)}))"
    )


@compiles(_SecondsBetween, "sqlite")
def _sqlite(element: _SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"((julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)})) * 86400.0)"
    )


def seconds_between(later: ColumnElement[Any], earlier: ColumnElement[Any]) -> ColumnElement[float]:
    """Seconds from ``earlier`` to ``later`` (negative when ``later`` is before)."""
    return _SecondsBetween(later, earlier)
