"""Conformance: a track linked to its party's active activity but outside all its volumes.

A linked track *conforms* when, at ``now``, at least one of its activity's volumes is in
its time window and holds the track: horizontally within ``tolerance_m`` of the footprint
(geodesic, decided by :func:`~deconfliction.detect._volumes.path_within` on a path of no
length) and vertically within ``vertical_tolerance_m`` of the band. Otherwise it is
*non-conforming*, reported with its position. An activity between two of its windows has
no current volume, so its tracks do not conform.

Only tracks linked to an activity of the :class:`~deconfliction.detect._volumes.
VolumeSet` (the active ones) declared by the track's own party are checked: a link to an
unknown, inactive or other party's activity is not this check's business.

The 60-second step to *contingent* needs memory across cycles and lives in
:class:`~deconfliction.detect._alerts.AlertBook`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deconfliction.detect._tracks import NO_ACTIVITY, TrackSet
from deconfliction.detect._volumes import VolumeSet, path_within
from deconfliction.errors import InvalidInput

__all__ = [
    "DEFAULT_TOLERANCE_M",
    "DEFAULT_VERTICAL_TOLERANCE_M",
    "ConformanceResult",
    "check_conformance",
]

Array = NDArray[np.float64]
Codes = NDArray[np.int64]

DEFAULT_TOLERANCE_M = 926.0
"""0.5 NM."""
DEFAULT_VERTICAL_TOLERANCE_M = 91.44
"""300 ft."""


@dataclass(frozen=True, slots=True)
class ConformanceResult:
    """Non-conforming tracks, sorted (``track`` indexes the TrackSet, ``activity`` the
    VolumeSet's list); ``checked`` counts the linked tracks that were checked."""

    track: Codes
    activity: Codes
    checked: int = 0

    def __len__(self) -> int:
        return len(self.track)


def check_conformance(
    tracks: TrackSet,
    volumes: VolumeSet,
    now_s: float,
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    vertical_tolerance_m: float = DEFAULT_VERTICAL_TOLERANCE_M,
) -> ConformanceResult:
    """The linked tracks that are outside every volume of their activity (see above)."""
    if not (tolerance_m >= 0 and vertical_tolerance_m >= 0):
        raise InvalidInput("tolerance_m", "tolerances must be ≥ 0")
    empty = np.empty(0, dtype=np.int64)
    if not len(tracks) or not volumes.activities:
        return ConformanceResult(empty, empty.copy())
    # the VolumeSet's activity index of each track's link (−1: none or not active)
    act_index = {a.activity: k for k, a in enumerate(volumes.activities)}
    link = np.array(
        [act_index.get(a, NO_ACTIVITY) for a in tracks.activities] or [NO_ACTIVITY],
        dtype=np.int64,
    )
    linked = np.flatnonzero(tracks.activity != NO_ACTIVITY)
    act = link[tracks.activity[linked]]
    keep = act != NO_ACTIVITY
    linked, act = linked[keep], act[keep]
    act_party = volumes.party_codes(tracks.parties)
    owner = np.full(len(volumes.activities), -2, dtype=np.int64)
    owner[volumes.activity] = act_party
    keep = owner[act] == tracks.party[linked]
    linked, act = linked[keep], act[keep]
    if not len(linked):
        return ConformanceResult(empty, empty.copy())
    # (track, volume) pairs: every volume of the track's activity (volumes are grouped
    # by activity in the VolumeSet, in order)
    starts = np.searchsorted(volumes.activity, np.arange(len(volumes.activities)))
    counts = np.bincount(volumes.activity, minlength=len(volumes.activities))
    n_v = counts[act]
    ti = np.repeat(linked, n_v)
    vi = np.arange(int(n_v.sum())) + np.repeat(starts[act] - (np.cumsum(n_v) - n_v), n_v)
    alt = tracks.alt_m[ti]
    ok = (
        (volumes.t_start[vi] <= now_s)
        & (now_s <= volumes.t_end[vi])
        & (alt >= volumes.alt_lo[vi] - vertical_tolerance_m)
        & (alt <= volumes.alt_hi[vi] + vertical_tolerance_m)
    )
    cand = np.flatnonzero(ok)
    if len(cand):
        x, y = volumes.project(tracks.lon[ti[cand]], tracks.lat[ti[cand]], vi[cand])
        zero = np.zeros(len(cand))
        inside, _ = path_within(volumes, vi[cand], x, y, x, y, zero, zero, tolerance_m)
        ok[cand] = inside
    conforming = np.zeros(len(tracks), dtype=bool)
    conforming[ti[ok]] = True
    bad = ~conforming[linked]
    return ConformanceResult(linked[bad], act[bad], len(linked))
