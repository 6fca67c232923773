"""Pure conflict detection over the geometry core (no I/O, no module-level state).

Strategic: activities and protected sites against each other (:func:`detect_conflicts`).
Tactical: live tracks (:class:`TrackSet`) each cycle — proximity between parties' tracks,
incursion into other parties' active volumes, conformance to one's own
(:func:`tactical_cycle`), made stateful by an :class:`AlertBook`; sharded by region
across hub nodes with a :class:`ShardGrid` (:func:`owner`, :func:`pair_cell`).

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

from deconfliction.detect._alerts import (
    CONTINGENT_AFTER_S,
    Alert,
    AlertBook,
    AlertKind,
    BookUpdate,
)
from deconfliction.detect._clearance import ClearanceNeed, Position, clearance_needs
from deconfliction.detect._conformance import ConformanceResult, check_conformance
from deconfliction.detect._incursion import IncursionResult, detect_incursions
from deconfliction.detect._proximity import (
    ProximityResult,
    ProximityRules,
    Separation,
    detect_proximity,
)
from deconfliction.detect._shards import CellSets, ShardGrid, alert_cell, owner, pair_cell
from deconfliction.detect._strategic import (
    Conflict,
    Subject,
    SubjectKind,
    detect_conflicts,
    index_subject,
)
from deconfliction.detect._tactical import TacticalConfig, TacticalCycle, tactical_cycle
from deconfliction.detect._tracks import NO_ACTIVITY, TrackSet
from deconfliction.detect._volumes import ActivityVolumes, VolumeSet

__all__ = [
    "CONTINGENT_AFTER_S",
    "NO_ACTIVITY",
    "ActivityVolumes",
    "Alert",
    "AlertBook",
    "AlertKind",
    "BookUpdate",
    "CellSets",
    "ClearanceNeed",
    "Conflict",
    "ConformanceResult",
    "IncursionResult",
    "Position",
    "ProximityResult",
    "ProximityRules",
    "Separation",
    "ShardGrid",
    "Subject",
    "SubjectKind",
    "TacticalConfig",
    "TacticalCycle",
    "TrackSet",
    "VolumeSet",
    "alert_cell",
    "check_conformance",
    "clearance_needs",
    "detect_conflicts",
    "detect_incursions",
    "detect_proximity",
    "index_subject",
    "owner",
    "pair_cell",
    "tactical_cycle",
]
