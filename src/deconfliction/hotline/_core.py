"""The hotline's core (shared by the service parts): one object, one lock, one transaction per write.

Every write runs under the service's lock (so two conflicting filings always see each
other: the second one's detection runs against an index that already holds the first),
validates, detects, stores the version, its conflicts, notices, disclosures and stream
events in **one transaction**, then updates the in-memory index and publishes the events.
A late filing is accepted and flagged; nothing here ever refuses a filing for a conflict.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import numpy as np

from deconfliction.detect import Position, Subject, SubjectKind, clearance_needs, index_subject
from deconfliction.errors import (
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
)
from deconfliction.geo import (
    DEFAULT_LIMITS,
    Limits,
    VolumeIndex,
)
from deconfliction.hotline._ports import (
    Change,
    Clock,
    Event,
    EventSink,
    IdempotencyRecord,
    LinkRecord,
    Principal,
    Recorder,
    Store,
    Transaction,
)
from deconfliction.hotline._results import (
    FilingResult,
    Idempotency,
    Signed,
    SiteResult,
)
from deconfliction.model import (
    Activity,
    ActivityKind,
    Asset,
    LinkStatus,
    Party,
    Policy,
    ProtectedSite,
    Role,
    SiteState,
    Track,
)

__all__ = ["Core", "Progress", "SystemClock"]

Progress = Callable[[int, int], None]


T = TypeVar("T")
Job = Callable[[Transaction, datetime, list[Event], list[Callable[[], None]]], T]
"""A write: gets the transaction, the hub time, a list to put its stream events in and a
list of callbacks to run once it succeeded (index updates); returns the caller's result."""

MAX_BATCH = 64
"""The most writes committed together."""

FOLLOW_LIMIT = 5000
"""The most changes applied one by one when following the feed; further behind than that
(a node back from a long pause), the index is reloaded whole."""

_log = logging.getLogger("deconfliction.hotline")


@dataclass(eq=False)
class _Job(Generic[T]):
    run: Job[T]
    result: T | None = None
    error: BaseException | None = None
    events: list[Event] = field(default_factory=list)
    done: bool = False


class SystemClock:
    """The hub's wall clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


_EARTH_R_M = 6_371_008.8


def _near_any(assets: list[Asset], act: Activity, buffer_m: float) -> list[bool]:
    """A cheap, generous prefilter: whether each asset is within a volume's footprint
    radius + buffer of its centre (great-circle distance on a sphere, with a 1 % + 1 km
    margin that covers the sphere's error), before the exact way-out computation."""
    lon = np.radians([a.lon for a in assets])
    lat = np.radians([a.lat for a in assets])
    keep = np.zeros(len(assets), dtype=bool)
    for v in act.volumes:
        clon, clat = (math.radians(x) for x in v.footprint.centre)
        h = (
            np.sin((lat - clat) / 2) ** 2
            + math.cos(clat) * np.cos(lat) * np.sin((lon - clon) / 2) ** 2
        )
        d = 2 * _EARTH_R_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
        keep |= d <= (v.footprint.radius_m + buffer_m) * 1.01 + 1_000.0
    return keep.tolist()


class _NoSink:
    def publish(self, events: Sequence[Event]) -> None:  # pragma: no cover - trivial
        del events


class Core:
    """State and plumbing shared by the service parts: store, policy, clock, index, lock."""

    def __init__(
        self,
        store: Store,
        policy: Policy,
        *,
        clock: Clock | None = None,
        sink: EventSink | None = None,
        limits: Limits = DEFAULT_LIMITS,
        recorder: Recorder | None = None,
    ) -> None:
        self.store = store
        self.recorder = recorder
        """The ledger (None: run without one — tests and the ledger benchmark's baseline)."""
        self.policy = policy
        self.clock: Clock = clock or SystemClock()
        self.sink: EventSink = sink or _NoSink()
        self.limits = limits
        self.index = VolumeIndex()
        self._kinds: dict[UUID, ActivityKind] = {}
        self._lock = threading.RLock()
        self._queue: list[_Job[Any]] = []
        self._queue_lock = threading.Lock()
        self._auth_cache: dict[bytes, tuple[Principal, float]] = {}
        self._names: dict[UUID, str] = {}  # party names (never renamed) for notice texts
        self._assets: dict[UUID, Asset] = {}  # latest report of every asset (time-to-clear)
        self._ladders: dict[UUID, Party] = {}  # parties read by the deadline sweep (cache)
        self._beats: dict[UUID, datetime] = {}  # last heartbeat per party (memory only)
        self._link_seen: dict[UUID, LinkStatus] = {}  # link status last recorded per party
        # what the nodes share through the store (see _links.py): the newest saved heartbeat
        # per party (its last recorded status goes into _link_seen), and when this node last
        # saved a heartbeat
        self._shared_beats: dict[UUID, datetime] = {}
        self._beat_saved: dict[UUID, datetime] = {}
        self._started_at = self._now()
        self.index_generation = 0
        self._feed_seq = 0
        """The last change of the store's feed this node's index has applied."""
        """Counts changes of the index (the tactical engine rebuilds its volumes on one)."""
        self._tracks: dict[tuple[UUID, str], Track] = {}  # latest report per track (memory)
        self._track_lock = threading.Lock()

    # ------------------------------------------------------------------ index (a cache)

    def rebuild_index(self, progress: Progress | None = None) -> int:
        """Reload every live activity and active site from the store; return how many."""
        with self._lock, self.store.read() as tx:
            return self._reload(tx, progress)

    def _reload(self, tx: Transaction, progress: Progress | None = None) -> int:
        head = tx.changes_head()  # first: the feed is followed from this snapshot on
        self.index_generation += 1
        self.index = VolumeIndex()
        self._kinds.clear()
        total = tx.count_live_activities()
        done = 0
        for a in tx.iter_live_footprints():
            index_subject(self.index, Subject(SubjectKind.ACTIVITY, a.id, a.owner), a.volumes)
            self._kinds[a.id] = a.kind
            done += 1
            if progress and (done % 500 == 0 or done == total):
                progress(done, total)
        if progress and total == 0:
            progress(0, 0)
        sites = tx.list_sites(active_only=True)
        for s in sites:
            self._index_site(s)
        self._assets = {a.id: a for a in tx.list_assets()}
        self._shared_beats.clear()
        for link in tx.list_links():
            self._share_link(link)
        self._ladders.clear()
        self._auth_cache.clear()
        self._feed_seq = head
        return done + len(sites)

    # ------------------------------------------------------------------ the change feed

    def follow(self) -> int:
        """Apply to this node's index what was written since it last looked — by other
        nodes on the same database (this node's own writes are applied as they commit);
        return how many changes were read. Writes do it first thing in their transaction,
        under the database's writer lock, so a filing is always detected against every
        filing committed before it on any node; the app also calls it every
        ``follow_interval_s`` so that reads (a dry-run check, the tactical engine) follow."""
        with self._lock, self.store.read() as tx:
            return self._follow(tx)

    def _follow(self, tx: Transaction) -> int:
        feed = tx.changes_since(self._feed_seq, FOLLOW_LIMIT)
        if not feed.complete:
            _log.info(
                "change feed: %s after seq %d; reloading the index",
                "too far ahead" if feed.head > self._feed_seq else "behind this node",
                self._feed_seq,
            )
            self._reload(tx)
            return len(feed.changes)
        for change in feed.changes:
            self._apply(tx, change)
        self._feed_seq = feed.head
        return len(feed.changes)

    def _apply(self, tx: Transaction, change: Change) -> None:
        """Bring the cached state of one changed object up to date from the store."""
        if change.kind == "activity":
            act = tx.get_activity(change.object_id)
            if act is not None:
                self._index_activity(act)
        elif change.kind == "site":
            site = tx.get_site(change.object_id)
            if site is not None:
                self._index_site(site)
        elif change.kind == "asset":
            asset = tx.get_asset(change.object_id)
            if asset is not None:
                self._assets[asset.id] = asset
        elif change.kind == "party":
            self._ladders.pop(change.object_id, None)
        elif change.kind == "token":
            self._auth_cache.clear()
        elif change.kind == "link":
            link = tx.get_link(change.object_id)
            if link is not None:
                self._share_link(link)

    def _share_link(self, link: LinkRecord) -> None:
        if link.last_heartbeat is not None:
            self._shared_beats[link.party_id] = link.last_heartbeat
        if link.status is not None:
            self._link_seen[link.party_id] = LinkStatus(link.status)

    def _index_activity(self, a: Activity) -> None:
        self.index_generation += 1
        subject = Subject(SubjectKind.ACTIVITY, a.id, a.owner)
        if a.state.is_live:
            index_subject(self.index, subject, a.volumes)
            self._kinds[a.id] = a.kind
        elif subject in self.index:
            self.index.remove(subject)
            self._kinds.pop(a.id, None)

    def _index_site(self, s: ProtectedSite) -> None:
        subject = Subject(SubjectKind.PROTECTED_SITE, s.id, s.owner)
        if s.state is SiteState.ACTIVE:
            index_subject(self.index, subject, [s.volume], buffer_m=s.buffer_m)
        elif subject in self.index:
            self.index.remove(subject)

    def _link_value(self, party: UUID) -> str:
        """The party's link status now (see :mod:`deconfliction.hotline._links`)."""
        last = self._last_beat(party)
        if last is None:
            return LinkStatus.DOWN.value
        age = (self._now() - last).total_seconds()
        if age <= self.policy.link_degraded_after_s:
            return LinkStatus.NORMAL.value
        if age <= self.policy.link_down_after_s:
            return LinkStatus.DEGRADED.value
        return LinkStatus.DOWN.value

    def _last_beat(self, party: UUID) -> datetime | None:
        """The party's newest heartbeat: to this node, or saved by any node."""
        mine, shared = self._beats.get(party), self._shared_beats.get(party)
        if mine is None or shared is None:
            return mine or shared
        return max(mine, shared)

    # ------------------------------------------------------------------ party signatures

    def _signature(
        self, tx: Transaction, p: Principal, signed: Signed | None
    ) -> tuple[Any, Any] | None:
        """Verify ``signed`` (inside the write, before anything is stored): the submission
        and the verified signature, for the write's ledger fact."""
        if signed is None:
            return None
        if self.recorder is None:
            raise InvalidInput("signature", "this hub keeps no ledger: it cannot take signatures")
        sig = self.recorder.check_signature(
            tx, p.party_id, signed.submission, signed.signature, signed.key_id
        )
        return signed.submission, sig

    # ------------------------------------------------------------------ time-to-clear

    def _clearance(self, act: Activity, now: datetime) -> dict[UUID, list[dict[str, Any]]]:
        """Other parties' assets in or near ``act``'s volumes (fresh reports only) and the
        time each needs to get clear, by asset owner."""
        kp = self.policy.for_kind(act.kind)
        fresh = [
            a
            for a in self._tracked_assets(now)
            if a.owner != act.owner and (now - a.reported_at).total_seconds() <= kp.asset_max_age_s
        ]
        if not fresh:
            return {}
        near = _near_any(fresh, act, kp.buffers.horizontal_m)
        positions = [
            Position(a.id, a.lon, a.lat, a.altitude_m, a.max_speed_mps)
            for a, ok in zip(fresh, near, strict=True)
            if ok
        ]
        out: dict[UUID, list[dict[str, Any]]] = {}
        for need in clearance_needs(positions, act.volumes, kp.buffers, now):
            asset = self._assets[need.key]  # type: ignore[index]
            out.setdefault(asset.owner, []).append(
                {
                    "asset_id": str(asset.id),
                    "volume": need.volume,
                    "distance_m": round(need.distance_m, 1),
                    "max_speed_mps": need.max_speed_mps,
                    "required_s": round(need.required_s, 1),
                    "available_s": round(need.available_s, 1),
                    "insufficient": need.insufficient,
                }
            )
        return out

    def _tracked_assets(self, now: datetime) -> list[Asset]:
        """The assets, each at its live track's position when a fresher one is held (a
        track whose key is the asset's ref, of the same party, not stale). Looks up each
        asset's track: a filing never copies the whole track table."""
        stale_s = self.policy.tracks.stale_after_s
        with self._track_lock:
            pairs = [(a, self._tracks.get((a.owner, a.ref))) for a in self._assets.values()]
        out = []
        for a, t in pairs:
            if (
                t is not None
                and t.time > a.reported_at
                and (now - t.time).total_seconds() <= stale_s
            ):
                alt = a.altitude_m if t.altitude_m is None else t.altitude_m
                a = replace(a, lon=t.lon, lat=t.lat, altitude_m=alt, reported_at=t.time)
            out.append(a)
        return out

    # ------------------------------------------------------------------ plumbing

    def transact(self, work: Callable[[Transaction, datetime], T]) -> T:
        """Run ``work(tx, now)`` as a write of another service's own state (the F3548
        discovery service's subscriptions, for one) under this hub's writer lock and clock,
        in its group commit; return its result once committed. It tells nobody."""
        return self._submit(lambda tx, now, _events, _after: work(tx, now))

    def _now(self) -> datetime:
        return self.clock.now().astimezone(UTC)

    def _submit(self, run: Job[T]) -> T:
        """Run a write: ``run(tx, now, events, after)`` inside a transaction, then return its
        result once that transaction has committed (the write is durable when this returns).

        **Group commit.** Writes queue; whoever holds the writer lock runs every queued write
        in one transaction, each in its own savepoint (a write that raises is undone alone and
        its caller gets the error), updating the index after each one so the next write of
        the batch detects against it, then commits once — one fsync for the batch — and
        publishes the events. If the commit fails, nothing of the batch is stored: the index
        is rebuilt from the store and each write is retried alone.
        """
        job: _Job[T] = _Job(run)
        with self._queue_lock:
            self._queue.append(job)
        with self._lock:
            if not job.done:
                self._drain()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def _drain(self) -> None:
        """Run the queued writes in batches (holding the writer lock)."""
        while True:
            with self._queue_lock:
                batch = self._queue[:MAX_BATCH]
                del self._queue[:MAX_BATCH]
            if not batch:
                return
            try:
                self._run_batch(batch)
            except Exception:  # the commit failed: nothing of the batch is stored
                _log.exception(
                    "a batch of %d writes failed to commit; retrying one by one", len(batch)
                )
                self.rebuild_index()
                for job in batch:
                    try:
                        self._run_batch([job])
                    except Exception as exc:
                        self.rebuild_index()
                        job.error, job.events = exc, []
            for job in batch:
                if job.error is None and job.events:
                    self.sink.publish(job.events)
                job.done = True

    def _run_batch(self, batch: list[_Job[Any]]) -> None:
        with self.store.transaction() as tx:
            self._follow(tx)  # under the writer lock: every earlier write on any node
            for job in batch:
                events: list[Event] = []
                after: list[Callable[[], None]] = []
                job.error, job.events = None, []
                try:
                    with tx.savepoint():
                        job.result = job.run(tx, self._now(), events, after)
                except Exception as exc:
                    if tx.failed is not None:
                        raise  # a store error: the whole transaction is lost
                    job.error = exc
                    continue
                for f in after:
                    f()
                job.events = events
            head = tx.changes_head()
        self._feed_seq = head

    @staticmethod
    def _replayed(
        tx: Transaction, p: Principal, idem: Idempotency | None
    ) -> IdempotencyRecord | None:
        if idem is None:
            return None
        rec = tx.get_idempotency(p.party_id, idem.key)
        if rec is not None and rec.fingerprint != idem.fingerprint:
            raise IdempotencyConflict(
                f"Idempotency-Key {idem.key!r} was used before with a different request"
            )
        return rec

    @staticmethod
    def _remember(
        tx: Transaction,
        p: Principal,
        idem: Idempotency | None,
        result: dict[str, Any],
        now: datetime,
    ) -> None:
        if idem is not None:
            tx.put_idempotency(
                IdempotencyRecord(p.party_id, idem.key, idem.fingerprint, result, now)
            )

    @staticmethod
    def _ref(r: FilingResult | SiteResult) -> dict[str, Any]:
        obj = r.activity if isinstance(r, FilingResult) else r.site
        ref: dict[str, Any] = {
            "id": str(obj.id),
            "version": obj.version,
            "conflicts": [str(c.id) for c in r.conflicts],
            "notices": [str(n.id) for n in r.notices],
        }
        if isinstance(r, FilingResult):
            ref |= {"lead_time_s": r.lead_time_s, "required_lead_time_s": r.required_lead_time_s}
        if r.receipt is not None:
            ref["receipt"] = r.receipt.to_json()
        return ref

    @staticmethod
    def _need(p: Principal, role: Role) -> None:
        order = [Role.OBSERVER, Role.OPERATOR, Role.ADMIN]
        if order.index(p.role) < order.index(role):
            raise Forbidden(f"this needs the {role.value} role; the token has {p.role.value}")

    # ------------------------------------------------------------------ need-to-know reads

    @staticmethod
    def _sees(tx: Transaction, party: UUID, act: Activity) -> bool:
        """Whether ``party`` may see another party's activity: while it affects them."""
        return any(
            (c.other_owner if c.activity_id == act.id else c.activity_owner) == party
            for c in tx.conflicts_of(act.id, open_only=True)
        )

    @staticmethod
    def _site_disclosed(tx: Transaction, party: UUID, s: ProtectedSite) -> bool:
        return any(c.activity_owner == party for c in tx.conflicts_of(s.id, open_only=True))
