"""Human-readable output: tables, durations, times; and ``--json`` output.

>>> fmt_duration(59.4), fmt_duration(3 * 3600 + 90), fmt_duration(2 * 86400 + 7200)
('59 s', '3 h 1 min', '2 d 2 h')
>>> fmt_duration(-125)
'-2 min 5 s'
>>> fmt_time("2026-11-25T20:31:14.123Z")
'2026-11-25 20:31:14Z'
>>> print(table(["ID", "NAME"], [["1", "Blue"], ["22", "Red"]]))
ID  NAME
1   Blue
22  Red
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from deconfliction.hotline import duration_text, time_text

__all__ = ["fmt_duration", "fmt_time", "print_json", "table"]


def fmt_duration(seconds: float) -> str:
    """A duration for people: ``59 s``, ``12 min 5 s``, ``3 h 1 min``, ``2 d 2 h``."""
    return duration_text(seconds)


def fmt_time(iso: str | None) -> str:
    """``2026-11-25T20:31:14.123Z`` → ``2026-11-25 20:31:14Z`` (None → ``-``)."""
    return time_text(iso)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces (no trailing blanks)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def print_json(obj: Any, out: TextIO | None = None) -> None:
    """``obj`` as indented JSON."""
    print(json.dumps(obj, indent=2, ensure_ascii=False), file=out or sys.stdout)
