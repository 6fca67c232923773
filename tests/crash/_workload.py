"""The clients of a crash run: one writer thread and one stream reader per party.

A :class:`Writer` does mixed operations — filings (in a shared area, so they conflict),
amendments with If-Match, activate/end/cancel, acknowledgements of notices its reader
received, track batches — each write with an ``Idempotency-Key`` where the API takes one.
A write whose answer never came (the hub died under it) stays *pending* and is retried,
unchanged and with the same key, once the hub is back. Every 2xx answer is recorded as an
:class:`Acked` write (what the client was told) for the checks.

A :class:`Reader` holds the party's ``/v1/stream`` WebSocket, reconnects with
``since=<last seq>`` after a crash and records any gap or duplicate it is sent.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

__all__ = ["Acked", "Context", "PartyState", "Reader", "Request", "Writer"]

_LIVE = ("notified", "active")


@dataclass
class Request:
    """One write as sent (kept to retry it, or replay it, byte for byte)."""

    op: str  # file, amend, activate, end, cancel, acknowledge, tracks
    method: str
    path: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    activity: str | None = None
    notice: str | None = None


@dataclass
class Acked:
    """A write the client saw acknowledged (2xx), with what the answer said."""

    party: str
    request: Request
    status: int
    answer: dict[str, Any]
    round: int
    retried: bool  # sent again after a crash (its first try got no answer)

    @property
    def idempotent(self) -> bool:
        return "Idempotency-Key" in self.request.headers


@dataclass
class PartyState:
    name: str
    id: str
    token: str
    activities: dict[str, tuple[int, str]] = field(default_factory=dict)  # id → version, state
    inbox: list[str] = field(default_factory=list)  # notices to answer (from the stream)
    received: list[int] = field(default_factory=list)  # every seq the reader got, in order
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Context:
    """What the threads share: the hub's URL, whether it is up, the results."""

    url: str
    ws_url: str
    origin: tuple[float, float]  # (lon, lat) of the shared area
    up: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    acked: list[Acked] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    done: int = 0  # operations answered (any status)
    round: int = 0
    retries: int = 0  # writes sent again after a crash
    replayed: int = 0  # … of which the hub had committed the first try
    lock: threading.Lock = field(default_factory=threading.Lock)

    def finding(self, text: str) -> None:
        with self.lock:
            self.findings.append(f"round {self.round}: {text}")


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _square(lon: float, lat: float, half: float) -> list[list[float]]:
    return [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]


class Writer(threading.Thread):
    """One party's client doing ``budget`` operations (plus the retries a crash needs)."""

    def __init__(self, ctx: Context, party: PartyState, budget: int, seed: int) -> None:
        super().__init__(name=f"writer-{party.name}", daemon=True)
        self.ctx, self.party, self.budget = ctx, party, budget
        self.rng = random.Random(seed)
        self.pending: Request | None = None

    # ------------------------------------------------------------------ requests

    def _body(self, title: str) -> dict[str, Any]:
        lon0, lat0 = self.ctx.origin
        lon = lon0 + self.rng.uniform(-0.6, 0.6)
        lat = lat0 + self.rng.uniform(-0.6, 0.6)
        t0 = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=self.rng.uniform(2, 6))
        feature = {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [_square(lon, lat, self.rng.uniform(0.02, 0.08))],
            },
            "properties": {
                "altitude_lower_m": 0.0,
                "altitude_upper_m": self.rng.choice([1000.0, 3000.0]),
                "time_start": _iso(t0),
                "time_end": _iso(t0 + timedelta(hours=1)),
            },
        }
        return {
            "kind": "flight",
            "title": title,
            "priority": "routine",
            "remarks": "",
            "volumes": {"type": "FeatureCollection", "features": [feature]},
        }

    def _next(self) -> Request:
        p, rng = self.party, self.rng
        key = {"Idempotency-Key": str(uuid.uuid4())}
        with p.lock:
            live = [(a, v, s) for a, (v, s) in p.activities.items() if s in _LIVE]
            inbox = list(p.inbox)
        roll = rng.random()
        if roll < 0.3 or not live:
            return Request("file", "POST", "/v1/activities", self._body(f"{p.name} op"), key)
        a, v, s = rng.choice(live)
        match_ = {"If-Match": f'"{v}"'} | key
        if roll < 0.55:
            body = self._body(f"{p.name} op v{v + 1}")
            return Request("amend", "PUT", f"/v1/activities/{a}", body, match_, activity=a)
        if roll < 0.7:
            action = rng.choice(["activate", "cancel"] if s == "notified" else ["end", "cancel"])
            return Request(action, "POST", f"/v1/activities/{a}/{action}", None, match_, a)
        if roll < 0.88 and inbox:
            n = rng.choice(inbox)
            with p.lock:
                if n in p.inbox:
                    p.inbox.remove(n)
            path = f"/v1/notices/{n}/acknowledge"
            return Request("acknowledge", "POST", path, None, key, notice=n)
        lon0, lat0 = self.ctx.origin
        now = _iso(datetime.now(UTC))
        tracks = [
            {
                "key": f"{p.name}-{i}",
                "time": now,
                "lon": lon0 + rng.uniform(-0.5, 0.5),
                "lat": lat0 + rng.uniform(-0.5, 0.5),
                "altitude_m": rng.uniform(100, 3000),
                "ground_speed_mps": 60.0,
                "track_deg": rng.uniform(0, 360),
            }
            for i in range(5)
        ]
        return Request("tracks", "POST", "/v1/tracks", {"tracks": tracks})

    # ------------------------------------------------------------------ the loop

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.party.token}"}
        with httpx.Client(base_url=self.ctx.url, headers=headers, timeout=20.0) as c:
            n = 0
            while n < self.budget or self.pending is not None:
                if self.ctx.stop.is_set():
                    return
                if not self.ctx.up.wait(timeout=0.5):
                    continue
                req, retried = (self.pending, True) if self.pending else (self._next(), False)
                try:
                    r = c.request(req.method, req.path, json=req.body, headers=req.headers)
                except httpx.TransportError:
                    self.pending = req  # no answer: unknown whether it was taken
                    time.sleep(0.05)
                    continue
                self.pending = None
                if retried:
                    with self.ctx.lock:
                        self.ctx.retries += 1
                self._answer(req, r, retried)
                n += 1
                with self.ctx.lock:
                    self.ctx.done += 1

    def _answer(self, req: Request, r: httpx.Response, retried: bool) -> None:
        p, ctx = self.party, self.ctx
        try:
            doc = r.json()
        except ValueError:
            doc = {}
        if r.status_code >= 500:
            ctx.finding(f"{p.name} {req.op} {req.path}: {r.status_code} {r.text[:300]}")
            return
        if req.op == "acknowledge":
            # a retry of a taken answer replays it (its key); 409: the notice was answered
            # by another request (the reader may see a notice again after a restart)
            if r.status_code == 200:
                ctx.acked.append(Acked(p.name, req, 200, doc, ctx.round, retried))
            elif r.status_code != 409 and r.status_code != 404:
                ctx.finding(f"{p.name} acknowledge: {r.status_code} {r.text[:300]}")
            return
        if req.op == "tracks":
            if r.status_code != 200:
                ctx.finding(f"{p.name} tracks: {r.status_code} {r.text[:300]}")
            return
        if r.status_code not in (200, 201):
            ctx.finding(f"{p.name} {req.op} {req.path}: {r.status_code} {r.text[:300]}")
            return
        act = doc["activity"]
        if retried and doc.get("replayed"):
            with ctx.lock:
                ctx.replayed += 1
        ctx.acked.append(Acked(p.name, req, r.status_code, doc, ctx.round, retried))
        with p.lock:
            old = p.activities.get(act["id"])
            if old is None or old[0] < act["version"]:
                p.activities[act["id"]] = (act["version"], act["state"])


class Reader(threading.Thread):
    """One party's ``/v1/stream`` client: resumes with ``since`` and checks every seq."""

    def __init__(self, ctx: Context, party: PartyState) -> None:
        super().__init__(name=f"reader-{party.name}", daemon=True)
        self.ctx, self.party = ctx, party
        self.connects = 0

    @property
    def last(self) -> int:
        with self.party.lock:
            return self.party.received[-1] if self.party.received else 0

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.party.token}"}
        while not self.ctx.stop.is_set():
            if not self.ctx.up.wait(timeout=0.2):
                continue
            try:
                with connect(
                    f"{self.ctx.ws_url}?since={self.last}",
                    additional_headers=headers,
                    open_timeout=5,
                ) as ws:
                    self.connects += 1
                    self._read(ws)
            except (ConnectionClosed, OSError, TimeoutError):
                time.sleep(0.05)

    def _read(self, ws: Any) -> None:
        unconfirmed = 0
        while not self.ctx.stop.is_set():
            try:
                msg = json.loads(ws.recv(timeout=0.2))
            except TimeoutError:
                if unconfirmed:
                    ws.send(json.dumps({"type": "delivered", "seq": self.last}))
                    unconfirmed = 0
                continue
            if msg.get("type") in ("heartbeat", "error"):
                continue
            seq = msg["seq"]
            last = self.last
            if seq != last + 1:
                what = "a duplicate" if seq <= last else "a gap"
                self.ctx.finding(f"{self.party.name}'s stream: {what}: seq {seq} after {last}")
            with self.party.lock:
                self.party.received.append(seq)
                n = msg["data"].get("notice") if msg["type"] == "notice" else None
                if n and n.get("needs_answer") and n.get("status") != "superseded":
                    self.party.inbox.append(n["id"])
            unconfirmed += 1
            if unconfirmed >= 10:
                ws.send(json.dumps({"type": "delivered", "seq": seq}))
                unconfirmed = 0
