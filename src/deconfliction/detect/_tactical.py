"""The tactical engine: one cycle of every check over all tracks, as alerts.

:func:`tactical_cycle` dead-reckons the tracks to ``now``, runs proximity, incursion and
conformance (each vectorised over all tracks), and returns a :class:`TacticalCycle` with
the columnar results, the time each check took, and :meth:`TacticalCycle.alerts` —
:class:`~deconfliction.detect._alerts.Alert` objects with stable keys that an
:class:`~deconfliction.detect._alerts.AlertBook` turns into raised / updated / cleared.

>>> from datetime import datetime, timedelta, timezone
>>> from deconfliction.geo import AltitudeBand, Circle, TimeWindow, Volume4D
>>> from deconfliction.detect import ActivityVolumes, TrackSet, VolumeSet, tactical_cycle
>>> now = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
>>> zone = Volume4D(Circle((2.3, 48.0), 5_000.0), AltitudeBand(0, 12_000),
...                 TimeWindow(now, now + timedelta(hours=1)))
>>> volumes = VolumeSet([ActivityVolumes("live-fire-1", "army", [zone])])
>>> tracks = TrackSet.from_columns(
...     ids=["AF123"], party=["civil"], lat=[48.0], lon=[2.0], alt_m=[9_000.0],
...     gs_mps=[220.0], trk_deg=[90.0], vs_mps=[0.0], time_s=[now.timestamp()])
>>> cycle = tactical_cycle(tracks, volumes, now.timestamp())
>>> [(a.kind.value, a.key, round(a.time_to_s)) for a in cycle.alerts()]
[('incursion', ('incursion', 'AF123', 'live-fire-1'), 79)]
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from deconfliction.detect._alerts import Alert, AlertKind
from deconfliction.detect._conformance import (
    DEFAULT_TOLERANCE_M,
    DEFAULT_VERTICAL_TOLERANCE_M,
    ConformanceResult,
    check_conformance,
)
from deconfliction.detect._incursion import IncursionResult, detect_incursions
from deconfliction.detect._proximity import ProximityResult, ProximityRules, detect_proximity
from deconfliction.detect._tracks import TrackSet, check_lookahead
from deconfliction.detect._volumes import VolumeSet

__all__ = ["TacticalConfig", "TacticalCycle", "tactical_cycle"]


@dataclass(frozen=True, slots=True)
class TacticalConfig:
    """Settings of a cycle (defaults: DESIGN.md §5)."""

    lookahead_s: float = 120.0
    proximity: ProximityRules = field(default_factory=ProximityRules)
    incursion_buffer_m: float = 0.0
    incursion_vertical_buffer_m: float = 0.0
    conformance_tolerance_m: float = DEFAULT_TOLERANCE_M
    conformance_vertical_tolerance_m: float = DEFAULT_VERTICAL_TOLERANCE_M

    def __post_init__(self) -> None:
        check_lookahead(self.lookahead_s)


@dataclass(frozen=True, slots=True)
class TacticalCycle:
    """The outcome of one cycle (indices refer to :attr:`tracks`, at ``now_s``)."""

    now_s: float
    tracks: TrackSet
    volumes: VolumeSet
    proximity: ProximityResult
    incursions: IncursionResult
    nonconforming: ConformanceResult
    timings_s: Mapping[str, float]
    """Seconds per step: ``advance``, ``proximity``, ``incursion``, ``conformance``."""

    def _position(self, i: int) -> tuple[float, float, float]:
        t = self.tracks
        return float(t.lon[i]), float(t.lat[i]), float(t.alt_m[i])

    def alerts(self) -> list[Alert]:
        """Every finding as an :class:`Alert`: proximity, then incursion, then
        non-conformance, each in the order of its result."""
        t, vols = self.tracks, self.volumes
        ids, parties = t.ids, t.parties
        out: list[Alert] = []
        p = self.proximity
        for k in range(len(p)):
            i, j = int(p.i[k]), int(p.j[k])
            if repr(ids[j]) < repr(ids[i]):
                i, j = j, i
            out.append(
                Alert(
                    AlertKind.PROXIMITY,
                    (AlertKind.PROXIMITY.value, ids[i], ids[j]),
                    (parties[t.party[i]], parties[t.party[j]]),
                    (ids[i], ids[j]),
                    time_to_s=float(p.time_to_loss_s[k]),
                    cpa_time_s=float(p.cpa_time_s[k]),
                    cpa_distance_m=float(p.cpa_distance_m[k]),
                    cpa_vertical_m=float(p.cpa_vertical_m[k]),
                    position=self._position(i),
                )
            )
        inc = self.incursions
        for k in range(len(inc)):
            i = int(inc.track[k])
            act = vols.activities[int(inc.activity[k])]
            out.append(
                Alert(
                    AlertKind.INCURSION,
                    (AlertKind.INCURSION.value, ids[i], act.activity),
                    (parties[t.party[i]], act.party),
                    (ids[i],),
                    activity=act.activity,
                    volume=int(inc.volume[k]),
                    time_to_s=float(inc.time_to_entry_s[k]),
                    position=self._position(i),
                )
            )
        nc = self.nonconforming
        for k in range(len(nc)):
            i = int(nc.track[k])
            act = vols.activities[int(nc.activity[k])]
            out.append(
                Alert(
                    AlertKind.NON_CONFORMING,
                    (AlertKind.NON_CONFORMING.value, ids[i], act.activity),
                    (act.party,),
                    (ids[i],),
                    activity=act.activity,
                    position=self._position(i),
                )
            )
        return out


def tactical_cycle(
    tracks: TrackSet,
    volumes: VolumeSet,
    now_s: float,
    config: TacticalConfig | None = None,
) -> TacticalCycle:
    """Run every tactical check once at ``now_s`` (tracks are dead-reckoned to it)."""
    cfg = config or TacticalConfig()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    at_now = tracks.advanced_to(now_s)
    t1 = time.perf_counter()
    prox = detect_proximity(at_now, lookahead_s=cfg.lookahead_s, rules=cfg.proximity)
    t2 = time.perf_counter()
    inc = detect_incursions(
        at_now,
        volumes,
        now_s,
        lookahead_s=cfg.lookahead_s,
        buffer_m=cfg.incursion_buffer_m,
        vertical_buffer_m=cfg.incursion_vertical_buffer_m,
    )
    t3 = time.perf_counter()
    conf = check_conformance(
        at_now,
        volumes,
        now_s,
        tolerance_m=cfg.conformance_tolerance_m,
        vertical_tolerance_m=cfg.conformance_vertical_tolerance_m,
    )
    t4 = time.perf_counter()
    timings.update(advance=t1 - t0, proximity=t2 - t1, incursion=t3 - t2, conformance=t4 - t3)
    return TacticalCycle(float(now_s), at_now, volumes, prox, inc, conf, timings)
