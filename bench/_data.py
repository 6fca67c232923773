"""Synthetic volumes for the strategic benchmark (deterministic for a seed).

Volumes sit in a 1,500 km × 1,500 km region centred on (10° E, 47° N): footprints 0.5–80 km
across (star-shaped geodesic polygons of 3–60 vertices, one in five a circle), altitude
bands within 0–15 km, time windows of 10 min–12 h spread over 14 days.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from deconfliction.errors import InvalidVolume
from deconfliction.geo import AltitudeBand, Circle, Polygon, TimeWindow, Volume4D
from deconfliction.geo._geodesy import GEOD, LocalFrame

REGION_M = 1_500_000.0
CENTRE = (10.0, 47.0)
EPOCH = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
SPAN_S = 14 * 86_400.0


@dataclass(frozen=True, slots=True)
class Spec:
    """Plain description of one volume (also what the PostGIS baseline loads)."""

    ring: np.ndarray | None  # (n, 2) lon/lat, polygons only
    centre: tuple[float, float]
    radius_m: float  # circles only (0 for polygons)
    alt_lo: float
    alt_hi: float
    t0: float
    t1: float


def specs(n: int, seed: int) -> Iterator[Spec]:
    """``n`` random volume specs."""
    rng = np.random.default_rng(seed)
    frame = LocalFrame.at(*CENTRE)
    batch = 10_000
    done = 0
    while done < n:
        m = min(batch, n - done)
        x = rng.uniform(-REGION_M / 2, REGION_M / 2, m)
        y = rng.uniform(-REGION_M / 2, REGION_M / 2, m)
        lon, lat = frame.inverse_deg(x, y)
        diam = rng.uniform(500.0, 80_000.0, m)
        circle = rng.random(m) < 0.2
        nv = rng.integers(3, 61, m)
        thick = rng.uniform(100.0, 5_000.0, m)
        lo = rng.uniform(0.0, 15_000.0 - thick)
        dur = rng.uniform(600.0, 43_200.0, m)
        t0 = EPOCH + rng.uniform(0.0, SPAN_S - dur)
        # all polygon vertices in one geodesic call
        counts = np.where(circle, 0, nv)
        total = int(counts.sum())
        owner = np.repeat(np.arange(m), counts)
        az = rng.uniform(0.0, 360.0, total)
        order = np.lexsort((az, owner))
        az = az[order]
        dist = rng.uniform(0.45, 1.0, total) * (diam[owner] / 2)
        vlon, vlat, _ = GEOD.fwd(lon[owner], lat[owner], az, dist)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        for i in range(m):
            if circle[i]:
                ring = None
                centre = (float(lon[i]), float(lat[i]))
                radius = float(diam[i] / 2)
            else:
                s = starts[i]
                ring = np.stack([vlon[s : s + counts[i]], vlat[s : s + counts[i]]], axis=1)
                centre = (float(lon[i]), float(lat[i]))
                radius = 0.0
            yield Spec(
                ring,
                centre,
                radius,
                float(lo[i]),
                float(lo[i] + thick[i]),
                float(t0[i]),
                float(t0[i] + dur[i]),
            )
        done += m


def to_volume(spec: Spec) -> Volume4D | None:
    """The :class:`Volume4D` of a spec, or None if its random ring is not simple."""
    try:
        fp = Circle(spec.centre, spec.radius_m) if spec.ring is None else Polygon(spec.ring)
    except InvalidVolume:
        return None
    return Volume4D(
        fp, AltitudeBand(spec.alt_lo, spec.alt_hi), TimeWindow.from_epoch(spec.t0, spec.t1)
    )
