"""Small validators shared by the entities (each raises InvalidInput naming the field)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from deconfliction.errors import InvalidInput

__all__ = ["CONTROL", "aware", "enum_value", "text"]

E = TypeVar("E", bound=StrEnum)

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
"""Control characters other than tab (\\x09) and newline (\\x0a)."""


def text(value: object, field: str, *, max_len: int, required: bool = True) -> str:
    """A stripped string of at most ``max_len`` characters, without control characters."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidInput(field, "must not be empty")
    if len(value) > max_len:
        raise InvalidInput(field, f"must be at most {max_len} characters")
    if CONTROL.search(value):
        raise InvalidInput(field, "must not contain control characters")
    return value


def enum_value(enum: type[E], value: object, field: str) -> E:
    """``value`` as a member of ``enum`` (accepts the member or its string value)."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    allowed = ", ".join(m.value for m in enum)
    raise InvalidInput(field, f"must be one of: {allowed}")


def aware(value: object, field: str) -> datetime:
    """An aware datetime converted to UTC (a naive one is an error, never a guess)."""
    if not isinstance(value, datetime):
        raise InvalidInput(field, "must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "naive datetime: a timezone (UTC) is required")
    return value.astimezone(UTC)
