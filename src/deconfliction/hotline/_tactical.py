"""The tactical picture: every cycle, the live tracks against each other and against the
declared volumes — proximity, incursion, conformance — as stateful alerts.

:meth:`TacticalServices.tactical_tick` (the server runs it every ``tactical_cycle_s``,
default 1 s) takes the fresh tracks (:mod:`deconfliction.hotline._tracks`), the volumes of
the live activities open now or within the look-ahead (rebuilt when the index changes or
the horizon moves on), runs :func:`deconfliction.detect.tactical_cycle`, and lets an
:class:`~deconfliction.detect.AlertBook` say what is new, still there, contingent or gone.

An alert is **raised once**, told to every party it concerns (on their streams:
``alert.raised``), recorded on the ledger; **updated** while it persists (at most every
``UPDATE_EVERY_S`` per alert: the figures move every cycle, the parties need them, not a
flood); a non-conformance that lasts 60 s becomes **contingent** (told and recorded); and
it is **cleared** when the situation ends (told and recorded). Nothing is re-sent each
cycle. Open alerts are listed by ``GET /v1/alerts`` (only those concerning the caller).

Several nodes (:meth:`TacticalServices.shard_tracks`): the tracks are shared by shard cell
and each node judges the alerts of the cells it owns
(:mod:`deconfliction.hotline._shard_picture`); every alert told is kept in the store's
``open_alerts`` until cleared, so ``GET /v1/alerts`` on any node lists them all
(:mod:`deconfliction.hotline._alert_notices`).

Limits (documented): tracks without an altitude or on the ground are left out (an unknown
altitude cannot be separated), a track without speed or heading is taken as stationary;
alerts live in the memory of the engine that judges them: the first cycle after a start
clears the alerts open when the hub (with several nodes: this node) stopped or was killed,
and the first of the live nodes clears those of a node that is gone — their unanswered
notices superseded, ``alert.cleared`` told with ``"orphaned": true`` (nothing else would
clear them, and they would climb the ladders); a situation still current is raised again
from the next reports, and the ledger keeps what was told.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID, uuid4

from deconfliction.detect import (
    ActivityVolumes,
    Alert,
    AlertBook,
    ProximityRules,
    Separation,
    ShardGrid,
    Subject,
    SubjectKind,
    TacticalConfig,
    TrackSet,
    VolumeSet,
    alert_cell,
    tactical_cycle,
)
from deconfliction.hotline._alert_notices import AlertNotices
from deconfliction.hotline._json import iso
from deconfliction.hotline._ports import Event, Fact, Principal, TrackExchange, Transaction
from deconfliction.hotline._shard_picture import ShardedPicture, keep_s, newest, shard_margin_m
from deconfliction.model import (
    MAX_ASSET_SPEED_MPS,
    Track,
    TrackBatchResult,
)

__all__ = ["UPDATE_EVERY_S", "TacticalServices", "TickResult", "alert_json"]

_log = logging.getLogger("deconfliction.tactical")

UNLINKED = "unlinked"
"""The kind of a track that flies for no activity."""

UPDATE_EVERY_S = 10.0
"""Least time between two ``alert.updated`` events of one alert."""

HORIZON_S = 900.0
"""How far ahead of now the volume set reaches (rebuilt well before that runs out)."""

REBUILD_EVERY_S = 60.0
"""The volume set is rebuilt at least this often (the horizon moves on)."""


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one cycle did."""

    tracks: int
    volumes: int
    raised: int
    updated: int
    contingent: int
    cleared: int
    timings_s: dict[str, float]


def _track_ref(ident: Hashable) -> dict[str, str]:
    party, key = cast(tuple[object, object], ident)
    return {"party": str(party), "key": str(key)}


def alert_json(a: Alert, *, since: float | None = None, contingent: bool = False) -> dict[str, Any]:
    """An alert as the parties see it (positions of the tracks concerned are theirs to see:
    the alert is about them)."""
    out: dict[str, Any] = {
        "kind": a.kind.value,
        "key": "|".join(str(k) for k in a.key),
        "parties": sorted(str(p) for p in a.parties),
        "tracks": [_track_ref(t) for t in a.tracks],
        "activity_id": None if a.activity is None else str(a.activity),
        "volume": a.volume,
        "time_to_s": None if a.time_to_s is None else round(a.time_to_s, 1),
        "cpa_time_s": None if a.cpa_time_s is None else round(a.cpa_time_s, 1),
        "cpa_distance_m": None if a.cpa_distance_m is None else round(a.cpa_distance_m, 1),
        "cpa_vertical_m": None if a.cpa_vertical_m is None else round(a.cpa_vertical_m, 1),
        "position": None if a.position is None else [round(x, 6) for x in a.position],
        "contingent": contingent,
    }
    if since is not None:
        out["since"] = iso(datetime.fromtimestamp(since, UTC))
    return out


class TacticalServices(AlertNotices):
    """Run the tactical cycle; list the open alerts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tactical = _TacticalState()
        self.sole_tactical_node = True
        """Whether this hub's tactical engine is the only one on its store: then the alerts
        open when it last stopped were its own, and its first cycle supersedes their
        unanswered notices (:meth:`_orphaned_alerts`). Set it False when several nodes
        share the store, each with its own engine: another node's open alerts are not
        orphans."""
        self.picture: ShardedPicture | None = None
        """This node's share of the tracks when several nodes run (:meth:`shard_tracks`);
        None: this node sees every track it is given, and only those."""

    def shard_tracks(
        self, exchange: TrackExchange, size_km: float = 500.0, cycle_s: float = 1.0
    ) -> None:
        """Share the tactical picture with the other nodes through ``exchange``: every
        accepted report goes to the shard cells near it, and this node judges the tracks
        of the cells it owns (:mod:`deconfliction.hotline._shard_picture`). ``cycle_s``:
        how often :meth:`tactical_tick` runs (hand-overs are timed by it)."""
        self.picture = ShardedPicture(exchange, ShardGrid(size_km), cycle_s)
        self.judged_by = exchange.node_name

    def _take(self, checked: Sequence[Track | str]) -> TrackBatchResult:
        result = super()._take(checked)
        if self.picture is not None and result.accepted:
            self.picture.route(result.accepted, self._shard_margin_m())
        return result

    def _shard_margin_m(self) -> float:
        sep = max(Separation().horizontal_m, self.policy.max_buffers.horizontal_m)
        return shard_margin_m(sep, self.policy.tracks)

    def _picture_tracks(self, now: datetime) -> tuple[list[Track], frozenset[int] | None]:
        """The tracks this cycle judges, and the cells whose alerts it reports (None: all —
        a single node, or the exchange is down and this node judges what it received)."""
        cutoff = now - timedelta(seconds=self.policy.tracks.stale_after_s)
        local = self.fresh_tracks(now)
        if self.picture is None:
            return local, None
        keep = keep_s(self.policy.tracks, self.picture.cycle_s)
        watched = self.picture.refresh(now.timestamp(), keep)
        if watched is None:
            if not self._tactical.alone:
                _log.warning(
                    "tactical: the track exchange is down; this node judges the tracks it "
                    "receives itself, and those it held, until it is back"
                )
                self._tactical.alone = True
            # every report at hand (a blip must not clear alerts of tracks still reported)
            return newest(self.picture.tracks(cutoff.timestamp()), local), None
        if self._tactical.alone:
            _log.info("tactical: the track exchange is back; judging this node's cells")
            self._tactical.alone = False
        live = self.picture.members
        if live != self._tactical.members:  # the first live node clears the alerts of the
            before = self._tactical.members  # nodes gone (those it saw as members, those
            if live[0] == self.judged_by:  # of a single-node run, all at its first look)
                self._orphaned_alerts(
                    lambda judge: (
                        judge not in live and (not before or judge is None or judge in before)
                    ),
                    every_notice=False,
                )
            self._tactical.members = live  # after: a failed clearing is tried again
        return self.picture.tracks(cutoff.timestamp()), watched

    def tactical_status(self) -> dict[str, Any]:
        """How this node's tactical engine is sharded (for ``/readyz``)."""
        pic = self.picture
        if pic is None:
            return {"sharded": False}
        return {
            "sharded": True,
            "exchange": "down" if self._tactical.alone else "up",
            "members": list(pic.members),
            "cells_owned": len(pic.owned),
            "cells_watched": len(pic.watched),
            "cells_total": len(pic.grid),
            "reports_sent": pic.sent,
        }

    def _config(self, kinds: set[str]) -> TacticalConfig:
        """The cycle's settings: the policy's look-ahead; separation minima per pair of
        track kinds — a track flying for an activity has that kind's buffers (a UAS
        operation's 1 NM / 500 ft by default), an unlinked one the ICAO 5 NM / 1,000 ft,
        and a mixed pair the larger of each (never less than either side needs)."""

        def minima(kind: str) -> Separation:
            if kind == UNLINKED:
                return Separation()
            b = self.policy.for_kind(kind).buffers
            return Separation(b.horizontal_m, b.vertical_m)

        by_kinds = {}
        for a in kinds:
            for b in kinds:
                sa, sb = minima(a), minima(b)
                by_kinds[(a, b)] = Separation(
                    max(sa.horizontal_m, sb.horizontal_m), max(sa.vertical_m, sb.vertical_m)
                )
        rules = ProximityRules(Separation(), by_kinds)
        return TacticalConfig(lookahead_s=self.policy.tracks.lookahead_s, proximity=rules)

    def _kind_of(self, t: Track) -> str:
        kind = None if t.activity_id is None else self._kinds.get(t.activity_id)
        return UNLINKED if kind is None else kind.value

    def _volume_set(self, st: _TacticalState, now: datetime, lookahead_s: float) -> VolumeSet:
        if (
            st.volumes is not None
            and st.generation == self.index_generation
            and st.built_at is not None
            and 0 <= (now - st.built_at).total_seconds() < REBUILD_EVERY_S
        ):
            return st.volumes
        lo, hi = now, now + timedelta(seconds=HORIZON_S + lookahead_s)
        entries = []
        keys = self.index.keys_open_between(lo.timestamp(), hi.timestamp())
        for key in sorted(keys, key=str):
            if not isinstance(key, Subject) or key.kind is not SubjectKind.ACTIVITY:
                continue
            vols = [v for v in self.index.volumes(key) if v.time.start < hi and v.time.end > lo]
            if vols:
                entries.append(ActivityVolumes(key.id, key.owner, vols))
        # reach: the fastest track a report may carry, over the look-ahead (one fast track
        # must never stop the cycle for everyone)
        st.volumes = VolumeSet(entries, max_reach_m=MAX_ASSET_SPEED_MPS * lookahead_s + 10_000)
        st.generation, st.built_at = self.index_generation, now
        return st.volumes

    def _trackset(self, tracks: list[Track]) -> TrackSet:
        usable = [t for t in tracks if t.altitude_m is not None and not t.on_ground]
        return TrackSet.from_columns(
            ids=[t.ident for t in usable],
            party=[t.party for t in usable],
            lat=[t.lat for t in usable],
            lon=[t.lon for t in usable],
            alt_m=[t.altitude_m or 0.0 for t in usable],  # None is filtered out above
            gs_mps=[t.ground_speed_mps or 0.0 for t in usable],
            trk_deg=[t.track_deg or 0.0 for t in usable],
            vs_mps=[t.vertical_rate_mps or 0.0 for t in usable],
            time_s=[t.time.timestamp() for t in usable],
            activity=[t.activity_id for t in usable],
            kind=[self._kind_of(t) for t in usable],
        )

    def tactical_tick(self) -> TickResult:
        """One cycle: detect, update the alert book, tell and record what changed."""
        st = self._tactical
        with st.lock:  # one cycle at a time
            if not st.recovered:
                if self.sole_tactical_node:  # every open alert was this hub's
                    self._orphaned_alerts(lambda judge: True, every_notice=True)
                elif self.judged_by is not None:  # those this node judged before it stopped
                    me = self.judged_by
                    self._orphaned_alerts(lambda judge: judge == me, every_notice=False)
                st.recovered = True
            now = self._now()
            picked, watched = self._picture_tracks(now)
            tracks = self._trackset(picked)
            cfg = self._config(set(tracks.kinds))
            volumes = self._volume_set(st, now, cfg.lookahead_s)
            cycle = tactical_cycle(tracks, volumes, now.timestamp(), cfg)
            alerts, elsewhere = self._mine(cycle.alerts(), tracks, watched)
            saved = st.save()
            upd = st.book.update(alerts, now.timestamp())
            t_now = now.timestamp()
            updated = [
                a for a in upd.updated if t_now - st.told.get(a.key, -1e18) >= UPDATE_EVERY_S
            ]
            changes: list[tuple[str, Alert]] = [
                *(("alert.raised", a) for a in upd.raised),
                *(("alert.updated", a) for a in updated),
                *(("alert.contingent", a) for a in upd.contingent),
                *(("alert.cleared", a) for a in upd.cleared),
            ]
            for kind, a in changes:
                if kind == "alert.cleared":
                    st.told.pop(a.key, None)
                    st.open.pop(a.key, None)
                    if a.key in elsewhere:
                        st.handed_over.add(a.key)
                else:
                    st.told[a.key] = t_now
                    st.open[a.key] = a
            if changes:
                try:
                    self._tell_alerts(st, changes)
                except BaseException:
                    # nothing was stored or told: forget this cycle's changes, so that the
                    # next cycle finds them again (an alert never told must not count as
                    # raised — it would only be "updated" from then on, without notices)
                    st.restore(saved)
                    raise
            return TickResult(
                len(tracks),
                len(volumes),
                len(upd.raised),
                len(updated),
                len(upd.contingent),
                len(upd.cleared),
                dict(cycle.timings_s),
            )

    def _mine(
        self, alerts: list[Alert], tracks: TrackSet, watched: frozenset[int] | None
    ) -> tuple[list[Alert], set[tuple[Hashable, ...]]]:
        """The alerts this node reports (those of the cells it watches; all when not
        sharded), and the keys of the others (judged by another node: an alert of this
        node's that moves there is handed over, not over)."""
        if watched is None or self.picture is None or not alerts:
            return alerts, set()
        homes = self.picture.grid.homes(tracks.lon, tracks.lat).tolist()
        home_of = dict(zip(tracks.ids.tolist(), homes, strict=True))
        mine, elsewhere = [], set()
        for a in alerts:
            if alert_cell(a, home_of) in watched:
                mine.append(a)
            else:
                elsewhere.add(a.key)
        return mine, elsewhere

    def _tell_alerts(self, st: _TacticalState, changes: list[tuple[str, Alert]]) -> None:
        # the write may run again (its batch failed to commit and is retried alone): each
        # run starts from the state before the first (st.lock is held throughout)
        before = st.save()

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> None:
            del after
            st.restore(before)
            for kind, a in changes:
                if kind == "alert.raised" or a.key not in st.audience:
                    st.audience[a.key] = self._audience(tx, a)
                    st.ids[a.key] = uuid4()
                parties = sorted(st.audience[a.key], key=str)
                body = st.body(a)
                first = st.book.first_seen(a.key)
                raised = now if first is None else datetime.fromtimestamp(first, UTC)
                if kind == "alert.cleared" and a.key in st.handed_over:
                    st.handed_over.discard(a.key)
                    body["handed_over"] = True  # another node judges it now
                if kind == "alert.raised":
                    st.notices[a.key] = self._raise(tx, now, events, a, body, parties)
                    self._keep_open(tx, now, body, parties, raised)
                    continue
                if kind == "alert.cleared":
                    self._clear(tx, now, events, st.notices.pop(a.key, []))
                    tx.drop_open_alert(UUID(body["id"]))
                    st.audience.pop(a.key, None)
                    st.ids.pop(a.key, None)
                else:
                    self._keep_open(tx, now, body, parties, raised)
                items = [(p, kind, {"alert": body}) for p in parties]
                events.extend(tx.append_events(items, now))
                if kind != "alert.updated" and self.recorder is not None:  # updates: told only
                    self.recorder.record(
                        tx, now, None, [Fact(kind, {"alert": body}, tuple(parties))]
                    )

        self._submit(run)

    def open_alerts(self, p: Principal) -> list[dict[str, Any]]:
        """The open alerts that concern ``p``'s party: the latest figures of those this
        node judges, and, when several nodes judge, the others as last told."""
        st = self._tactical
        with st.lock:
            mine = [
                st.body(a)
                for a in st.open.values()
                if p.party_id in st.audience.get(a.key, frozenset(a.parties))
            ]
        if self.picture is not None:
            ids = {b["id"] for b in mine}
            mine += [b for b in self.shared_alerts(p) if b.get("id") not in ids]
        return sorted(mine, key=lambda b: (b["kind"], b["key"]))


class _TacticalState:
    """The engine's memory between cycles."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.book = AlertBook()
        self.told: dict[tuple[Hashable, ...], float] = {}
        self.open: dict[tuple[Hashable, ...], Alert] = {}
        self.audience: dict[tuple[Hashable, ...], frozenset[UUID]] = {}
        self.ids: dict[tuple[Hashable, ...], UUID] = {}
        self.notices: dict[tuple[Hashable, ...], list[UUID]] = {}
        self.volumes: VolumeSet | None = None
        self.handed_over: set[tuple[Hashable, ...]] = set()
        """Alerts cleared here because another node now judges them (their cell moved)."""
        self.members: tuple[str, ...] = ()
        """The live nodes at the last cycle (a change: the alerts of nodes gone are
        cleared)."""
        self.alone = False
        """Whether the track exchange was down at the last cycle (this node judging only
        the tracks it receives itself)."""
        self.recovered = False
        """Whether the alerts of an earlier run were dealt with (:meth:`_orphaned_alerts`)."""
        self.generation = -1
        self.built_at: datetime | None = None
        """The hub time the volume set was built for (rebuilt as the horizon moves on)."""

    def save(self) -> _TacticalState:
        """A copy of the alerts' state, for :meth:`restore` (what a failed write told)."""
        return self._copy_from(self, into=_TacticalState())

    def restore(self, saved: _TacticalState) -> None:
        """Go back to ``saved`` (which stays as it is: it can be restored again)."""
        self._copy_from(saved, into=self)

    @staticmethod
    def _copy_from(src: _TacticalState, *, into: _TacticalState) -> _TacticalState:
        into.book = src.book.copy()
        into.told, into.open = dict(src.told), dict(src.open)
        into.audience, into.ids = dict(src.audience), dict(src.ids)
        into.notices, into.handed_over = dict(src.notices), set(src.handed_over)
        return into

    def body(self, a: Alert) -> dict[str, Any]:
        """``a`` as told: its figures, since when, whether contingent, who is told, its id."""
        out = alert_json(
            a, since=self.book.first_seen(a.key), contingent=self.book.is_contingent(a.key)
        )
        out["parties"] = sorted(str(x) for x in self.audience.get(a.key, a.parties))
        out["id"] = None if a.key not in self.ids else str(self.ids[a.key])
        return out
