"""Altitudes as people type them: ``SFC``, ``FL95``, ``5000ft``, ``1500m`` (``1500``: m).

>>> altitude_property("FL95", "upper"), altitude_property("SFC", "lower")
(('altitude_upper_fl', 95.0), ('altitude_lower_m', 0.0))
>>> altitude_metres("5000ft", "upper")
1524.0
"""

from __future__ import annotations

import re

from deconfliction.errors import InvalidInput
from deconfliction.geo import FEET_TO_METRES

__all__ = ["METRES_PER", "altitude_metres", "altitude_property"]

METRES_PER = {"m": 1.0, "ft": FEET_TO_METRES, "fl": 100 * FEET_TO_METRES}
"""Metres per unit of the altitude properties' suffixes."""

_ALTITUDE = re.compile(
    r"^\s*(?:(SFC)|FL\s*(\d+(?:\.\d+)?)|(-?\d+(?:\.\d+)?)\s*(ft|m)?)\s*$", re.IGNORECASE
)


def altitude_property(text: str, which: str) -> tuple[str, float]:
    """The volume property ``text`` sets as the ``which`` ("lower" or "upper") bound."""
    m = _ALTITUDE.match(text)
    if m is None:
        raise InvalidInput(which, f"{text!r}: give SFC, FL<n>, <n>ft or <n>m")
    if m[1]:
        return f"altitude_{which}_m", 0.0
    if m[2]:
        return f"altitude_{which}_fl", float(m[2])
    return f"altitude_{which}_{(m[4] or 'm').lower()}", float(m[3])


def altitude_metres(text: str, which: str) -> float:
    """``text`` in metres (so bounds typed in different units can go together)."""
    key, value = altitude_property(text, which)
    return value * METRES_PER[key.rsplit("_", 1)[1]]
