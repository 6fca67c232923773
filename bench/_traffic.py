"""Synthetic tactical scene for ``bench/tactical.py`` (deterministic for a seed).

Tracks are spread uniformly over a 3,000 km × 3,000 km square centred on (5° E, 48° N):
FL200–FL400, 200–250 m/s on random headings, one in five climbing or descending at up to
15 m/s, in four parties (60 % civil surveillance). Active volumes: 2,000 by default, 5–40 km
across (one in four a circle, the rest star-shaped geodesic polygons of 5–16 vertices),
altitude bands of 1–10 km within 0–15 km, open now for an hour, grouped into activities of
one to three volumes of one party. 3 % of the non-civil tracks are linked to an activity of
their party; nine in ten of those fly inside its first volume.
"""

from __future__ import annotations

import numpy as np

from deconfliction.detect import ActivityVolumes, TrackSet
from deconfliction.geo import AltitudeBand, Circle, Polygon, TimeWindow, Volume4D
from deconfliction.geo._geodesy import GEOD, LocalFrame

REGION_M = 3_000_000.0
CENTRE = (5.0, 48.0)
NOW_S = 1_796_126_400.0  # 2026-12-01 12:00 UTC
PARTIES = ("civil-ansp", "air-force", "army", "uas-ops")
FT = 0.3048


def _uniform_positions(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    frame = LocalFrame.at(*CENTRE)
    x = rng.uniform(-REGION_M / 2, REGION_M / 2, n)
    y = rng.uniform(-REGION_M / 2, REGION_M / 2, n)
    return frame.inverse_deg(x, y)


def activities(n_volumes: int, seed: int = 7) -> list[ActivityVolumes]:
    """Active activities holding ``n_volumes`` volumes in all."""
    rng = np.random.default_rng(seed)
    lon, lat = _uniform_positions(rng, n_volumes)
    window = TimeWindow.from_epoch(NOW_S - 600.0, NOW_S + 3_600.0)
    vols: list[Volume4D] = []
    for k in range(n_volumes):
        size = rng.uniform(2_500.0, 20_000.0)
        thick = rng.uniform(1_000.0, 10_000.0)
        lo = rng.uniform(0.0, 15_000.0 - thick)
        band = AltitudeBand(lo, lo + thick)
        if rng.random() < 0.25:
            fp: Circle | Polygon = Circle((float(lon[k]), float(lat[k])), size)
        else:
            nv = int(rng.integers(5, 17))
            az = np.linspace(0, 360, nv, endpoint=False) + rng.uniform(0, 360 / nv)
            r = size * rng.uniform(0.5, 1.0, nv)
            vx, vy, _ = GEOD.fwd(np.full(nv, lon[k]), np.full(nv, lat[k]), az, r)
            fp = Polygon(np.stack([vx, vy], axis=1))
        vols.append(Volume4D(fp, band, window))
    out: list[ActivityVolumes] = []
    k = 0
    while k < n_volumes:
        m = int(min(rng.integers(1, 4), n_volumes - k))
        party = PARTIES[1 + int(rng.integers(0, 3))]
        out.append(ActivityVolumes(f"act-{len(out)}", party, vols[k : k + m]))
        k += m
    return out


def tracks(n: int, acts: list[ActivityVolumes], seed: int = 1) -> TrackSet:
    """``n`` tracks at :data:`NOW_S`."""
    rng = np.random.default_rng(seed + n)
    lon, lat = _uniform_positions(rng, n)
    alt = rng.uniform(200, 400, n) * 100 * FT
    vs = np.where(rng.random(n) < 0.2, rng.uniform(-15.0, 15.0, n), 0.0)
    party_idx = np.where(rng.random(n) < 0.6, 0, rng.integers(1, 4, n))
    party = [PARTIES[int(p)] for p in party_idx]
    link: list[str | None] = [None] * n
    by_party: dict[str, list[ActivityVolumes]] = {}
    for a in acts:
        by_party.setdefault(str(a.party), []).append(a)
    for i in np.flatnonzero((party_idx > 0) & (rng.random(n) < 0.03)):
        options = by_party.get(party[int(i)], [])
        if not options:
            continue
        act = options[int(rng.integers(0, len(options)))]
        link[int(i)] = str(act.activity)
        if rng.random() < 0.9:  # flying where it said it would
            v = act.volumes[0]
            lon[i], lat[i] = v.footprint.centre
            alt[i] = (v.altitude.lower_m + v.altitude.upper_m) / 2
    return TrackSet.from_columns(
        ids=[f"T{i:06d}" for i in range(n)],
        party=party,
        lat=lat,
        lon=lon,
        alt_m=alt,
        gs_mps=rng.uniform(200.0, 250.0, n),
        trk_deg=rng.uniform(0.0, 360.0, n),
        vs_mps=vs,
        time_s=np.full(n, NOW_S),
        activity=link,
    )
