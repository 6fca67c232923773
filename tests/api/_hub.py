"""A real hub for end-to-end tests: a uvicorn subprocess on loopback, spoken to over the network.

:class:`Hub` owns one data directory and (re)starts a server on it; :class:`Stream` wraps a
``websockets`` sync client on ``/v1/stream``; :func:`feature` and :func:`spot` build volumes
in places no other test uses, so tests sharing a server do not conflict by accident.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

__all__ = [
    "Hub",
    "Party",
    "Stream",
    "activity_body",
    "add_parties",
    "bootstrap",
    "data_dir",
    "feature",
    "free_port",
    "site_body",
    "spot",
    "square",
]

READY_TIMEOUT_S = 60.0


@contextmanager
def data_dir(name: str) -> Iterator[Path]:
    """A private temporary data directory, removed afterwards (its server log is printed
    to stderr first if the test session fails). Not under pytest's ``tmp_path``: concurrent
    pytest sessions prune each other's old base directories, and a live hub's database
    must not vanish under it."""
    d = Path(tempfile.mkdtemp(prefix=f"deconfliction-{name}-"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bootstrap(data_dir: Path, database_url: str | None = None) -> str:
    """The first admin token of an empty store (created before the server starts); the
    store is the SQLite file in ``data_dir`` unless ``database_url`` names another."""
    from deconfliction.api import Settings, build_hotline
    from deconfliction.bus import InProcessBus

    settings = Settings(data_dir=data_dir, database_url=database_url, progress=False)
    h = build_hotline(settings, InProcessBus())
    try:
        out = h.bootstrap()
        assert out is not None, "the store is not empty"
        return out[1]
    finally:
        h.store.close()


class Hub:
    """A ``uvicorn`` subprocess serving ``deconfliction.api:create_app`` on ``data_dir``."""

    def __init__(
        self,
        data_dir: Path,
        *,
        heartbeat_s: float = 1.0,
        env: dict[str, str] | None = None,
        factory: str = "deconfliction.api:create_app",
        database_url: str | None = None,
    ) -> None:
        self.factory = factory
        self.database_url = database_url
        """The store's URL (``DECONFLICTION_DATABASE_URL``); None: SQLite in ``data_dir``."""
        """The uvicorn app factory (``deconfliction.interop:create_hub_app``: with feeds)."""
        self.data_dir = data_dir
        self.heartbeat_s = heartbeat_s
        self.extra_env = dict(env or {})
        """More ``DECONFLICTION_*`` settings for the server (e.g. a policy file)."""
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0
        self.log_path = data_dir / "server.log"
        self.admin = ""
        """The first admin token (see :func:`bootstrap`)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    def start(self) -> float:
        """Start the server on a free port; return the seconds until ``/readyz`` said 200."""
        assert self.proc is None, "already running"
        env = dict(os.environ)
        env.pop("DECONFLICTION_DATABASE_URL", None)
        if self.database_url is not None:
            env["DECONFLICTION_DATABASE_URL"] = self.database_url
        env |= {
            "DECONFLICTION_DATA_DIR": str(self.data_dir),
            "DECONFLICTION_PROGRESS": "false",
            "DECONFLICTION_HEARTBEAT_S": str(self.heartbeat_s),
        } | self.extra_env
        self.port = free_port()
        self.starts += 1
        log = self.log_path.open("ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                self.factory,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "3",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = t0 + READY_TIMEOUT_S
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError(f"the server exited at start:\n{self.log()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1.0).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server was not ready in {READY_TIMEOUT_S} s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def kill(self) -> None:
        """``kill -9`` the server: no shutdown, no flush beyond what was committed."""
        if self.proc is None:
            return
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc = None

    def db_digest(self) -> str:
        """A digest of every row of every table of the hub's SQLite file, read-only."""
        db = self.data_dir / "hotline.db"
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            h = hashlib.sha256()
            names = con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            ).fetchall()
            for (name,) in names:
                h.update(name.encode())
                for row in con.execute(f'SELECT * FROM "{name}" ORDER BY rowid'):
                    h.update(repr(row).encode())
            return h.hexdigest()
        finally:
            con.close()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10.0)

    def stream(self, token: str | None, since: int | None = None, **kw: Any) -> Stream:
        url = self.ws_url if since is None else f"{self.ws_url}?since={since}"
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return Stream(connect(url, additional_headers=headers, open_timeout=5, legacy=True, **kw))


@dataclass
class Stream:
    """A WebSocket on ``/v1/stream``; heartbeats are kept apart from events."""

    ws: ClientConnection
    heartbeats: list[dict[str, Any]] = field(default_factory=list)

    def next(self, timeout: float = 2.0) -> dict[str, Any]:
        """The next event (heartbeats skipped); raises ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no event")
            msg = json.loads(self.ws.recv(timeout=left))
            if msg.get("type") == "heartbeat":
                self.heartbeats.append(msg)
                continue
            return msg

    def until(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = 2.0
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The first event matching ``pred`` and every event seen up to it."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            e = self.next(max(deadline - time.monotonic(), 0.001))
            seen.append(e)
            if pred(e):
                return e, seen

    def drain(self, quiet: float = 0.3) -> list[dict[str, Any]]:
        """Every event until none arrives for ``quiet`` seconds."""
        out: list[dict[str, Any]] = []
        while True:
            try:
                out.append(self.next(quiet))
            except TimeoutError:
                return out

    def before_heartbeat(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Every event up to the next heartbeat (the replay of a fresh stream)."""
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no heartbeat")
            msg = json.loads(self.ws.recv(timeout=left))
            if msg.get("type") == "heartbeat":
                self.heartbeats.append(msg)
                return out
            out.append(msg)

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Party:
    """A party on the hub with an operator and an observer token (and a client for each)."""

    name: str
    kind: str
    id: str
    operator: str
    observer: str
    hub: Hub
    op: httpx.Client = field(init=False, repr=False)
    obs: httpx.Client = field(init=False, repr=False)
    _seq_hint: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.op = self.hub.client(self.operator)
        self.obs = self.hub.client(self.observer)

    def close(self) -> None:
        self.op.close()
        self.obs.close()

    def on(self, hub: Hub) -> Party:
        """The same party's tokens, with clients of ``hub`` (another node on the same
        store); close it when done."""
        return Party(self.name, self.kind, self.id, self.operator, self.observer, hub)

    def stream(self, since: int | None = None) -> Stream:
        return self.hub.stream(self.operator, since)

    def last_seq(self) -> int:
        """The seq of the party's newest stored event (0 if none)."""
        last = self._seq_hint
        while True:
            r = self.op.get("/v1/events", params={"since": last})
            assert r.status_code == 200, r.text
            batch = r.json()
            if not batch:
                self._seq_hint = last
                return last
            assert [e["seq"] for e in batch] == list(range(last + 1, last + 1 + len(batch)))
            last = batch[-1]["seq"]

    def events(self, since: int = 0) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            r = self.op.get("/v1/events", params={"since": since})
            assert r.status_code == 200, r.text
            batch = r.json()
            if not batch:
                return out
            out += batch
            since = batch[-1]["seq"]

    def file(self, body: dict[str, Any], **headers: str) -> dict[str, Any]:
        r = self.op.post("/v1/activities", json=body, headers=headers)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]


PARTIES = (
    ("Blue", "armed_force"),
    ("Red", "armed_force"),
    ("Green", "humanitarian"),
    ("Civil", "air_navigation_service"),
)


def add_parties(hub: Hub, admin: str) -> dict[str, Party]:
    out: dict[str, Party] = {}
    with hub.client(admin) as c:
        for name, kind in PARTIES:
            r = c.post("/v1/parties", json={"name": name, "kind": kind, "contact": f"{name} ops"})
            assert r.status_code == 201, r.text
            pid = r.json()["id"]
            tokens = {}
            for role in ("operator", "observer"):
                t = c.post(f"/v1/parties/{pid}/tokens", json={"role": role, "label": role})
                assert t.status_code == 201, t.text
                tokens[role] = t.json()["secret"]
            out[name] = Party(name, kind, pid, tokens["operator"], tokens["observer"], hub)
    return out


# ------------------------------------------------------------------------------- volumes

_spots = itertools.count()


def spot() -> tuple[float, float]:
    """A (lon, lat) no other call returned, ≥ 1° (≈ 70 km) from every other one."""
    i = next(_spots)
    return -150.0 + (i % 150) * 2.0, -55.0 + (i // 150) * 2.0


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def square(lon: float, lat: float, half: float = 0.05) -> list[list[float]]:
    return [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]


def feature(
    lon: float,
    lat: float,
    *,
    half: float = 0.05,
    start: datetime | timedelta = timedelta(hours=3),
    hours: float = 1.0,
    lower_m: float = 0.0,
    upper_m: float = 3000.0,
) -> dict[str, Any]:
    """A square volume around (lon, lat); ``start`` is absolute or from now."""
    t0 = datetime.now(UTC) + start if isinstance(start, timedelta) else start
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [square(lon, lat, half)]},
        "properties": {
            "altitude_lower_m": lower_m,
            "altitude_upper_m": upper_m,
            "time_start": iso(t0),
            "time_end": iso(t0 + timedelta(hours=hours)),
        },
    }


def activity_body(
    title: str,
    *features: dict[str, Any],
    kind: str = "flight",
    remarks: str = "",
    priority: str = "routine",
) -> dict[str, Any]:
    return {
        "kind": kind,
        "title": title,
        "priority": priority,
        "remarks": remarks,
        "volumes": {"type": "FeatureCollection", "features": list(features)},
    }


def site_body(
    name: str,
    lon: float,
    lat: float,
    *,
    radius_m: float = 500.0,
    category: str = "medical",
    remarks: str = "",
    days: float = 30.0,
) -> dict[str, Any]:
    """A circular protected site valid from now for ``days``."""
    now = datetime.now(UTC)
    return {
        "name": name,
        "category": category,
        "footprint": {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"radius_m": radius_m},
        },
        "valid_from": iso(now - timedelta(hours=1)),
        "valid_to": iso(now + timedelta(days=days)),
        "remarks": remarks,
    }
