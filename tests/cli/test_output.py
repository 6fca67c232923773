"""Tables, durations and times for people."""

from __future__ import annotations

import pytest

from deconfliction.cli._output import fmt_duration, fmt_time, table


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (59.4, "59 s"),
        (60, "1 min"),
        (3600, "1 h"),
        (86_400 * 3 + 1800, "3 d"),
        (-90, "-1 min 30 s"),
        (172_800, "2 d"),
    ],
)
def test_fmt_duration(seconds: float, text: str) -> None:
    assert fmt_duration(seconds) == text


def test_fmt_time_and_table() -> None:
    assert fmt_time(None) == "-"
    assert fmt_time("2026-11-25T20:31:14Z") == "2026-11-25 20:31:14Z"
    assert table(["A", "B"], []) == "A  B"
    assert table(["A", "LONG"], [["xyz", ""]]).splitlines() == ["A    LONG", "xyz"]
