"""Crash-safety harness: ``kill -9`` the hub at random moments under mixed load, restart, check.

One :class:`CrashRun` owns a hub (:class:`~tests.crash._server.Server`: ``deconfliction
serve`` on a loopback port, the SQLite file store or a PostgreSQL URL, with its ledger),
a few parties and, per party, a writer and a stream reader (:mod:`tests.crash._workload`).
Each round the writers start a budget of operations; once a random share of them is done
(plus a random few milliseconds) the hub is killed with SIGKILL and started again; the
writers retry what got no answer with the same Idempotency-Key, finish their budget, and
then every invariant of :mod:`tests.crash._checks` is checked over everything the clients
were ever told, the ledger is verified (``deconfliction ledger verify``), each party's
deliveries are confirmed (and must survive the next crash), and a sample of acknowledged
writes is sent again with its key: the same answer must come back, and no new object.

Used by ``tests/crash/test_crash.py`` (a few rounds in ``make test``) and
``bench/crash.py`` (``make soak-crash``: many rounds, a summary and one JSON line).
"""

from __future__ import annotations

import contextlib
import io
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from deconfliction.cli import main as cli_main
from tests.crash._checks import Snapshot, check_acked, check_store, check_streams
from tests.crash._server import Server
from tests.crash._webhook import Receiver
from tests.crash._workload import Acked, Context, PartyState, Reader, Writer

__all__ = ["CrashRun", "Options", "Summary"]

_PARTIES = (
    ("Blue", "armed_force"),
    ("Red", "armed_force"),
    ("Green", "humanitarian"),
    ("Civil", "air_navigation_service"),
)


@dataclass
class Options:
    rounds: int = 3
    ops: int = 120
    """Operations per round, over all parties."""
    parties: int = 4
    seed: int = 1
    database_url: str | None = None
    """None: the SQLite file in the data directory."""
    replays: int = 8
    """Acknowledged writes sent again (same key) after each round."""
    startup_kills: float = 0.3
    """The share of rounds where the restarting hub is killed again at a random moment."""
    origin: tuple[float, float] = (20.0, -40.0)
    """(lon, lat) of the area every filing lands near (so they conflict)."""


@dataclass
class Summary:
    store: str
    rounds: int = 0
    operations: int = 0
    kills: int = 0
    startup_kills: int = 0
    acknowledged_writes: int = 0
    acknowledged_checked: int = 0
    retried_after_crash: int = 0
    committed_before_crash: int = 0
    replays_checked: int = 0
    webhook_events: int = 0
    webhook_duplicates: int = 0
    deliveries_confirmed: int = 0
    events_checked: int = 0
    notices: int = 0
    ledger_entries: int = 0
    restart_s_max: float = 0.0
    seconds: float = 0.0
    findings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"findings": len(self.findings), "ok": not self.findings}


class CrashRun:
    """A hub, its parties and their clients; :meth:`round` crashes it once and checks."""

    def __init__(self, data_dir: Path, opts: Options, log: Callable[[str], None] = print) -> None:
        self.opts, self.log = opts, log
        self.rng = random.Random(opts.seed)
        self.server = Server(data_dir, database_url=opts.database_url)
        self.ctx = Context(self.server.url, self.server.ws_url, opts.origin)
        self.summary = Summary("postgresql" if opts.database_url else "sqlite")
        self.parties: list[PartyState] = []
        self.readers: list[Reader] = []
        self.confirmed: dict[UUID, int] = {}  # party → seq its client confirmed it has (200)
        self.receiver = Receiver()  # the last party's level-0 webhook

    # ------------------------------------------------------------------ setup

    def __enter__(self) -> CrashRun:
        self.server.start()
        with httpx.Client(
            base_url=self.server.url,
            headers={"Authorization": f"Bearer {self.server.admin}"},
            timeout=20.0,
        ) as c:
            for name, kind in _PARTIES[: self.opts.parties]:
                r = c.post("/v1/parties", json={"name": name, "kind": kind, "contact": name})
                assert r.status_code == 201, r.text
                pid = r.json()["id"]
                ladder = {"levels": [{"name": "watch commander", "deadline_min": 0.2}]}
                e = c.put(f"/v1/parties/{pid}/escalation", json=ladder)
                assert e.status_code == 200, e.text
                t = c.post(f"/v1/parties/{pid}/tokens", json={"role": "operator", "label": "op"})
                assert t.status_code == 201, t.text
                self.parties.append(PartyState(name, pid, t.json()["secret"]))
            hook = c.put(f"/v1/parties/{pid}/webhooks/0", json={"url": self.receiver.url})
            assert hook.status_code == 201, hook.text
            self.receiver.start(hook.json()["secret"], hook.json()["cursor"])
        self.ctx.up.set()
        self.readers = [Reader(self.ctx, p) for p in self.parties]
        for r in self.readers:
            r.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.ctx.stop.set()
        for r in self.readers:
            r.join(timeout=10)
        self.server.stop()
        self.receiver.close()

    @property
    def ids(self) -> dict[str, str]:
        return {p.name: p.id for p in self.parties}

    # ------------------------------------------------------------------ a round

    def round(self, i: int) -> list[str]:
        """Run round ``i``: load, one kill -9 at a random moment, restart, finish, check."""
        ctx, rng, opts = self.ctx, self.rng, self.opts
        ctx.round = i
        t0 = time.perf_counter()
        found0, done0 = len(ctx.findings), ctx.done
        budget = max(1, opts.ops // len(self.parties))
        writers = [Writer(ctx, p, budget, rng.randrange(2**32)) for p in self.parties]
        for w in writers:
            w.start()
        target = done0 + rng.randint(max(1, opts.ops // 8), max(2, opts.ops * 7 // 8))
        deadline = time.monotonic() + 120
        while ctx.done < target and any(w.is_alive() for w in writers):
            if time.monotonic() > deadline:
                ctx.finding("the load stalled before the kill")
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.03))
        ctx.up.clear()
        self.server.kill()
        again = rng.random() < opts.startup_kills  # and once more while it starts again
        if again and self.server.start(kill_after_s=rng.uniform(0.2, 8.0)) >= 0:
            self.server.kill()  # it was ready first: a kill like the others
        restart = self.server.start()
        ctx.up.set()
        for w in writers:
            w.join(timeout=180)
            if w.is_alive():
                ctx.finding(f"{w.name} did not finish")
        t1 = time.perf_counter()
        self._quiesce()
        t2 = time.perf_counter()
        found = ctx.findings[found0:] + self._check()
        t3 = time.perf_counter()
        s = self.summary
        s.rounds += 1
        s.operations += ctx.done - done0
        s.kills = self.server.kills
        s.startup_kills = self.server.startup_kills
        s.restart_s_max = max(s.restart_s_max, restart)
        s.retried_after_crash, s.committed_before_crash = ctx.retries, ctx.replayed
        s.acknowledged_writes = len(ctx.acked)
        s.findings += [f for f in found if f not in s.findings]
        self.log(
            f"round {i}: {ctx.done - done0} ops, killed after {target - done0}, restart "
            f"{restart:.2f} s, {len(ctx.acked)} acknowledged writes so far, "
            f"{len(found)} findings, {t3 - t0:.1f} s (load {t1 - t0:.1f}, quiesce "
            f"{t2 - t1:.1f}, checks {t3 - t2:.1f})"
        )
        for f in found:
            self.log(f"  FINDING {f}")
        return found

    def _quiesce(self, stall_s: float = 30.0) -> None:
        """Wait until every reader (and the webhook) has its party's whole stream — a finding
        if one makes no progress for ``stall_s`` — then confirm delivery of it over HTTP
        (every notice sent with those events must stay delivered across later crashes)."""
        for p in self.parties:
            with httpx.Client(
                base_url=self.server.url, headers={"Authorization": f"Bearer {p.token}"}
            ) as c:
                head = _Head(c)

                def mine(p: PartyState = p) -> int:
                    with p.lock:
                        return p.received[-1] if p.received else 0

                got, last = _wait(head, mine, stall_s)
                if got < last:
                    self.ctx.finding(f"{p.name}'s reader stuck at {got} of {last}")
                if p is self.parties[-1]:
                    hook, last = _wait(head, lambda: self.receiver.last, stall_s)
                    if hook < last:
                        self.ctx.finding(f"webhook stuck at {hook} of {last}")
                r = c.post("/v1/notices/delivered", json={"seq": got})
                if r.status_code != 200:
                    self.ctx.finding(f"{p.name} confirm delivery: {r.status_code} {r.text[:200]}")
                    continue
                self.confirmed[UUID(p.id)] = got

    def _check(self) -> list[str]:
        s = self.summary
        s.deliveries_confirmed = 0
        received = {}
        for p in self.parties:
            with p.lock:
                received[p.name] = list(p.received)
        alerts = self._open_alerts()
        snap = Snapshot(self.server.engine())
        alerts |= self._open_alerts()
        out = check_store(snap)
        for n in snap.notices.values():  # an alert's open notice: its alert is open
            waiting = n.answered_at is None and n.status not in ("superseded", "expired")
            if n.alert_id is not None and waiting and str(n.alert_id) not in alerts:
                out.append(f"notice {n.id} ({n.status}): its alert {n.alert_id} is not open")
        out += check_acked(snap, self.ctx.acked, self.ids)
        out += check_streams(snap, received, self.ids)
        for n in snap.notices.values():  # confirmed (200): delivered, for good
            if n.event_seq <= self.confirmed.get(n.recipient, 0) and n.delivered_at is None:
                out.append(f"notice {n.id}: its event {n.event_seq} confirmed, not delivered")
                continue
            s.deliveries_confirmed += n.event_seq <= self.confirmed.get(n.recipient, 0)
        with self.receiver.lock:
            out += self.receiver.findings
            self.receiver.findings.clear()
            s.webhook_events, s.webhook_duplicates = self.receiver.last, self.receiver.duplicates
        out += self._through_api()
        out += self._verify_ledger()
        out += self._replays(snap)
        s.acknowledged_checked = len(self.ctx.acked)
        s.events_checked = len(snap.events)
        s.notices = len(snap.notices)
        s.ledger_entries = len(snap.ledger)
        return [f"round {self.ctx.round}: {f}" for f in out]

    def _open_alerts(self) -> set[str]:
        """The ids of the alerts the hub has open (as each party lists them)."""
        out = set()
        with httpx.Client(base_url=self.server.url, timeout=20.0) as c:
            for p in self.parties:
                r = c.get("/v1/alerts", headers={"Authorization": f"Bearer {p.token}"})
                r.raise_for_status()
                out |= {a["id"] for a in r.json() if a.get("id")}
        return out

    def _through_api(self) -> list[str]:
        """This round's acknowledged activity writes as their owners read them now."""
        newest: dict[tuple[str, str], int] = {}
        for w in self.ctx.acked:
            if w.round == self.ctx.round and "activity" in w.answer:
                k = (w.party, w.answer["activity"]["id"])
                newest[k] = max(newest.get(k, 0), w.answer["activity"]["version"])
        tokens = {p.name: p.token for p in self.parties}
        out = []
        with httpx.Client(base_url=self.server.url, timeout=20.0) as c:
            for (party, aid), version in newest.items():
                auth = {"Authorization": f"Bearer {tokens[party]}"}
                r = c.get(f"/v1/activities/{aid}", headers=auth)
                if r.status_code != 200 or r.json()["version"] < version:
                    out.append(f"GET {aid}: {r.status_code}, v{version} was acknowledged")
        return out

    def _verify_ledger(self) -> list[str]:
        argv = ["ledger", "verify", "--data-dir", str(self.server.data_dir), "--quiet"]
        if self.opts.database_url:
            argv += ["--database-url", self.opts.database_url]
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            rc = cli_main(argv)
        return [] if rc == 0 else [f"ledger verify: exit {rc}: {buf.getvalue()[-500:]}"]

    def _replays(self, snap: Snapshot) -> list[str]:
        """Send a sample of acknowledged idempotent writes again: same answer, nothing new."""
        pool = [w for w in self.ctx.acked if w.idempotent]
        sample = self.rng.sample(pool, min(self.opts.replays, len(pool)))
        tokens = {p.name: p.token for p in self.parties}
        out = []
        with httpx.Client(base_url=self.server.url, timeout=20.0) as c:
            for w in sample:
                out += _replay(c, tokens[w.party], w)
        after = Snapshot(self.server.engine())
        # (the tactical engine may raise alerts meanwhile: count only activities' notices)
        before_n, after_n = _activity_notices(snap), _activity_notices(after)
        if len(after.versions) != len(snap.versions) or after_n != before_n:
            out.append(
                f"replays stored something: {len(snap.versions)} → {len(after.versions)} "
                f"versions, {before_n} → {after_n} notices about activities"
            )
        self.summary.replays_checked += len(sample)
        return out


class _Head:
    """The party's last event seq (read on from the last one seen)."""

    def __init__(self, c: httpx.Client) -> None:
        self.c, self.last = c, 0

    def __call__(self) -> int:
        self.last = _last_seq(self.c, self.last)
        return self.last


def _wait(
    target: Callable[[], int], progress: Callable[[], int], stall_s: float
) -> tuple[int, int]:
    """Poll until ``progress()`` reaches ``target()`` or stops moving for ``stall_s``;
    return both as they were last compared."""
    best, since = progress(), time.monotonic()
    while (now := progress()) < (goal := target()):
        if now > best:
            best, since = now, time.monotonic()
        elif time.monotonic() - since > stall_s:
            break
        time.sleep(0.05)
    return now, goal


def _activity_notices(s: Snapshot) -> int:
    return sum(1 for n in s.notices.values() if n.alert_id is None)


def _last_seq(c: httpx.Client, last: int = 0) -> int:
    while True:
        r = c.get("/v1/events", params={"since": last})
        r.raise_for_status()
        batch = r.json()
        if not batch:
            return last
        last = batch[-1]["seq"]


def _replay(c: httpx.Client, token: str, w: Acked) -> list[str]:
    req = w.request
    headers = req.headers | {"Authorization": f"Bearer {token}"}
    r = c.request(req.method, req.path, json=req.body, headers=headers)
    what = f"replay of {w.party} {req.op} (round {w.round})"
    if r.status_code != w.status:
        return [f"{what}: {r.status_code} (was {w.status}) {r.text[:200]}"]
    doc = r.json()
    if req.op == "acknowledge":  # the first answer's receipt, the notice answered
        if doc["receipt"] != w.answer["receipt"] or doc["notice"]["answered_at"] is None:
            return [f"{what}: answered {doc}, was {w.answer}"]
        return []
    got = (doc["activity"]["id"], doc["activity"]["version"], [n["id"] for n in doc["notices"]])
    was = (w.answer["activity"]["id"], w.answer["activity"]["version"])
    was_notices = [n["id"] for n in w.answer["notices"]]
    if got != (*was, was_notices) or not doc["replayed"]:
        return [f"{what}: answered {got} replayed={doc['replayed']}, was {was} {was_notices}"]
    return []
