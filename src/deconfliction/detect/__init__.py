"""Pure conflict detection over the geometry core (no I/O, no module-level state).

>>> from datetime import datetime, timezone, timedelta
>>> from deconfliction.geo import AltitudeBand, Buffers, Circle, TimeWindow, Volume4D, VolumeIndex
>>> t = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
>>> w = TimeWindow(t, t + timedelta(hours=1))
>>> index = VolumeIndex()
>>> hospital = Subject(SubjectKind.PROTECTED_SITE, "hospital-1", "red-crescent")
>>> index_subject(index, hospital, [Volume4D(Circle((10.0, 47.0), 300.0), AltitudeBand(0, 1_000), w)],
...               buffer_m=500.0)
>>> strike = [Volume4D(Circle((10.0, 47.01), 500.0), AltitudeBand(0, 3_000), w)]
>>> [c.subject.id for c in detect_conflicts(index, strike, "air-force", Buffers())]
['hospital-1']
"""

from deconfliction.detect._clearance import ClearanceNeed, Position, clearance_needs
from deconfliction.detect._strategic import (
    Conflict,
    Subject,
    SubjectKind,
    detect_conflicts,
    index_subject,
)

__all__ = [
    "ClearanceNeed",
    "Conflict",
    "Position",
    "Subject",
    "SubjectKind",
    "clearance_needs",
    "detect_conflicts",
    "index_subject",
]
