"""Portable column types.

:class:`UtcDateTime` stores aware datetimes as UTC and always returns aware UTC datetimes:
``TIMESTAMP WITH TIME ZONE`` on PostgreSQL; on databases without a time zone type (SQLite)
the UTC wall time is stored and UTC is attached again on the way out. A naive datetime is
rejected, never guessed (DESIGN.md §4).

>>> from datetime import datetime, timezone, timedelta
>>> t = UtcDateTime()
>>> t.process_bind_param(datetime(2026, 1, 1, 13, tzinfo=timezone(timedelta(hours=1))), None)
datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)
>>> t.process_result_value(datetime(2026, 1, 1, 12), None)
datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)
>>> t.process_bind_param(datetime(2026, 1, 1, 12), None)
Traceback (most recent call last):
...
deconfliction.errors.InvalidInput: datetime: naive datetime: a timezone (UTC) is required
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from deconfliction.errors import InvalidInput

__all__ = ["UtcDateTime", "utc"]


def utc(value: object, field: str = "datetime") -> datetime:
    """``value`` as an aware UTC datetime; raises :class:`InvalidInput` naming ``field``."""
    if not isinstance(value, datetime):
        raise InvalidInput(field, f"must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "naive datetime: a timezone (UTC) is required")
    return value.astimezone(UTC)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC datetime column (naive datetimes are an error)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Check the value is aware and convert it to UTC."""
        return None if value is None else utc(value)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        """An aware UTC datetime (a stored value without a zone is UTC by construction)."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
