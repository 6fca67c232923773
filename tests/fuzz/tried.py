"""The examples each fuzz target tried, counted as they run and printed at the end of the
session (``tests/conftest.py`` gathers the counts of pytest-xdist's worker processes)."""

from __future__ import annotations

from collections import Counter
from typing import Any

TRIED: Counter[str] = Counter()
"""Examples tried per fuzz target (the key names the target)."""


def report(terminalreporter: Any) -> None:
    """The counts, one line per target, and their total (answers by status not counted)."""
    if TRIED:
        terminalreporter.write_sep("-", "fuzz examples tried")
        for name, n in sorted(TRIED.items()):
            terminalreporter.write_line(f"{name}: {n}")
        total = sum(n for name, n in TRIED.items() if " answered " not in name)
        terminalreporter.write_line(f"total: {total}")
