"""Tactical engine benchmark: one cycle over N live tracks and 2,000 active volumes.

Synthetic traffic over 3,000 km × 3,000 km (``_traffic.py``): FL200–FL400, 200–250 m/s,
separation 5 NM / 1,000 ft, look-ahead 120 s and 300 s. For each N it measures one
:func:`~deconfliction.detect.tactical_cycle` (median of several), split by check, and the
memory a cycle allocates (tracemalloc peak, a separate run). For N ≤ 4,000 it runs
BlueSky's state-based detector (``StateBased.detect``, the dense N×N baseline) on the same
states in the same process and prints the ratio against our proximity check (the same
work: BlueSky does no incursion or conformance) and whether the conflict pair sets are
identical. BlueSky has no parties, so its pairs are filtered to tracks of different
parties; its distances are flat-earth on a sphere (``kwikqdrdist``), so a pair found by only
one side is *within the band* when our own engine flips on it between the thresholds and
look-ahead scaled by 1 − ε and 1 + ε (ε = 0.5 %). ``identical_pairs`` is true when no pair
differs outside that band; the exact differences are printed beside it.

Usage: ``python bench/tactical.py [--sizes 1000,4000,10000,50000] [--lookaheads 120,300]``.
Then the ingest rate: 100,000 reports posted to the real server as ``POST /v1/tracks``
batches of 10,000 (``_ingest.py``; target ≥ 50,000 positions/s per process), beside the
hotline's own ingest of the same reports in this process (no HTTP, no JSON) as baseline.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _traffic

from deconfliction.detect import (
    ProximityRules,
    Separation,
    TacticalConfig,
    TrackSet,
    VolumeSet,
    detect_proximity,
    tactical_cycle,
)

H, V = 9_260.0, 304.8
EPS = 0.005
CHECKS = ("proximity", "incursion", "conformance")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pair_set(ts: TrackSet, i: np.ndarray, j: np.ndarray) -> set[tuple[str, str]]:
    ids = ts.ids
    return {(min(a, b), max(a, b)) for a, b in zip(ids[i].tolist(), ids[j].tolist(), strict=True)}


def ours(ts: TrackSet, lookahead: float, scale: float = 1.0) -> set[tuple[str, str]]:
    rules = ProximityRules(Separation(H * scale, V))
    r = detect_proximity(ts, lookahead_s=lookahead * scale, rules=rules)
    return pair_set(ts, r.i, r.j)


def load_bluesky() -> Any:
    log("importing BlueSky (it prints its own start-up lines, and makes ~/bluesky once)")
    with contextlib.redirect_stdout(sys.stderr):
        from bluesky.traffic.asas.statebased import StateBased
    return StateBased


def bluesky(
    state_based: Any, ts: TrackSet, lookahead: float, repeats: int
) -> tuple[float, set[tuple[str, str]]]:
    n = len(ts)
    traf = SimpleNamespace(
        ntraf=n,
        id=ts.ids.tolist(),
        lat=ts.lat.copy(),
        lon=ts.lon.copy(),
        alt=ts.alt_m.copy(),
        trk=ts.trk_deg.copy(),
        gs=ts.gs_mps.copy(),
        vs=ts.vs_mps.copy(),
    )
    rpz, hpz, dt = np.full(n, H), np.full(n, V), np.full(n, lookahead)
    times = []
    for _ in range(repeats):
        gc.collect()
        t = time.perf_counter()
        confpairs, *_ = state_based.detect(None, traf, traf, rpz, hpz, dt)
        times.append(time.perf_counter() - t)
    party = dict(zip(ts.ids.tolist(), (ts.party).tolist(), strict=True))
    pairs = {(min(a, b), max(a, b)) for a, b in confpairs if party[a] != party[b]}
    return statistics.median(times), pairs


def cycle_times(
    ts: TrackSet, vols: VolumeSet, cfg: TacticalConfig, repeats: int
) -> tuple[dict[str, float], Any]:
    tactical_cycle(ts, vols, _traffic.NOW_S, cfg)  # warm up (caches the STRtree)
    runs: list[dict[str, float]] = []
    cycle = None
    for _ in range(repeats):
        gc.collect()
        t = time.perf_counter()
        cycle = tactical_cycle(ts, vols, _traffic.NOW_S, cfg)
        total = time.perf_counter() - t
        runs.append({**cycle.timings_s, "total": total})
    med = {k: statistics.median(r[k] for r in runs) * 1e3 for k in runs[0]}
    return med, cycle


def memory_mb(ts: TrackSet, vols: VolumeSet, cfg: TacticalConfig) -> float:
    fresh = ts.take(np.arange(len(ts)))  # no cached columns
    gc.collect()
    tracemalloc.start()
    tactical_cycle(fresh, vols, _traffic.NOW_S, cfg)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,4000,10000,50000")
    ap.add_argument("--lookaheads", default="120,300")
    ap.add_argument("--volumes", type=int, default=2_000)
    ap.add_argument("--bluesky-max", type=int, default=4_000)
    ap.add_argument("--no-ingest", action="store_true", help="skip the ingest measurement")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",") if x]
    lookaheads = [float(x) for x in args.lookaheads.split(",") if x]
    t = time.perf_counter()
    acts = _traffic.activities(args.volumes)
    vols = VolumeSet(acts)
    print(
        f"{len(vols):,} active volumes in {len(acts):,} activities; VolumeSet built in "
        f"{time.perf_counter() - t:.2f} s (volumes + index, once per change, not per cycle)"
    )
    state_based = load_bluesky() if any(n <= args.bluesky_max for n in sizes) else None
    results = []
    for n in sizes:
        t = time.perf_counter()
        ts = _traffic.tracks(n, acts)
        build_s = time.perf_counter() - t
        mem = memory_mb(ts, vols, TacticalConfig(lookahead_s=lookaheads[0]))
        print(
            f"N={n:>6,}: TrackSet from columns {build_s * 1e3:.0f} ms; cycle allocates "
            f"{mem:.1f} MB at peak ({mem * 2**20 / n:,.0f} B per track, "
            f"{lookaheads[0]:g} s look-ahead)"
        )
        for la in lookaheads:
            cfg = TacticalConfig(lookahead_s=la)
            med, cycle = cycle_times(ts, vols, cfg, repeats=5 if n <= 10_000 else 2)
            split = "  ".join(f"{k} {med[k]:.1f}" for k in CHECKS)
            print(
                f"  T={la:>3g} s  cycle {med['total']:8.1f} ms  ({split} ms)  "
                f"conflicts {len(cycle.proximity):,}  incursions {len(cycle.incursions):,}  "
                f"non-conforming {len(cycle.nonconforming):,}/{cycle.nonconforming.checked:,} "
                f"linked  grid pairs {cycle.proximity.candidates:,}"
            )
            row: dict[str, Any] = {
                "n": n,
                "lookahead_s": la,
                "cycle_ms": round(med["total"], 3),
                "bluesky_ms": None,
                "ratio": None,
                "identical_pairs": None,
            }
            if state_based is not None and n <= args.bluesky_max:
                log(f"  BlueSky N={n:,} T={la:g}")
                bs_s, bs_pairs = bluesky(state_based, ts, la, repeats=3 if n <= 2_000 else 1)
                mine = pair_set(ts, cycle.proximity.i, cycle.proximity.j)
                loose, strict = ours(ts, la, 1 + EPS), ours(ts, la, 1 - EPS)
                only_bs, only_us = bs_pairs - mine, mine - bs_pairs
                outside = {p for p in only_bs if p not in loose} | {
                    p for p in only_us if p in strict
                }
                ratio = bs_s * 1e3 / med["proximity"]
                row.update(
                    bluesky_ms=round(bs_s * 1e3, 3),
                    ratio=round(ratio, 1),
                    identical_pairs=not outside,
                )
                print(
                    f"         BlueSky {bs_s * 1e3:8.1f} ms  ratio ×{ratio:,.0f} vs our proximity "
                    f"check (×{bs_s * 1e3 / med['total']:,.0f} vs our whole cycle)  pairs: "
                    f"ours {len(mine):,}, BlueSky {len(bs_pairs):,}, exactly identical "
                    f"{mine == bs_pairs}; differing only within the ±{EPS:.1%} band: "
                    f"{len(only_bs | only_us) - len(outside)}, outside it: {len(outside)}"
                )
            results.append(row)
            sys.stdout.flush()
    ingest: float | None = None
    if not args.no_ingest:
        from _ingest import ingest_rates

        ingest, in_process = ingest_rates()
        print(
            f"ingest: {ingest:,.0f} positions/s through POST /v1/tracks (batches of 10,000) "
            f"vs {in_process:,.0f}/s for the hotline alone in-process "
            f"({ingest / in_process:.2f}×); target ≥ 50,000/s: "
            f"{'met' if ingest >= 50_000 else 'MISSED'}"
        )
    out = {"bench": "tactical", "results": results, "ingest_per_s": ingest and round(ingest)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
