"""Strategic conflict-query benchmark: VolumeIndex against brute force and PostGIS.

For each N, on the same volumes and the same queries, it measures

* ``VolumeIndex``: query p50/p99, add p50/p99 (timed while building), remove p50/p99 (a
  sample removed and re-added), and the memory the index itself holds (RSS growth while
  building it; the volumes are built beforehand and not counted);
* brute force: a vectorised numpy time/altitude/cap scan over every volume, then the same
  exact check on the survivors (:meth:`VolumeIndex.scan`) — also the oracle for identical
  hits;
* PostGIS: a ``geography`` column with a GiST index and time/altitude predicates in a
  throwaway cluster (see ``_postgis.py``); skipped with ``--no-postgis``.

Usage: ``python bench/strategic.py [--sizes 10000,100000,1000000] [--queries 1000]``.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable, Hashable
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data

from deconfliction.geo import Buffers, Hit, Volume4D, VolumeIndex

BUFFERS = Buffers(horizontal_m=9_260.0, vertical_m=305.0, time_s=300.0)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1e3, q))


def rss_mb() -> float:
    gc.collect()
    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def build_volumes(n: int, seed: int) -> tuple[list[_data.Spec], list[Volume4D]]:
    specs, vols = [], []
    t0 = time.monotonic()
    for s in _data.specs(n * 2, seed):
        v = _data.to_volume(s)
        if v is None:  # a random ring that is not simple: draw again
            continue
        specs.append(s)
        vols.append(v)
        if len(vols) % 50_000 == 0:
            log(f"  built {len(vols):,}/{n:,} volumes ({time.monotonic() - t0:.0f} s)")
        if len(vols) == n:
            break
    return specs, vols


def timed_hits(
    search: Callable[[Volume4D, Buffers], list[Hit]], queries: list[Volume4D]
) -> tuple[list[float], list[list[Hashable]]]:
    """Seconds per query and the sorted hit keys of each, for one search method."""
    times, hits = [], []
    for q in queries:
        t = time.perf_counter()
        found = search(q, BUFFERS)
        times.append(time.perf_counter() - t)
        hits.append(sorted(x.key for x in found))  # type: ignore[type-var]
    return times, hits


def bench_index(vols: list[Volume4D], queries: list[Volume4D]) -> dict[str, object]:
    before = rss_mb()
    index = VolumeIndex()
    add_t = []
    for i, v in enumerate(vols):
        t = time.perf_counter()
        index.add(i, [v])
        add_t.append(time.perf_counter() - t)
    index_mb = rss_mb() - before
    for q in queries[:20]:  # warm up
        index.query(q, BUFFERS)
    q_t, hits = timed_hits(index.query, queries)
    rng = np.random.default_rng(7)
    sample = rng.choice(len(vols), size=min(1_000, len(vols)), replace=False)
    rm_t = []
    for i in sample:
        t = time.perf_counter()
        index.remove(int(i))
        rm_t.append(time.perf_counter() - t)
    for i in sample:
        index.add(int(i), [vols[int(i)]])
    b_t, b_hits = timed_hits(index.scan, queries)
    return {
        "query_p50_ms": pct(q_t, 50),
        "query_p99_ms": pct(q_t, 99),
        "add_p50_ms": pct(add_t, 50),
        "add_p99_ms": pct(add_t, 99),
        "remove_p50_ms": pct(rm_t, 50),
        "remove_p99_ms": pct(rm_t, 99),
        "index_mb": index_mb,
        "brute_p50_ms": pct(b_t, 50),
        "brute_p99_ms": pct(b_t, 99),
        "identical_hits": hits == b_hits,
        "mean_hits": float(np.mean([len(h) for h in hits])),
        "_hits": hits,
    }


def bench_postgis(
    specs: list[_data.Spec], qspecs: list[_data.Spec], hits: list[list[int]]
) -> dict[str, object]:
    from _postgis import PgVolume, PostgisBaseline, PostgisCluster

    def pgv(i: int, s: _data.Spec) -> PgVolume:
        ring = None if s.ring is None else [(float(x), float(y)) for x, y in s.ring]
        return PgVolume(
            i,
            ring,
            s.centre if s.ring is None else None,
            s.radius_m,
            s.alt_lo,
            s.alt_hi,
            s.t0,
            s.t1,
        )

    with PostgisCluster() as pg:
        base = PostgisBaseline(pg.connect())
        t = time.monotonic()
        base.load(pgv(i, s) for i, s in enumerate(specs))
        log(f"  PostGIS loaded in {time.monotonic() - t:.0f} s")
        qs = [pgv(-1, s) for s in qspecs]
        for q in qs[:20]:
            base.query(q, BUFFERS.horizontal_m, BUFFERS.vertical_m, BUFFERS.time_s)
        q_t, agree = [], 0
        for q, ours in zip(qs, hits, strict=True):
            t0 = time.perf_counter()
            got = base.query(q, BUFFERS.horizontal_m, BUFFERS.vertical_m, BUFFERS.time_s)
            q_t.append(time.perf_counter() - t0)
            agree += sorted(got) == ours
    return {
        "postgis_p50_ms": pct(q_t, 50),
        "postgis_p99_ms": pct(q_t, 99),
        "postgis_same_hits": agree / len(qs),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--no-postgis", action="store_true")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",") if x]
    qspecs, queries = build_volumes(args.queries, seed=99)
    log(f"building {max(sizes):,} volumes once (prefixes give the smaller sizes)")
    specs, vols = build_volumes(max(sizes), seed=1)
    results = []
    for n in sizes:
        log(f"N = {n:,}: index and brute force")
        r = bench_index(vols[:n], queries)
        hits = r.pop("_hits")
        if not args.no_postgis:
            log(f"N = {n:,}: PostGIS")
            r.update(bench_postgis(specs[:n], qspecs, hits))  # type: ignore[arg-type]
        else:
            r.update({"postgis_p50_ms": None, "postgis_p99_ms": None, "postgis_same_hits": None})
        r["n"] = n
        results.append(r)
        print(
            f"N={n:>9,}  index query p50 {r['query_p50_ms']:.3f} / p99 {r['query_p99_ms']:.3f} ms"
            f"  add p99 {r['add_p99_ms']:.3f}  remove p99 {r['remove_p99_ms']:.3f} ms"
            f"  memory {r['index_mb']:.0f} MB  hits/query {r['mean_hits']:.2f}"
        )
        print(
            f"{'':13}brute p50 {r['brute_p50_ms']:.3f} / p99 {r['brute_p99_ms']:.3f} ms"
            f"  (×{r['brute_p50_ms'] / r['query_p50_ms']:.1f} / ×{r['brute_p99_ms'] / r['query_p99_ms']:.1f})"
            f"  identical hits: {r['identical_hits']}"
        )
        if r["postgis_p50_ms"] is not None:
            print(
                f"{'':13}PostGIS p50 {r['postgis_p50_ms']:.3f} / p99 {r['postgis_p99_ms']:.3f} ms"
                f"  (×{r['postgis_p50_ms'] / r['query_p50_ms']:.1f} / ×{r['postgis_p99_ms'] / r['query_p99_ms']:.1f})"
                f"  same hit sets as ours: {r['postgis_same_hits']:.1%}"
            )
        sys.stdout.flush()
    keys = [
        "n",
        "query_p50_ms",
        "query_p99_ms",
        "add_p99_ms",
        "remove_p99_ms",
        "index_mb",
        "brute_p50_ms",
        "brute_p99_ms",
        "postgis_p50_ms",
        "postgis_p99_ms",
        "identical_hits",
    ]
    out = [
        {k: (round(r[k], 4) if isinstance(r[k], float) else r[k]) for k in keys} for r in results
    ]
    print(json.dumps({"bench": "strategic", "results": out}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
