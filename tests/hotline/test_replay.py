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
from uuid import UUID

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Polygon as ShapelyPolygon

from deconfliction.geo import AltitudeBand, Circle, Polygon, TimeWindow, Volume4D
from deconfliction.hotline import ActivityDraft
from deconfliction.interop import iter_sample_records, track_from_sample
from deconfliction.model import ActivityKind, Track
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


def _inside(v: Volume4D, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each point is in ``v``'s footprint, and its distance (m, approximate for a
    polygon) to the footprint's edge."""
    fp = v.footprint
    if isinstance(fp, Circle):
        _, _, d = _GEOD.inv(
            np.full_like(lon, fp.centre[0]), np.full_like(lat, fp.centre[1]), lon, lat
        )
        d = np.asarray(d)
        return d <= fp.radius_m, np.abs(d - fp.radius_m)
    ring = ShapelyPolygon(fp.lonlat)
    pts = shapely.points(lon, lat)
    edge_deg = shapely.distance(ring.exterior, pts)
    return shapely.contains(ring, pts), np.asarray(edge_deg) * 111_320.0 * np.cos(np.radians(lat))


def _incursion_oracle(
    tracks: list[Track], hazards: dict[UUID, Volume4D], now: datetime
) -> tuple[set[tuple[str, UUID]], set[tuple[str, UUID]]]:
    """(track, activity) pairs where the track is inside or, flown on its geodesic, enters
    the hazard within the look-ahead; and the ambiguous ones (within 100 m of an edge, 15 m
    of a band's floor or ceiling, or 2 s of the look-ahead's end at their nearest)."""
    steps = np.arange(0.0, LOOKAHEAD_S + 2.0 + 1e-9, 0.25)
    hits, unsure = set(), set()
    for t in tracks:
        if t.altitude_m is None or t.on_ground:
            continue
        dt = (now - t.time).total_seconds() + steps
        lon, lat, _ = _GEOD.fwd(
            np.full_like(dt, t.lon),
            np.full_like(dt, t.lat),
            np.full_like(dt, t.track_deg or 0.0),
            (t.ground_speed_mps or 0.0) * dt,
        )
        lon, lat = np.asarray(lon), np.asarray(lat)
        alt = t.altitude_m + (t.vertical_rate_mps or 0.0) * dt
        for act_id, v in hazards.items():
            flat, edge = _inside(v, lon, lat)
            lo, hi = v.altitude.lower_m, v.altitude.upper_m
            tall = (alt >= lo) & (alt <= hi)
            inside = flat & tall
            within = steps <= LOOKAHEAD_S + 1e-9
            short = steps <= LOOKAHEAD_S - 2.0 + 1e-9
            if inside[within].any():
                hits.add((t.key, act_id))
            near = (edge < 100.0) & tall | flat & (np.minimum(abs(alt - lo), abs(alt - hi)) < 15.0)
            if near[within].any() or inside[short].any() != inside.any():
                unsure.add((t.key, act_id))
    return hits, unsure


def test_real_traffic_incursions_equal_the_brute_force_oracle(hub: Hub, samples: Path) -> None:
    """Red declares hazard areas (circles and squares, various altitude bands) ahead of
    real aircraft at each snapshot; the incursion alerts must equal the oracle's."""
    h, clock = hub.hotline, hub.clock
    civil, blue, red = hub.party("Civil ANSP"), hub.party("Blue"), hub.party("Red")
    by_snapshot = _records(samples / "quickstart.json.gz")
    rng = np.random.default_rng(7)
    found = ambiguous = checked = 0
    for now in SNAPSHOTS:
        clock.t = now
        latest: dict[str, dict[str, Any]] = {}
        for rec in sorted(by_snapshot[now], key=lambda r: r["timestamp"]):
            latest[rec["icao24"]] = rec
        tracks: list[Track] = []
        for addr, rec in sorted(latest.items()):
            owner = blue if int(addr, 16) % 2 else civil
            t = track_from_sample(rec, owner.party_id)
            if isinstance(t, Track) and t.altitude_m is not None and not t.on_ground:
                tracks.append(t)
        window = TimeWindow(now - timedelta(minutes=5), now + timedelta(minutes=5))
        hazards: dict[UUID, Volume4D] = {}
        for t in rng.choice(
            np.array(tracks, dtype=object), size=min(8, len(tracks)), replace=False
        ):
            ahead = rng.uniform(2_000.0, 20_000.0)
            lon, lat, _ = _GEOD.fwd(t.lon, t.lat, t.track_deg or 0.0, ahead)
            alt = t.altitude_m or 0.0
            lo = max(0.0, alt + rng.choice([-800.0, -300.0, 200.0, 600.0]))
            band = AltitudeBand(lo, lo + rng.uniform(300.0, 1_500.0))
            if rng.random() < 0.6:
                fp: Circle | Polygon = Circle((lon, lat), rng.uniform(1_500.0, 6_000.0))
            else:
                d = rng.uniform(0.02, 0.06)
                fp = Polygon(
                    [(lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d)]
                )
            act = h.file(
                red, ActivityDraft(ActivityKind.HAZARD, "hazard", (Volume4D(fp, band, window),))
            )
            hazards[act.activity.id] = act.activity.volumes[0]
        for owner in (civil, blue):
            got = h.ingest_tracks(owner, [t for t in tracks if t.party == owner.party_id])
            assert got.rejected == ()
        h.tactical_tick()
        engine = {
            (a["tracks"][0]["key"], UUID(a["activity_id"]))
            for a in h.open_alerts(red)
            if a["kind"] == "incursion" and UUID(a["activity_id"]) in hazards
        }
        expected, unsure = _incursion_oracle(tracks, hazards, now)
        assert engine - unsure == expected - unsure, (now, engine ^ expected)
        found += len(expected)
        ambiguous += len(unsure)
        checked += len(tracks) * len(hazards)
    print(f"{len(SNAPSHOTS)} snapshots: {found} incursions, {ambiguous} ambiguous of {checked}")
    assert found >= 10, f"only {found} incursions: the hazards are not where the traffic goes"
