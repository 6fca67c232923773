"""Service benchmark: the real hub (uvicorn, SQLite) on loopback, under open-loop filing load.

1. Preload ``--preload`` activities into a fresh embedded store, in the bench process,
   straight through the store's transactions (1,000 per commit) — the hub's own store
   code, without the per-filing fsync that would make 50,000 filings take minutes.
   They sit on a grid (no two conflict), owned in turn by four parties: Blue, Red (armed
   forces), Green (humanitarian) and Civil (air navigation service).
2. Start the server as a subprocess (``bench/_server.py``) and time process start →
   ``/readyz`` 200: the index rebuild with every preloaded activity.
3. Each party listens on its WebSocket ``/v1/stream`` (a separate thread and event loop).
4. For each rate in ``--rates``, file at that fixed rate for ``--duration`` seconds, open
   loop (a filing is sent on schedule whether or not earlier ones have returned). Each
   filing copies the volume of a preloaded activity of another party, so it conflicts
   and that party gets a ``notice`` event: filing latency is send → response, notice
   latency is send → the recipient's WebSocket message.
5. Read the server's RSS, stop it, start it again on the same data and time the restart.

Targets (2-core machine): ≥ 300 filings/s sustained; notice p99 ≤ 50 ms at 100 filings/s;
restart with 50,000 activities ≤ 10 s. Each figure is printed with its ratio to the target.

Usage: ``python bench/service.py [--preload 50000] [--duration 60] [--rates 100,300]
[--data-dir DIR (kept, reused)] [--profile server.prof]``. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import numpy as np
import psutil
from websockets.asyncio.client import connect

from deconfliction.api import Settings, build_hotline
from deconfliction.bus import InProcessBus
from deconfliction.geo import AltitudeBand, Polygon, TimeWindow, Volume4D
from deconfliction.model import Activity

HERE = Path(__file__).resolve().parent
PARTIES = (
    ("Blue", "armed_force"),
    ("Red", "armed_force"),
    ("Green", "humanitarian"),
    ("Civil", "air_navigation_service"),
)
TARGET_FILINGS_PER_S = 300.0
TARGET_NOTICE_P99_MS = 50.0
TARGET_RESTART_S = 10.0

# The preload grid: cells 0.25° × 0.3° apart (≥ 18 km between footprints: more than twice
# the 5 NM buffer), footprints 0.02° square; each cell holds one activity per 12 h slot.
GRID_COLS, GRID_ROWS = 240, 50
LON0, LAT0, DLON, DLAT, HALF = -20.0, 30.0, 0.25, 0.3, 0.01
SLOT = timedelta(hours=12)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1e3, q)) if xs else math.nan


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Layout:
    """Where preloaded activity ``i`` is, and when."""

    epoch: datetime

    def place(self, i: int) -> tuple[float, float, datetime]:
        cell, slot = i % (GRID_COLS * GRID_ROWS), i // (GRID_COLS * GRID_ROWS)
        lon = LON0 + (cell % GRID_COLS) * DLON
        lat = LAT0 + (cell // GRID_COLS) * DLAT
        return lon, lat, self.epoch + slot * SLOT

    def ring(self, i: int) -> list[tuple[float, float]]:
        lon, lat, _ = self.place(i)
        return [
            (lon - HALF, lat - HALF),
            (lon + HALF, lat - HALF),
            (lon + HALF, lat + HALF),
            (lon - HALF, lat + HALF),
        ]

    def volume(self, i: int) -> Volume4D:
        _, _, t0 = self.place(i)
        return Volume4D(
            Polygon(self.ring(i)),
            AltitudeBand(0.0, 3000.0),
            TimeWindow(t0, t0 + timedelta(hours=1)),
        )

    def feature(self, i: int) -> dict[str, Any]:
        _, _, t0 = self.place(i)
        ring = [list(p) for p in self.ring(i)]
        return {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            "properties": {
                "altitude_lower_m": 0.0,
                "altitude_upper_m": 3000.0,
                "time_start": iso(t0),
                "time_end": iso(t0 + timedelta(hours=1)),
            },
        }


# ------------------------------------------------------------------------------- preload


def prepare(data: Path, n: int) -> dict[str, Any]:
    """Parties, tokens and ``n`` preloaded activities in ``data`` (reused if already there)."""
    meta_path = data / "bench-service.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta["preload"] == n and datetime.fromisoformat(meta["epoch"]) > datetime.now(
            UTC
        ) + timedelta(hours=6):
            log(f"reusing {data} ({n:,} activities preloaded before)")
            meta["preload_s"] = None
            return meta  # type: ignore[no-any-return]
        raise SystemExit(f"{data} holds another or a stale preload: remove it")
    hot = build_hotline(Settings(data_dir=data, progress=False), InProcessBus())
    try:
        boot = hot.bootstrap()
        assert boot is not None, f"{data} is not empty"
        admin = hot.authenticate(boot[1])
        parties: dict[str, dict[str, str]] = {}
        for name, kind in PARTIES:
            p = hot.add_party(admin, name, kind)
            _, secret = hot.create_token(admin, p.id, "operator", "bench")
            parties[name] = {"id": str(p.id), "token": secret}
        layout = Layout(
            (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        )
        owners = [UUID(parties[name]["id"]) for name, _ in PARTIES]
        t0 = time.perf_counter()
        done, batch = 0, 1000
        log(f"preloading {n:,} activities ...")
        while done < n:
            now = datetime.now(UTC)
            acts = [
                Activity(
                    uuid4(),
                    owners[i % 4],
                    "flight",
                    f"preload {i}",
                    (layout.volume(i),),
                    now,
                    now,
                    remarks="bench",
                )
                for i in range(done, min(n, done + batch))
            ]
            with hot.store.transaction() as tx:
                for a in acts:
                    tx.add_activity(a)
            done += len(acts)
            if done % 5000 == 0 or done == n:
                el = time.perf_counter() - t0
                eta = el / done * (n - done)
                log(f"  preloaded {done:>7,} / {n:,}  {done / el:,.0f}/s  eta {eta:,.0f} s")
        preload_s = time.perf_counter() - t0
        log(f"preloaded {n:,} activities in {preload_s:.1f} s ({n / preload_s:,.0f}/s)")
    finally:
        hot.store.close()
    meta = {"preload": n, "epoch": layout.epoch.isoformat(), "parties": parties}
    meta_path.write_text(json.dumps(meta))
    meta["preload_s"] = preload_s
    return meta


# ------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn_server(
    port: int,
    env: dict[str, str],
    log_path: Path,
    extra: tuple[str, ...] = (),
    cpus: frozenset[int] = frozenset(),
    drop: tuple[str, ...] = (),
    name: str = "the server",
) -> tuple[subprocess.Popen[bytes], float]:
    """Start ``bench/_server.py`` on ``port`` with ``env`` over this one's (less ``drop``),
    its output to ``log_path``, on ``cpus`` (empty: any); wait for ``/readyz`` 200.

    Returns the process and start → ready in seconds; exits if it dies first.
    """
    full = {k: v for k, v in (os.environ | env).items() if k not in drop}
    cmd = [sys.executable, str(HERE / "_server.py"), "--port", str(port), *extra]
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None  # its threads inherit it
    url = f"http://127.0.0.1:{port}/readyz"
    with log_path.open("ab") as logf:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env=full, stdout=logf, stderr=subprocess.STDOUT, preexec_fn=pin
        )
    last = t0
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"{name} died; see {log_path}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return proc, time.perf_counter() - t0
        if time.perf_counter() - last > 5:
            last = time.perf_counter()
            log(f"  waiting for {name}'s /readyz ({last - t0:.0f} s) ...")
        time.sleep(0.02)


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL after 30 s; waits for it."""
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Server:
    data: Path
    profile: str | None = None
    malloc_arena_max: int = 0
    """``MALLOC_ARENA_MAX`` for the server (0: glibc's default, 8 per core), as the
    systemd units and the image set it (2)."""
    cpus: frozenset[int] = frozenset()
    """CPUs the server may run on (empty: any), so a load generator can keep off them."""
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start; return process start → ``/readyz`` 200 in seconds (the index rebuild)."""
        self.port = free_port()
        env = {
            "DECONFLICTION_DATA_DIR": str(self.data),
            "DECONFLICTION_PROGRESS": "false",
            "DECONFLICTION_HEARTBEAT_S": "15",
        }
        if self.malloc_arena_max:
            env["MALLOC_ARENA_MAX"] = str(self.malloc_arena_max)
        extra = ("--profile", self.profile) if self.profile else ()
        self.proc, took = spawn_server(
            self.port,
            env,
            self.data / "server.log",
            extra,
            cpus=self.cpus,
            drop=("DECONFLICTION_DATABASE_URL",),
        )
        return took

    def rss_mb(self) -> float:
        assert self.proc is not None
        return float(psutil.Process(self.proc.pid).memory_info().rss / 2**20)

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


# ------------------------------------------------------------------------------- listeners


@dataclass
class Listeners:
    """One WebSocket per party, in its own thread: ``title → receive time`` of notices."""

    url: str
    tokens: dict[str, str]
    received: dict[str, float] = field(default_factory=dict)
    events: int = 0
    ready: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        tasks = [asyncio.create_task(self._listen(t)) for t in self.tokens.values()]
        while not self.stop.is_set():
            await asyncio.sleep(0.1)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _listen(self, token: str) -> None:
        since = 0
        async with httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}
        ) as c:
            while batch := (await c.get("/v1/events", params={"since": since})).json():
                since = batch[-1]["seq"]
        ws_url = self.url.replace("http", "ws") + f"/v1/stream?since={since}"
        async with connect(
            ws_url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None
        ) as ws:
            self._ready_one()
            async for raw in ws:
                t = time.perf_counter()
                msg = json.loads(raw)
                self.events += 1
                if msg.get("type") == "notice":
                    self.received.setdefault(msg["data"]["activity"]["title"], t)

    _n_ready: int = 0

    def _ready_one(self) -> None:
        self._n_ready += 1
        if self._n_ready == len(self.tokens):
            self.ready.set()


# ------------------------------------------------------------------------------- load


@dataclass
class RateResult:
    rate: float
    sent: int = 0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    sent_at: dict[str, float] = field(default_factory=dict)
    filing_s: list[float] = field(default_factory=list)
    notice_s: list[float] = field(default_factory=list)
    first: float = 0.0
    last_done: float = 0.0
    lag_s: float = 0.0
    saturated_at_s: float | None = None
    """When the backlog passed 2 s of load and sending stopped (the rate is not sustained)."""

    @property
    def achieved(self) -> float:
        span = self.last_done - self.first
        return self.ok / span if span > 0 else 0.0


def targets_by_owner(n: int) -> list[list[int]]:
    return [list(range(k, n, 4)) for k in range(4)]


async def run_rate(
    url: str,
    meta: dict[str, Any],
    layout: Layout,
    rate: float,
    duration: float,
    listeners: Listeners,
    rng: random.Random,
) -> RateResult:
    res = RateResult(rate)
    names = [p for p, _ in PARTIES]
    owned = targets_by_owner(meta["preload"])
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    clients = {
        name: httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {meta['parties'][name]['token']}"},
            limits=limits,
            timeout=60.0,
        )
        for name in names
    }
    tag = f"r{rate:g}-{rng.randrange(1 << 30)}"

    async def one(i: int) -> None:
        filer = i % 4
        other = (filer + 1 + (i // 4) % 3) % 4
        target = rng.choice(owned[other])
        title = f"bench {tag} {i}"
        body = {
            "kind": "flight",
            "title": title,
            "priority": "routine",
            "remarks": "",
            "volumes": {"type": "FeatureCollection", "features": [layout.feature(target)]},
        }
        t0 = time.perf_counter()
        res.sent_at[title] = t0
        try:
            r = await clients[names[filer]].post("/v1/activities", json=body)
        except httpx.HTTPError as exc:
            key = type(exc).__name__
            res.errors[key] = res.errors.get(key, 0) + 1
            return
        t1 = time.perf_counter()
        if r.status_code == 201:
            res.ok += 1
            res.filing_s.append(t1 - t0)
            res.last_done = max(res.last_done, t1)
        else:
            key = str(r.status_code)
            res.errors[key] = res.errors.get(key, 0) + 1

    # warm-up: a few filings, unmeasured
    await asyncio.gather(*(one(-i - 1) for i in range(8)))
    res = RateResult(rate)
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    res.first = start
    n = int(rate * duration)
    next_report = start + 5
    for i in range(n):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            res.lag_s = max(res.lag_s, -delay)
        tasks.append(asyncio.create_task(one(i)))
        res.sent += 1
        in_flight = res.sent - res.ok - sum(res.errors.values())
        if in_flight > max(100, 2 * rate):
            res.saturated_at_s = time.perf_counter() - start
            log(f"  {rate:g}/s: saturated after {res.saturated_at_s:.0f} s ({in_flight} in flight)")
            break
        if time.perf_counter() > next_report:
            next_report += 5
            el = time.perf_counter() - start
            log(
                f"  {rate:g}/s: {el:4.0f} s  sent {res.sent:,}  done {res.ok:,}  "
                f"in flight {res.sent - res.ok - sum(res.errors.values()):,}"
            )
    await asyncio.gather(*tasks)
    await asyncio.sleep(1.0)  # let the last notices arrive
    for c in clients.values():
        await c.aclose()
    for title, t0 in res.sent_at.items():
        t = listeners.received.get(title)
        if t is not None:
            res.notice_s.append(t - t0)
    return res


# ------------------------------------------------------------------------------- main


@contextlib.contextmanager
def data_dir(given: str | None) -> Iterator[Path]:
    if given:
        p = Path(given)
        p.mkdir(parents=True, exist_ok=True)
        yield p
        return
    p = Path(tempfile.mkdtemp(prefix="deconfliction-bench-"))
    try:
        yield p
    finally:
        shutil.rmtree(p, ignore_errors=True)


def ratio(value: float, target: float, higher_is_better: bool) -> str:
    if not math.isfinite(value) or value == 0:
        return "n/a"
    r = value / target if higher_is_better else target / value
    return f"{r:.2f}× target ({'met' if r >= 1 else 'MISSED'})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preload", type=int, default=50_000)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--rates", default="100,300")
    ap.add_argument("--data-dir", default=None, help="keep (and reuse) the preloaded store here")
    ap.add_argument("--profile", default=None, help="write the server's cProfile stats here")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    rng = random.Random(args.seed)

    with data_dir(args.data_dir) as data:
        meta = prepare(data, args.preload)
        layout = Layout(datetime.fromisoformat(meta["epoch"]))
        server = Server(data, profile=args.profile)
        log("starting the server (rebuilding the index) ...")
        rebuild_s = server.start()
        log(f"ready in {rebuild_s:.2f} s with {args.preload:,} activities")
        rss_start = server.rss_mb()
        results: list[RateResult] = []
        try:
            tokens = {n: meta["parties"][n]["token"] for n, _ in PARTIES}
            listeners = Listeners(server.url, tokens)
            th = threading.Thread(target=listeners.run, daemon=True)
            th.start()
            if not listeners.ready.wait(10):
                raise SystemExit("the WebSocket listeners did not connect")
            for rate in rates:
                log(f"filing at {rate:g}/s for {args.duration:g} s ...")
                r = asyncio.run(
                    run_rate(server.url, meta, layout, rate, args.duration, listeners, rng)
                )
                results.append(r)
                log(
                    f"  {rate:g}/s: achieved {r.achieved:.0f}/s, filing p50 "
                    f"{pct(r.filing_s, 50):.1f} ms p99 {pct(r.filing_s, 99):.1f} ms, notice p50 "
                    f"{pct(r.notice_s, 50):.1f} ms p99 {pct(r.notice_s, 99):.1f} ms, "
                    f"notices {len(r.notice_s)}/{r.ok}, errors {r.errors or 0}, "
                    f"schedule lag {r.lag_s * 1e3:.0f} ms"
                    + (f", SATURATED after {r.saturated_at_s:.0f} s" if r.saturated_at_s else "")
                )
            rss = server.rss_mb()
            listeners.stop.set()
            th.join(5)
        finally:
            server.stop()
        if args.profile:
            log(f"server profile written to {args.profile}")
            server.profile = None
        log("restarting the server on the same data ...")
        restart_s = server.start()
        server.stop()

    at100 = min(results, key=lambda r: abs(r.rate - 100.0))
    best = max(results, key=lambda r: r.achieved)
    out = {
        "bench": "service",
        "filings_per_s": round(best.achieved, 1),
        "filing_p50_ms": round(pct(at100.filing_s, 50), 2),
        "filing_p99_ms": round(pct(at100.filing_s, 99), 2),
        "notice_p50_ms": round(pct(at100.notice_s, 50), 2),
        "notice_p99_ms": round(pct(at100.notice_s, 99), 2),
        "rss_mb": round(rss, 1),
        "restart_s": round(restart_s, 2),
    }
    print()
    print(f"preload:            {args.preload:,} activities", end="")
    if meta.get("preload_s"):
        print(f" in {meta['preload_s']:.1f} s")
    else:
        print(" (reused)")
    print(f"index rebuild:      {rebuild_s:.2f} s at first start")
    print(f"restart:            {restart_s:.2f} s   {ratio(restart_s, TARGET_RESTART_S, False)}")
    for r in results:
        print(
            f"at {r.rate:>5g}/s:         achieved {r.achieved:6.1f}/s  filing p50 "
            f"{pct(r.filing_s, 50):7.1f} ms  p99 {pct(r.filing_s, 99):7.1f} ms  notice p50 "
            f"{pct(r.notice_s, 50):7.1f} ms  p99 {pct(r.notice_s, 99):7.1f} ms  "
            f"({len(r.notice_s)}/{r.ok} notices, {sum(r.errors.values())} errors"
            + (f", saturated after {r.saturated_at_s:.0f} s)" if r.saturated_at_s else ")")
        )
    print(
        f"sustained:          {best.achieved:.1f} filings/s   "
        f"{ratio(best.achieved, TARGET_FILINGS_PER_S, True)}"
    )
    print(
        f"notice p99 @{at100.rate:g}/s: {out['notice_p99_ms']} ms   "
        f"{ratio(out['notice_p99_ms'], TARGET_NOTICE_P99_MS, False)}"
    )
    print(f"server RSS:         {rss_start:.0f} MB after start, {rss:.0f} MB after the load")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
