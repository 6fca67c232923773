"""Manual smoke run of the PostGIS baseline (not collected by pytest).

    .venv/bin/python bench/test_postgis_smoke.py [--n 100000] [--queries 500]
        [--index gist|btree|gist3] [--verify 20] [--explain]

Random volumes in a 1,500 km x 1,500 km square centred on (lon 10, lat 47):
footprints 0.5-80 km across (uniform diameter), 4/5 star-shaped polygons with
3-60 vertices, 1/5 circles; altitude bands inside 0-15,000 m (thickness
100-5,000 m); time windows 10 min - 12 h inside 14 days (same
distributions as bench/_data.py).
Queries are drawn the same way; buffers 9,260 m / 305 m / 300 s.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Iterator

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _postgis import PgVolume, PostgisBaseline, PostgisCluster, ewkb_hex

H_M, V_M, T_S = 9260.0, 305.0, 300.0
LON0, LAT0 = 10.0, 47.0
HALF_M = 750_000.0
M_PER_DEG = 111_195.0
T_START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
SPAN_S = 14 * 86400.0


def gen_volumes(n: int, seed: int, key0: int = 0) -> Iterator[PgVolume]:
    rng = np.random.default_rng(seed)
    cx = rng.uniform(-HALF_M, HALF_M, n)
    cy = rng.uniform(-HALF_M, HALF_M, n)
    diam = rng.uniform(500.0, 80_000.0, n)
    circle = rng.random(n) < 0.2
    nv = rng.integers(3, 61, n)
    thick = rng.uniform(100.0, 5000.0, n)
    alo = rng.uniform(0.0, 15_000.0 - thick)
    dur = rng.uniform(600.0, 43_200.0, n)
    t0 = T_START + rng.uniform(0.0, SPAN_S - dur)
    lat_c = LAT0 + cy / M_PER_DEG
    lon_c = LON0 + cx / (M_PER_DEG * np.cos(np.radians(lat_c)))
    for i in range(n):
        r = diam[i] / 2.0
        if circle[i]:
            ring = None
            center: tuple[float, float] | None = (float(lon_c[i]), float(lat_c[i]))
        else:
            k = int(nv[i])
            ang = (np.arange(k) + rng.uniform(0.1, 0.9, k)) * (2 * math.pi / k)
            rad = rng.uniform(0.45 * r, r, k)
            mlat = M_PER_DEG
            mlon = M_PER_DEG * math.cos(math.radians(lat_c[i]))
            lons = lon_c[i] + rad * np.cos(ang) / mlon
            lats = lat_c[i] + rad * np.sin(ang) / mlat
            ring = np.column_stack([lons, lats])  # (k, 2) array, not closed
            center = None
        yield PgVolume(
            key=key0 + i,
            ring=ring,
            center=center,
            radius_m=r,
            alt_lo=float(alo[i]),
            alt_hi=float(alo[i] + thick[i]),
            t0=float(t0[i]),
            t1=float(t0[i] + dur[i]),
        )


def pct(a: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(a), p))


def antimeridian_check(base: PostgisBaseline) -> str:
    """Polygon straddling 180 deg; returns a one-line verdict."""
    poly = PgVolume(
        -1,
        [(179.9, 0.1), (-179.9, 0.1), (-179.9, -0.1), (179.9, -0.1)],
        None,
        0.0,
        0.0,
        1000.0,
        T_START,
        T_START + 3600,
    )
    base.add(poly)

    def pt(lon: float, h: float) -> bool:
        q = PgVolume(0, None, (lon, 0.0), 100.0, 0.0, 1000.0, T_START, T_START + 3600)
        return -1 in base.query(q, h, V_M, T_S)

    res = {
        "inside@180.0": pt(180.0, 0.0),
        "inside@-179.95": pt(-179.95, 0.0),
        "far@0.0": pt(0.0, H_M),
        "44km-west@179.5,h=9260": pt(179.5, H_M),
        "44km-west@179.5,h=50000": pt(179.5, 50_000.0),
    }
    base.remove(-1)
    expected = {
        "inside@180.0": True,
        "inside@-179.95": True,
        "far@0.0": False,
        "44km-west@179.5,h=9260": False,
        "44km-west@179.5,h=50000": True,
    }
    ok = res == expected
    return f"antimeridian polygon: {'OK' if ok else 'MISMATCH'} {res}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--index", default="gist3", choices=["gist", "btree", "gist3"])
    ap.add_argument(
        "--verify",
        type=int,
        default=20,
        help="queries re-run without indexes to check the index filter is lossless",
    )
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    t_all = time.perf_counter()
    with PostgisCluster() as pg:
        t = time.perf_counter()
        print(f"cluster up in {t - t_all:.1f} s ({pg.bindir}, socket dir {pg.tmpdir})", flush=True)
        conn = pg.connect()
        base = PostgisBaseline(conn, index=args.index)
        t = time.perf_counter()
        data = list(gen_volumes(args.n, args.seed))
        print(f"generated {args.n:,} volumes in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        base.load(data)
        load_s = time.perf_counter() - t
        del data
        size = conn.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('vol')), "
            "pg_size_pretty(pg_relation_size('vol_g'))"
        ).fetchone()
        print(
            f"loaded {base.count():,} volumes in {load_s:.1f} s "
            f"(index={args.index}; table+indexes {size[0]}, spatial index {size[1]}; "
            + ", ".join(f"{k} {v:.1f}" for k, v in base.load_timings.items())
            + ")",
            flush=True,
        )

        queries = list(gen_volumes(args.queries, args.seed + 1000))
        if args.explain:
            print(base.explain(queries[0], H_M, V_M, T_S, analyze=True))
        for q in queries[:10]:  # warm-up (also primes psycopg's prepare threshold)
            base.query(q, H_M, V_M, T_S)
        lat: list[float] = []
        hits = 0
        for q in queries:
            t = time.perf_counter()
            r = base.query(q, H_M, V_M, T_S)
            lat.append((time.perf_counter() - t) * 1e3)
            hits += len(r)
        print(
            f"query: p50 {pct(lat, 50):.2f} ms  p99 {pct(lat, 99):.2f} ms  "
            f"mean {np.mean(lat):.2f} ms  mean hits/query {hits / len(queries):.2f}",
            flush=True,
        )

        if args.verify:
            bad = 0
            conn.execute("SET enable_indexscan = off")
            conn.execute("SET enable_bitmapscan = off")
            for q in queries[: args.verify]:
                want = {
                    r[0]
                    for r in conn.execute(
                        "SELECT key FROM vol WHERE t0 <= %(t1)s + %(ts)s AND %(t0)s <= t1 + %(ts)s"
                        " AND alt_lo <= %(hi)s + %(vs)s AND %(lo)s <= alt_hi + %(vs)s"
                        " AND ST_DWithin(g, %(g)s::geography, %(hs)s + radius_m + %(qr)s)",
                        {
                            "t0": q.t0,
                            "t1": q.t1,
                            "lo": q.alt_lo,
                            "hi": q.alt_hi,
                            "ts": T_S,
                            "vs": V_M,
                            "hs": H_M,
                            "g": ewkb_hex(q),
                            "qr": 0.0 if q.ring is not None else q.radius_m,
                        },
                    )
                }
                got = base.query(q, H_M, V_M, T_S)
                bad += got != want
            conn.execute("RESET enable_indexscan")
            conn.execute("RESET enable_bitmapscan")
            print(f"verify vs. seq scan: {args.verify - bad}/{args.verify} identical", flush=True)

        adds = list(gen_volumes(500, args.seed + 2000, key0=args.n + 10))
        add_ms, rm_ms = [], []
        for v in adds:
            t = time.perf_counter()
            base.add(v)
            add_ms.append((time.perf_counter() - t) * 1e3)
        for v in adds:
            t = time.perf_counter()
            base.remove(v.key)
            rm_ms.append((time.perf_counter() - t) * 1e3)
        print(
            f"add: p50 {pct(add_ms, 50):.3f} ms p99 {pct(add_ms, 99):.3f} ms; "
            f"remove: p50 {pct(rm_ms, 50):.3f} ms p99 {pct(rm_ms, 99):.3f} ms",
            flush=True,
        )
        print(antimeridian_check(base), flush=True)
    print(
        f"total {time.perf_counter() - t_all:.1f} s; temp dir removed: "
        f"{not os.path.exists(pg.datadir)}"
    )


if __name__ == "__main__":
    main()
