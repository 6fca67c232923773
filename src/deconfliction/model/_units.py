"""Units accepted at the edges, as factors to SI (one place for every conversion).

Inside the package lengths are metres, speeds metres per second; the feet factor lives in
``geo`` (altitudes are geometry) and is re-used here.

>>> round(450 * KNOT_MPS, 3), round(2_000 * FEET_PER_MIN_MPS, 3)
(231.5, 10.16)
"""

from __future__ import annotations

from deconfliction.geo import FEET_TO_METRES

__all__ = ["FEET_PER_MIN_MPS", "FEET_TO_METRES", "KNOT_MPS", "NAUTICAL_MILE_M"]

NAUTICAL_MILE_M = 1852.0
"""International nautical mile, exact by definition."""

KNOT_MPS = NAUTICAL_MILE_M / 3600.0
"""One knot (nautical mile per hour) in metres per second."""

FEET_PER_MIN_MPS = FEET_TO_METRES / 60.0
"""One foot per minute (vertical rates) in metres per second."""
