"""Soak: the real hub (uvicorn, SQLite) at a nominal load with live tracks, for a long time.

Every second: ``--rate`` filings (each over another party's preloaded activity, so a notice
goes out), one batch of ``--tracks`` track reports (moving aircraft), and every party's
WebSocket listener confirming delivery. Each filed activity is cancelled ``--lifetime``
seconds later (60 s), so the live set stays level, as on a hub in service where
activities end: otherwise the index grows by ``rate × duration`` activities and memory and
latency grow with it, which is load growth, not a leak. The hub runs with
``MALLOC_ARENA_MAX=2``, as the systemd units and the container image set it: with glibc's
default (8 arenas per core) each of the ~20 busy threads of the server's pool keeps its own
arena of freed memory, and the resident size creeps up for long after the load is level
(measured: +40 MB after 2 minutes at the same load, no Python object growth). Every ``--window`` seconds the hub's RSS, open file
descriptors and threads are read, with the filing and notice latencies of that window.

The figures compared are the medians of the first three windows after ``--warmup`` and of
the last three: RSS growth, file-descriptor growth, and latency drift (filing p50, notice
p99). Each must stay within
``--max-growth`` (10 % by default) — a leak or a slow degradation shows as growth. Errors
(any non-2xx, a notice never received) are reported too.

``make soak`` runs it for 30 minutes; the test suite runs a 25-second version that checks
the run is clean (``tests/test_soak.py``). Ends with one JSON line.

Usage: ``python bench/soak.py [--duration 1800] [--rate 10] [--tracks 500]
[--window 60] [--warmup 120] [--max-growth 0.10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
from service import PARTIES, Layout, Listeners, Server, log, pct, prepare


@dataclass
class Window:
    t: float
    rss_mb: float
    fds: int
    threads: int
    filings: int
    errors: int
    filing_p50_ms: float
    filing_p99_ms: float
    notice_p99_ms: float


@dataclass
class Load:
    sent_at: dict[str, float] = field(default_factory=dict)
    filing_s: list[tuple[float, float]] = field(default_factory=list)  # (when, latency)
    errors: dict[str, int] = field(default_factory=dict)
    tracks_ok: int = 0
    live: deque[tuple[float, int, str, int]] = field(default_factory=deque)
    """Filed activities to cancel: (filed at, filer, id, version)."""
    cancelled: int = 0


def _tracks(n: int, t: datetime, k: int) -> list[dict[str, Any]]:
    """``n`` aircraft on parallel tracks, moved on each round ``k``."""
    return [
        {
            "key": f"SOAK{i:05d}",
            "time": t.isoformat(),
            "lat": 40.0 + (i % 50) * 0.2,
            "lon": 10.0 + (i // 50) * 0.2 + (k % 600) * 0.001,
            "altitude_ft": 20_000 + (i % 20) * 1_000,
            "ground_speed_kt": 300.0,
            "track_deg": 90.0,
        }
        for i in range(n)
    ]


async def drive(
    url: str, meta: dict[str, Any], args: argparse.Namespace, load: Load, stop: threading.Event
) -> None:
    layout = Layout(datetime.fromisoformat(meta["epoch"]))
    names = [p for p, _ in PARTIES]
    owned = [list(range(k, meta["preload"], 4)) for k in range(4)]
    rng = random.Random(7)
    clients = {
        n: httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {meta['parties'][n]['token']}"},
            timeout=30.0,
        )
        for n in names
    }
    counter = 0

    async def file_one(i: int) -> None:
        filer = i % 4
        other = (filer + 1 + (i // 4) % 3) % 4
        title = f"soak {i}"
        body = {
            "kind": "flight",
            "title": title,
            "volumes": {
                "type": "FeatureCollection",
                "features": [layout.feature(rng.choice(owned[other]))],
            },
        }
        t0 = time.perf_counter()
        load.sent_at[title] = t0
        try:
            r = await clients[names[filer]].post("/v1/activities", json=body)
        except httpx.HTTPError as exc:
            load.errors[type(exc).__name__] = load.errors.get(type(exc).__name__, 0) + 1
            return
        if r.status_code == 201:
            load.filing_s.append((t0, time.perf_counter() - t0))
            act = r.json()["activity"]
            load.live.append((t0, filer, act["id"], act["version"]))
        else:
            load.errors[str(r.status_code)] = load.errors.get(str(r.status_code), 0) + 1

    async def tracks_once(k: int) -> None:
        batch = _tracks(args.tracks, datetime.now(UTC), k)
        try:
            r = await clients[names[0]].post("/v1/tracks", json={"tracks": batch})
        except httpx.HTTPError as exc:
            load.errors[type(exc).__name__] = load.errors.get(type(exc).__name__, 0) + 1
            return
        if r.status_code == 200 and not r.json().get("rejected"):
            load.tracks_ok += 1
        else:
            load.errors[f"tracks {r.status_code}"] = (
                load.errors.get(f"tracks {r.status_code}", 0) + 1
            )

    async def cancel_one(filer: int, act_id: str, version: int) -> None:
        try:
            r = await clients[names[filer]].post(
                f"/v1/activities/{act_id}/cancel", headers={"If-Match": f'"{version}"'}
            )
        except httpx.HTTPError as exc:
            load.errors[type(exc).__name__] = load.errors.get(type(exc).__name__, 0) + 1
            return
        if r.status_code == 200:
            load.cancelled += 1
        else:
            load.errors[f"cancel {r.status_code}"] = (
                load.errors.get(f"cancel {r.status_code}", 0) + 1
            )

    tasks: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    k = 0
    while not stop.is_set():
        tick = start + k
        await asyncio.sleep(max(0.0, tick - time.perf_counter()))
        for j in range(args.rate):
            task = asyncio.create_task(file_one(counter))
            counter += 1
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if j + 1 < args.rate:
                await asyncio.sleep(1.0 / args.rate)
        if args.tracks:
            task = asyncio.create_task(tracks_once(k))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while args.lifetime and load.live and load.live[0][0] < time.perf_counter() - args.lifetime:
            _, filer, act_id, version = load.live.popleft()
            task = asyncio.create_task(cancel_one(filer, act_id, version))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        k += 1
    await asyncio.gather(*tasks, return_exceptions=True)
    for c in clients.values():
        await c.aclose()


SPAN = 3
"""Windows whose medians are compared (the first after the warm-up, the last): one window's
figures move with the connections open and the requests in flight at that moment."""


def _median_window(ws: list[Window]) -> Window:
    """Each figure's median over ``ws`` (``t``: the first window's)."""

    def med(values: list[float]) -> float:
        return float(statistics.median(values))

    return Window(
        ws[0].t,
        med([w.rss_mb for w in ws]),
        round(med([w.fds for w in ws])),
        round(med([w.threads for w in ws])),
        sum(w.filings for w in ws),
        sum(w.errors for w in ws),
        med([w.filing_p50_ms for w in ws]),
        med([w.filing_p99_ms for w in ws]),
        med([w.notice_p99_ms for w in ws]),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=1800.0)
    ap.add_argument("--rate", type=int, default=10, help="filings per second")
    ap.add_argument("--tracks", type=int, default=500, help="track reports per second")
    ap.add_argument("--window", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=120.0)
    ap.add_argument("--preload", type=int, default=2000)
    ap.add_argument(
        "--lifetime",
        type=float,
        default=60.0,
        help="each filed activity is cancelled this long after (0: never; the live set grows)",
    )
    ap.add_argument("--max-growth", type=float, default=0.10)
    ap.add_argument(
        "--malloc-arena-max",
        type=int,
        default=2,
        help="MALLOC_ARENA_MAX for the hub, as deployed (0: glibc's default)",
    )
    args = ap.parse_args()
    if args.duration < args.warmup + 2 * args.window:
        raise SystemExit("--duration must hold --warmup and two --window's")
    data = Path(tempfile.mkdtemp(prefix="deconfliction-soak-"))
    server = Server(data, malloc_arena_max=args.malloc_arena_max)
    try:
        meta = prepare(data, args.preload)
        ready = server.start()
        log(
            f"hub ready in {ready:.1f} s; soaking {args.duration:.0f} s at {args.rate} filings/s "
            f"and {args.tracks} track reports/s"
        )
        assert server.proc is not None
        proc = psutil.Process(server.proc.pid)
        tokens = {n: meta["parties"][n]["token"] for n, _ in PARTIES}
        listeners = Listeners(server.url, tokens)
        threading.Thread(target=listeners.run, daemon=True).start()
        if not listeners.ready.wait(30):
            raise SystemExit("the listeners did not connect")
        load, stop = Load(), threading.Event()
        driver = threading.Thread(
            target=lambda: asyncio.run(drive(server.url, meta, args, load, stop))
        )
        begin = time.perf_counter()
        driver.start()
        windows: list[Window] = []
        next_at = begin + args.window
        while time.perf_counter() - begin < args.duration:
            time.sleep(max(0.0, min(next_at, begin + args.duration) - time.perf_counter()))
            now = time.perf_counter()
            lo = now - args.window
            fil = [d for t, d in list(load.filing_s) if t >= lo]
            got = listeners.received
            notice = [got[k] - t for k, t in list(load.sent_at.items()) if t >= lo and k in got]
            w = Window(
                now - begin,
                proc.memory_info().rss / 2**20,
                proc.num_fds(),
                proc.num_threads(),
                len(fil),
                sum(load.errors.values()),
                pct(fil, 50),
                pct(fil, 99),
                pct(notice, 99),
            )
            windows.append(w)
            log(
                f"{w.t:6.0f} s  rss {w.rss_mb:7.1f} MB  fds {w.fds:4d}  threads {w.threads:3d}  "
                f"filings {w.filings:5d}  p50 {w.filing_p50_ms:6.1f} ms  p99 "
                f"{w.filing_p99_ms:6.1f} ms  notice p99 {w.notice_p99_ms:6.1f} ms  "
                f"errors {w.errors}"
            )
            next_at += args.window
        stop.set()
        driver.join(60)
        time.sleep(1.0)
        listeners.stop.set()
        missing = sum(1 for k in load.sent_at if k not in listeners.received)
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    first = next((k for k, w in enumerate(windows) if w.t >= args.warmup + args.window), 0)
    base = _median_window(windows[first : first + SPAN])
    last = _median_window(windows[max(first, len(windows) - SPAN) :])

    def growth(a: float, b: float) -> float:
        return (b - a) / a if a > 0 else 0.0

    figures = {
        "rss_growth": round(growth(base.rss_mb, last.rss_mb), 4),
        "fd_growth": round(growth(base.fds, last.fds), 4),
        "filing_p50_drift": round(growth(base.filing_p50_ms, last.filing_p50_ms), 4),
        "notice_p99_drift": round(growth(base.notice_p99_ms, last.notice_p99_ms), 4),
    }
    within = all(v <= args.max_growth for v in figures.values())
    log(
        "from the 3 windows from {:.0f} s to the last 3 (medians): RSS {:+.1%} ({:.1f} → {:.1f} MB), fds {:+.1%}, "
        "filing p50 {:+.1%}, notice p99 {:+.1%} — {} (limit {:+.0%}); errors {}, notices never "
        "received {}".format(
            base.t,
            figures["rss_growth"],
            base.rss_mb,
            last.rss_mb,
            figures["fd_growth"],
            figures["filing_p50_drift"],
            figures["notice_p99_drift"],
            "within" if within else "OVER",
            args.max_growth,
            load.errors or "none",
            missing,
        )
    )
    print(
        json.dumps(
            {
                "bench": "soak",
                "duration_s": args.duration,
                "filings": len(load.filing_s),
                "track_batches": load.tracks_ok,
                "cancelled": load.cancelled,
                "errors": load.errors,
                "notices_missing": missing,
                **figures,
                "within_limit": within,
                "windows": [w.__dict__ for w in windows],
            }
        )
    )
    sys.exit(0 if within and not load.errors and not missing else 1)


if __name__ == "__main__":
    main()
