"""Real ADS-B traffic (OpenSky, Paris area, 2021-10-07) replayed through the hub's ingest
path and tactical cycle, with the hub's clock set to the recording's: the proximity alerts
must equal an independent brute-force oracle's on the same snapshots.

The oracle shares nothing with the engine: for every pair of tracks of different parties it
flies both along true geodesics (pyproj ``Geod.fwd`` from each report's own time, at its
ground speed and track, climbing at its vertical rate), samples every 0.5 s over the
look-ahead, and measures the geodesic distance (``Geod.inv``). A pair loses separation when
at some sample both the horizontal distance is under 5 NM and the vertical under 1,000 ft.
Pairs within 3 % of a threshold at their closest sample, or whose answer changes when the
look-ahead moves by ±2 s, are ambiguous between two exact models and left out (the engine's
own model error is metres: see ``tests/detect/test_proximity.py``).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import Geod

from deconfliction.interop import iter_sample_records, track_from_sample
from deconfliction.model import Track
from tests.hotline.conftest import Hub

pytestmark = pytest.mark.slow

H_M, V_M, LOOKAHEAD_S, STEP_S = 9_260.0, 304.8, 120.0, 0.5
SNAPSHOTS = [
    datetime(2021, 10, 7, 12, 5, tzinfo=UTC) + timedelta(minutes=10 * i) for i in range(17)
]
"""Every 10 minutes over the recording (12:05–14:45 UTC): 15–30 airborne tracks each."""
WINDOW_S = 8.0
"""A snapshot takes each aircraft's latest report within this many seconds before it."""

_GEOD = Geod(ellps="WGS84")


def _records(path: Path) -> dict[datetime, list[dict[str, Any]]]:
    """The sample's records in each snapshot's window (the file is grouped by flight, not
    time: read it all once)."""
    edges = [(t, t.timestamp() * 1000) for t in SNAPSHOTS]
    out: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for rec in iter_sample_records(path):
        assert isinstance(rec, dict)
        ts = rec.get("timestamp")
        if not isinstance(ts, int | float):
            continue
        for t, ms in edges:
            if ms - WINDOW_S * 1000 < ts <= ms:
                out[t].append(rec)
    return out


def _oracle(tracks: list[Track], now: datetime) -> tuple[set[frozenset[str]], set[frozenset[str]]]:
    """(pairs in conflict, ambiguous pairs) by brute force over every pair."""
    usable = [t for t in tracks if t.altitude_m is not None and not t.on_ground]
    steps = np.arange(0.0, LOOKAHEAD_S + 2.0 + 1e-9, STEP_S)
    paths = {}
    for t in usable:
        dt = (now - t.time).total_seconds() + steps
        dist = (t.ground_speed_mps or 0.0) * dt
        az = np.full_like(dt, t.track_deg or 0.0)
        lon, lat, _ = _GEOD.fwd(np.full_like(dt, t.lon), np.full_like(dt, t.lat), az, dist)
        alt = (t.altitude_m or 0.0) + (t.vertical_rate_mps or 0.0) * dt
        paths[t.key] = (np.asarray(lon), np.asarray(lat), alt, t.party)
    hits, unsure = set(), set()
    for a, b in itertools.combinations(sorted(paths), 2):
        la, pa, za, qa = paths[a]
        lb, pb, zb, qb = paths[b]
        if qa == qb:
            continue
        if abs(za[0] - zb[0]) > 2 * V_M + 200.0 * LOOKAHEAD_S:  # cannot meet: skip the geodesics
            continue
        _, _, d = _GEOD.inv(la, pa, lb, pb)
        ratio = np.maximum(np.asarray(d) / H_M, np.abs(za - zb) / V_M)
        inside = steps <= LOOKAHEAD_S + 1e-9
        short = steps <= LOOKAHEAD_S - 2.0 + 1e-9
        best = ratio[inside].min()
        pair = frozenset((a, b))
        if best < 1.0:
            hits.add(pair)
        if 0.97 <= best <= 1.03 or (ratio[short].min() < 1.0) != (ratio.min() < 1.0):
            unsure.add(pair)
    return hits, unsure


def test_real_traffic_proximity_equals_the_brute_force_oracle(hub: Hub, samples: Path) -> None:
    h, clock = hub.hotline, hub.clock
    civil, blue = hub.party("Civil ANSP"), hub.party("Blue")
    by_snapshot = _records(samples / "quickstart.json.gz")
    compared = found = 0
    for now in SNAPSHOTS:
        clock.t = now
        latest: dict[str, dict[str, Any]] = {}
        for rec in sorted(by_snapshot[now], key=lambda r: r["timestamp"]):
            latest[rec["icao24"]] = rec
        tracks: list[Track] = []
        for addr, rec in sorted(latest.items()):
            # half the aircraft are Blue's own (by address), half the civil surveillance's
            owner = blue if int(addr, 16) % 2 else civil
            t = track_from_sample(rec, owner.party_id)
            if isinstance(t, Track):
                tracks.append(t)
        for owner in (civil, blue):
            mine = [t for t in tracks if t.party == owner.party_id]
            got = h.ingest_tracks(owner, mine)
            assert got.rejected == (), got.rejected[:3]
        tick = h.tactical_tick()
        assert tick.tracks >= 10, f"{now}: only {tick.tracks} airborne tracks"
        engine = {
            frozenset(t["key"] for t in a["tracks"])
            for a in h.open_alerts(civil)
            if a["kind"] == "proximity"
        }
        expected, unsure = _oracle(tracks, now)
        assert engine - unsure == expected - unsure, (now, engine ^ expected)
        compared += len(expected | engine)
        found += len(expected)
    print(f"{len(SNAPSHOTS)} snapshots: {found} conflicts, {compared} pairs compared")
    assert found >= 3, f"the snapshots hold only {found} conflicts: choose busier times"
    assert compared >= found
