"""Cluster benchmark: one node on SQLite, then one and two nodes on PostgreSQL + NATS.

The same client load for each mode, in one run:

* ``sqlite`` — one node, the embedded default (SQLite, in-process bus);
* ``pg-1``  — one node on a throwaway PostgreSQL cluster, events on a throwaway
  nats-server (JetStream);
* ``pg-2``  — two nodes on that PostgreSQL and nats-server; clients spread over both.

Each mode starts on a fresh store with four parties and ``--preload`` activities (a grid,
no two in conflict). Every party listens on its WebSocket stream (in ``pg-2`` half of them
on each node). ``--workers`` clients file for ``--duration`` seconds, closed loop, each
filing sent to the nodes in turn; every filing copies a preloaded activity of another
party, so that party gets a notice. Reported: filings/s, and notice p99 (filing sent →
the notice on the recipient's WebSocket, whichever node the recipient is on).

Then ``--pairs`` pairs of converging aircraft, one of each pair reported to each node (the
tactical engine is sharded by region over the nodes): alert latency (second report sent →
``alert.raised`` on a party's stream), alerts missed and alerts told twice.

Then, with two nodes, ``--failover-rounds`` times: every listener on node B, a light
filing load on node A, ``kill -9`` node B; each listener reconnects to node A with
``since=SEQ``. Failover time is kill → the listener's stream open again on node A; each
listener's seqs are checked to run on with no gap and no repeat. Node B is restarted for
the next round.

On this 2-core machine the point is correctness under failure and the cost of the
distributed path, not a speed-up: two nodes share the two cores with PostgreSQL, NATS and
the load generator.

Usage: ``python bench/cluster.py [--preload 2000] [--duration 20] [--workers 8]
[--failover-rounds 5] [--pairs 20] [--modes sqlite,pg-1,pg-2]``. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import signal
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
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests/
from service import PARTIES, Layout, free_port, log, pct, spawn_server, stop_process
from tests.natsserver import NatsServer
from tests.pgcluster import PgCluster

from deconfliction.api import Settings, build_hotline
from deconfliction.bus import InProcessBus
from deconfliction.model import Activity

HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------------------- set-up


def prepare(data: Path, url: str, n: int) -> dict[str, Any]:
    """Parties, tokens and ``n`` preloaded activities in the store at ``url``."""
    hot = build_hotline(Settings(data_dir=data, database_url=url, progress=False), InProcessBus())
    try:
        boot = hot.bootstrap()
        assert boot is not None, "the store is not empty"
        admin = hot.authenticate(boot[1])
        parties: dict[str, dict[str, str]] = {}
        for name, kind in PARTIES:
            p = hot.add_party(admin, name, kind)
            _, secret = hot.create_token(admin, p.id, "operator", "bench")
            parties[name] = {"id": str(p.id), "token": secret}
        epoch = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        layout = Layout(epoch)
        owners = [UUID(parties[name]["id"]) for name, _ in PARTIES]
        for start in range(0, n, 1000):
            now = datetime.now(UTC)
            with hot.store.transaction() as tx:
                for i in range(start, min(n, start + 1000)):
                    tx.add_activity(
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
                    )
    finally:
        hot.store.close()
    return {"preload": n, "epoch": epoch.isoformat(), "parties": parties}


@dataclass
class Node:
    """One hub node: ``bench/_server.py`` as a subprocess."""

    name: str
    data: Path
    env: dict[str, str]
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start (on a new port unless it had one); return start → ``/readyz`` 200 in s."""
        self.port = self.port or free_port()
        env = self.env | {"DECONFLICTION_NODE_NAME": self.name}
        log_path = self.data / f"{self.name}.log"
        self.proc, took = spawn_server(self.port, env, log_path, name=f"node {self.name}")
        return took

    def kill(self) -> None:
        """``kill -9``: no shutdown, no goodbye."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


# ------------------------------------------------------------------------------- listeners


@dataclass
class Listener:
    """One party's stream, moving to the next node when its node goes away."""

    token: str
    urls: list[str]
    at: int = 0
    """Index in ``urls`` of the node it is (or will be) connected to."""
    last_seq: int = 0
    seqs: list[int] = field(default_factory=list)
    received: dict[str, float] = field(default_factory=dict)
    alerts: dict[str, list[float]] = field(default_factory=dict)
    """Proximity alerts raised, by their tracks' keys: when each arrived."""
    lost_at: float | None = None
    failovers: list[float] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            url = self.urls[self.at].replace("http", "ws") + f"/v1/stream?since={self.last_seq}"
            try:
                async with connect(
                    url,
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    max_size=None,
                    open_timeout=2,
                    close_timeout=1,
                ) as ws:
                    if self.lost_at is not None:
                        self.failovers.append(time.perf_counter() - self.lost_at)
                        self.lost_at = None
                    self.connected.set()
                    await self._read(ws, stop)
            except (OSError, WebSocketException, TimeoutError):
                pass
            if stop.is_set():
                return
            self.connected.clear()
            if self.lost_at is None:
                self.lost_at = time.perf_counter()
            self.at = (self.at + 1) % len(self.urls)  # the next node
            await asyncio.sleep(0.01)

    async def _read(self, ws: Any, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.2)
            except TimeoutError:
                continue
            t = time.perf_counter()
            msg = json.loads(raw)
            seq = msg.get("seq")
            if isinstance(seq, int) and msg.get("type") not in ("heartbeat", "error"):
                self.seqs.append(seq)
                self.last_seq = max(self.last_seq, seq)
                if msg.get("type") == "notice":
                    self.received.setdefault(msg["data"]["activity"]["title"], t)
                elif msg.get("type") == "alert.raised":
                    a = msg["data"]["alert"]
                    if a["kind"] == "proximity":
                        pair = "|".join(sorted(x["key"] for x in a["tracks"]))
                        self.alerts.setdefault(pair, []).append(t)
                await ws.send(json.dumps({"type": "delivered", "seq": seq}))

    def gaps_and_repeats(self) -> tuple[int, int]:
        """Seqs missing between the first and last seen, and seqs seen twice."""
        if not self.seqs:
            return 0, 0
        seen = set(self.seqs)
        missing = (max(seen) - min(seen) + 1) - len(seen)
        return missing, len(self.seqs) - len(seen)


class Listeners:
    """Every party's listener, on an event loop in its own thread."""

    def __init__(self, listeners: list[Listener]) -> None:
        self.items = listeners
        self.loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._tasks = [self._call(self._start(li)) for li in listeners]
        self.wait_connected()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    async def _start(self, li: Listener) -> None:
        if self._stop is None:
            self._stop = asyncio.Event()
        li.connected = asyncio.Event()
        await li.run(self._stop)

    def wait_connected(self, timeout: float = 30.0) -> None:
        deadline = time.perf_counter() + timeout
        while not all(li.connected.is_set() for li in self.items):
            if time.perf_counter() > deadline:
                raise SystemExit("listeners did not connect")
            time.sleep(0.01)

    def received(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for li in self.items:
            out |= li.received
        return out

    def close(self) -> None:
        async def stop() -> None:
            assert self._stop is not None
            self._stop.set()

        self._call(stop()).result()
        for t in self._tasks:
            with contextlib.suppress(Exception):
                t.result(timeout=15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


# ------------------------------------------------------------------------------- load


@dataclass
class Load:
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    sent_at: dict[str, float] = field(default_factory=dict)
    span_s: float = 0.0


async def file_load(
    urls: list[str], meta: dict[str, Any], duration: float, workers: int, tag: str
) -> Load:
    """Closed loop: ``workers`` clients each file, wait for the answer, file again."""
    layout = Layout(datetime.fromisoformat(meta["epoch"]))
    names = [p for p, _ in PARTIES]
    owned = [list(range(k, meta["preload"], 4)) for k in range(4)]
    res = Load()
    rng = random.Random(tag)
    clients = [
        {
            name: httpx.AsyncClient(
                base_url=u,
                headers={"Authorization": f"Bearer {meta['parties'][name]['token']}"},
                timeout=60.0,
            )
            for name in names
        }
        for u in urls
    ]
    counter = iter(range(1 << 30))
    end = time.perf_counter() + duration

    async def worker() -> None:
        while time.perf_counter() < end:
            i = next(counter)
            filer = i % 4
            other = (filer + 1 + (i // 4) % 3) % 4
            target = rng.choice(owned[other])
            title = f"{tag} {i}"
            body = {
                "kind": "flight",
                "title": title,
                "volumes": {"type": "FeatureCollection", "features": [layout.feature(target)]},
            }
            res.sent_at[title] = time.perf_counter()
            try:
                r = await clients[i % len(urls)][names[filer]].post("/v1/activities", json=body)
            except httpx.HTTPError as exc:
                res.errors[type(exc).__name__] = res.errors.get(type(exc).__name__, 0) + 1
                del res.sent_at[title]
                continue
            if r.status_code == 201:
                res.ok += 1
            else:
                res.errors[str(r.status_code)] = res.errors.get(str(r.status_code), 0) + 1
                del res.sent_at[title]

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    res.span_s = time.perf_counter() - t0
    for per_node in clients:
        for c in per_node.values():
            await c.aclose()
    return res


# ------------------------------------------------------------------------------- modes


@dataclass
class Cluster:
    """The nodes of one mode, on one fresh store."""

    nodes: list[Node]
    meta: dict[str, Any]

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()


def start_cluster(
    mode: str, root: Path, pg: PgCluster | None, nats: NatsServer | None, preload: int
) -> Cluster:
    data = root / mode
    data.mkdir()
    env = {
        "DECONFLICTION_DATA_DIR": str(data),
        "DECONFLICTION_PROGRESS": "false",
        "DECONFLICTION_HEARTBEAT_S": "5",
        "DECONFLICTION_RATE_LIMIT_PER_S": "100000",
        "DECONFLICTION_RATE_LIMIT_BURST": "100000",
    }
    if mode == "sqlite":
        url = f"sqlite:///{data / 'hotline.db'}"
    else:
        assert pg is not None
        assert nats is not None
        url = pg.create_database()
        env["DECONFLICTION_DATABASE_URL"] = url
        env["DECONFLICTION_BUS_URL"] = nats.url
        env["DECONFLICTION_BUS_STREAM"] = f"bench_{mode.replace('-', '_')}"
        # each mode its own subjects: a second stream on the first's subjects is refused
        # by JetStream, and the second mode's nodes would never connect
        env["DECONFLICTION_BUS_SUBJECT"] = f"bench.{mode}.events"
        env["DECONFLICTION_BUS_TRACK_SUBJECT"] = f"bench.{mode}.tracks"
    log(f"{mode}: preloading {preload:,} activities ...")
    meta = prepare(data, url, preload)
    count = 2 if mode == "pg-2" else 1
    nodes = [Node(f"node-{chr(ord('a') + i)}", data, env) for i in range(count)]
    for n in nodes:
        took = n.start()
        log(f"{mode}: {n.name} ready in {took:.1f} s on {n.url}")
    if mode != "sqlite":  # measure the distributed path, not a node serving alone
        deadline = time.perf_counter() + 20.0
        while not all(
            httpx.get(n.url + "/readyz", timeout=5.0).json()["bus"]["connected"] for n in nodes
        ):
            if time.perf_counter() > deadline:
                raise SystemExit(f"{mode}: a node is not connected to NATS; see its log")
            time.sleep(0.2)
    return Cluster(nodes, meta)


def measure(cluster: Cluster, mode: str, duration: float, workers: int) -> dict[str, Any]:
    tokens = [cluster.meta["parties"][name]["token"] for name, _ in PARTIES]
    urls = cluster.urls
    listeners = Listeners([Listener(t, urls, at=i % len(urls)) for i, t in enumerate(tokens)])
    try:
        asyncio.run(file_load(urls, cluster.meta, 3.0, workers, f"warm-{mode}"))  # unmeasured
        load = asyncio.run(file_load(urls, cluster.meta, duration, workers, f"run-{mode}"))
        time.sleep(2.0)  # the last notices
        got = listeners.received()
    finally:
        listeners.close()
    notice_s = [got[t] - s for t, s in load.sent_at.items() if t in got]
    missing = sum(1 for t in load.sent_at if t not in got)
    fps = load.ok / load.span_s
    p50, p99 = pct(notice_s, 50), pct(notice_s, 99)  # pct gives milliseconds
    log(
        f"{mode}: {fps:,.1f} filings/s ({load.ok:,} in {load.span_s:.1f} s, errors "
        f"{load.errors or 'none'}); notice p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
        f"notices not received {missing}"
    )
    return {
        "mode": mode,
        "filings_per_s": round(fps, 1),
        "notice_p50_ms": round(p50, 1),
        "notice_p99_ms": round(p99, 1),
        "notices_missing": missing,
        "errors": load.errors,
    }


def _aircraft(key: str, lon: float, lat: float, heading: float) -> dict[str, Any]:
    return {
        "key": key,
        "time": datetime.now(UTC).isoformat(),
        "lon": lon,
        "lat": lat,
        "altitude_m": 3000.0,
        "ground_speed_kt": 250.0,
        "track_deg": heading,
    }


def tactical(cluster: Cluster, mode: str, pairs: int) -> dict[str, Any]:
    """``pairs`` pairs of aircraft converging (8 km apart), Blue's reported to the first
    node and Red's to the last (with two nodes no node receives both); alert latency is the
    second report sent → ``alert.raised`` on Blue's stream (on the first node)."""
    meta, urls = cluster.meta, cluster.urls
    blue, red = (meta["parties"][name]["token"] for name, _ in PARTIES[:2])
    listeners = Listeners([Listener(blue, urls, at=0)])
    sent: dict[str, float] = {}
    try:
        with httpx.Client(timeout=10.0) as c:
            for k in range(pairs):
                lon, lat = -150.0 + (k % 10) * 1.0, -40.0 + (k // 10) * 1.0  # open ocean
                kb, kr = f"B{k:03d}", f"R{k:03d}"
                for url, token, item in (
                    (urls[0], blue, _aircraft(kb, lon - 0.047, lat, 90.0)),
                    (urls[-1], red, _aircraft(kr, lon + 0.047, lat, 270.0)),
                ):
                    r = c.post(
                        url + "/v1/tracks",
                        json={"tracks": [item]},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    if r.status_code != 200 or r.json()["rejected"]:
                        raise SystemExit(f"tracks refused: {r.status_code} {r.text[:300]}")
                sent[f"{kb}|{kr}"] = time.perf_counter()
                time.sleep(0.2)
        time.sleep(4.0)  # a few cycles: the last alerts, and any told twice
        got = listeners.items[0].alerts
    finally:
        listeners.close()
    lat_s = [got[k][0] - t for k, t in sent.items() if k in got]
    missing = sum(1 for k in sent if k not in got)
    if missing:  # what each node's engine says, to see why
        for url in urls:
            log(f"  {url} readyz tactical: {httpx.get(url + '/readyz').json().get('tactical')}")
    twice = sum(len(v) - 1 for v in got.values())
    p50, p99 = pct(lat_s, 50), pct(lat_s, 99)
    log(
        f"{mode}: tactical alert p50 {p50:.0f} ms, p99 {p99:.0f} ms over {pairs} pairs "
        f"({'split between 2 nodes' if len(urls) > 1 else 'one node'}); missed {missing}, "
        f"told twice {twice}"
    )
    return {
        "alert_p50_ms": round(p50, 1),
        "alert_p99_ms": round(p99, 1),
        "alerts_missed": missing,
        "alerts_twice": twice,
    }


def failover(cluster: Cluster, rounds: int) -> dict[str, Any]:
    """Kill -9 node B under its listeners, ``rounds`` times; return the figures."""
    a, b = cluster.nodes
    tokens = [cluster.meta["parties"][name]["token"] for name, _ in PARTIES]
    times: list[float] = []
    gaps = repeats = 0
    for r in range(rounds):
        listeners = Listeners([Listener(t, [b.url, a.url]) for t in tokens])
        try:
            asyncio.run(file_load([a.url], cluster.meta, 1.0, 2, f"before-{r}"))
            b.kill()
            killed = time.perf_counter()
            asyncio.run(file_load([a.url], cluster.meta, 1.0, 2, f"after-{r}"))
            listeners.wait_connected()
            time.sleep(1.0)
            for li in listeners.items:
                times.extend(li.failovers)
                g, rep = li.gaps_and_repeats()
                gaps, repeats = gaps + g, repeats + rep
            log(
                f"failover round {r + 1}: served again after "
                + ", ".join(f"{t * 1000:.0f}" for li in listeners.items for t in li.failovers)
                + f" ms (killed {time.perf_counter() - killed:.1f} s ago)"
            )
        finally:
            listeners.close()
        b.start()
    p99 = pct(times, 99) / 1000  # pct gives milliseconds
    log(
        f"failover: p99 {p99 * 1000:.0f} ms over {len(times)} reconnections; "
        f"seq gaps {gaps}, repeats {repeats}"
    )
    return {
        "failover_p99_s": round(p99, 3),
        "reconnections": len(times),
        "seq_gaps": gaps,
        "seq_repeats": repeats,
    }


@contextlib.contextmanager
def temp_root() -> Iterator[Path]:
    p = Path(tempfile.mkdtemp(prefix="deconfliction-cluster-"))
    try:
        yield p
    finally:
        shutil.rmtree(p, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preload", type=int, default=2000)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--failover-rounds", type=int, default=5)
    ap.add_argument("--pairs", type=int, default=20, help="converging pairs for the alert latency")
    ap.add_argument("--modes", default="sqlite,pg-1,pg-2")
    args = ap.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in ("sqlite", "pg-1", "pg-2")]
    if bad:
        raise SystemExit(f"unknown mode(s) {', '.join(bad)}: use sqlite, pg-1, pg-2")
    runs: list[dict[str, Any]] = []
    extra: dict[str, Any] = {"failover_p99_s": None}
    with contextlib.ExitStack() as stack:
        root = stack.enter_context(temp_root())
        pg = nats = None
        if any(m.startswith("pg") for m in modes):
            pg = stack.enter_context(PgCluster())
            nats = stack.enter_context(NatsServer())
            log(f"PostgreSQL on {pg.url('postgres')}, NATS on {nats.url}")
        for mode in modes:
            cluster = start_cluster(mode, root, pg, nats, args.preload)
            try:
                runs.append(measure(cluster, mode, args.duration, args.workers))
                if args.pairs > 0:
                    runs[-1] |= tactical(cluster, mode, args.pairs)
                if mode == "pg-2" and args.failover_rounds > 0:
                    extra = failover(cluster, args.failover_rounds)
            finally:
                cluster.stop()
    base = next((r for r in runs if r["mode"] == "sqlite"), None)
    for r in runs:
        if base is not None and r is not base and base["filings_per_s"]:
            log(
                f"{r['mode']} vs sqlite: filings/s ×{r['filings_per_s'] / base['filings_per_s']:.2f}, "
                f"notice p99 ×{r['notice_p99_ms'] / max(base['notice_p99_ms'], 1e-9):.2f}"
            )
    print(json.dumps({"bench": "cluster", "runs": runs, **extra}))


if __name__ == "__main__":
    main()
