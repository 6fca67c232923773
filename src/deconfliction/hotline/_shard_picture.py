"""The tactical picture of one node among several: the tracks of the cells it owns.

With several hub nodes, a party's reports reach whichever node it posts to, so no node
receives every track. The tactical engine therefore shards by region
(:mod:`deconfliction.detect._shards`): every accepted report is sent, through the
:class:`~deconfliction.hotline.TrackExchange` (NATS on a cluster), to each shard cell
*near* it — within the margin in which two tracks may lose separation within the
look-ahead — and each node keeps the reports of the cells it owns (rendezvous hashing over
the live members). A node then reports only the alerts whose cell it owns
(:func:`~deconfliction.detect.alert_cell`): each pair of tracks is judged, and told,
by exactly one node, which holds both tracks.

**The margin.** A cycle extrapolates reports at most ``stale_after_s`` old (or
``max_future_s`` ahead) over the look-ahead, at no more than
:data:`~deconfliction.model.MAX_ASSET_SPEED_MPS` (the model refuses faster reports), so
two reports further apart than ``separation + 2 × top speed × (look-ahead + that age)``
cannot lose separation in any cycle that uses them; the largest separation of any pair of
kinds is taken.

**Membership changes.** When a node joins or leaves, cells move; a node keeps watching
(and reporting) the cells it lost that hold reports for as long as a report sent before
the new owner listened stays usable (:func:`keep_s`), and the others for
:func:`handover_s`, until the new owner listens (longer if a report reaches one meanwhile);
so a change may tell an alert twice for a while, never miss one. A node that leaves takes
its reports with it (core NATS keeps nothing): the new owners judge each track from its
next report. A node killed without leaving is noticed when its membership lapses (the bus's
``lease_s``); its cells are unwatched until then. While the exchange is down
(:meth:`ShardedPicture.refresh` returns None) each node watches the tracks it receives
itself: pairs split between nodes are not seen until the exchange is back (``/readyz``
says so).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from uuid import UUID

import numpy as np

from deconfliction.detect import ShardGrid, owner
from deconfliction.hotline._ports import TrackExchange
from deconfliction.model import MAX_ASSET_SPEED_MPS, Track, TrackPolicy

__all__ = ["ShardedPicture", "handover_s", "keep_s", "newest", "shard_margin_m"]

MEMBERS_SEEN_S = 1.0
"""How soon a node sees a membership change, at most (a leave reaches it at once, a lapse
when the lease runs out; it is taken at the next cycle)."""


def handover_s(cycle_s: float = 1.0) -> float:
    """How long a node keeps watching a lost cell that held no reports: long enough for the
    new owner to see the membership change and subscribe at its next cycle (four cycles
    allowed for it), so that a report sent meanwhile reaches someone.

    >>> handover_s()
    5.0
    """
    return MEMBERS_SEEN_S + 4.0 * cycle_s


def shard_margin_m(separation_m: float, tracks: TrackPolicy) -> float:
    """How far from a report the cells it is sent to reach (see the module docstring).

    >>> round(shard_margin_m(9_260.0, TrackPolicy()))
    309260
    """
    age_s = max(tracks.stale_after_s, tracks.max_future_s)
    return ShardGrid.margin_m(separation_m, tracks.lookahead_s + age_s, MAX_ASSET_SPEED_MPS)


def keep_s(tracks: TrackPolicy, cycle_s: float = 1.0) -> float:
    """How long a node keeps judging a cell it lost that holds reports: as long as a
    report sent before the new owner listened stays usable (``stale_after_s`` after its
    time, which may be ``max_future_s`` ahead), plus the new owner's way to listening
    (:func:`handover_s`) and a cycle.

    >>> keep_s(TrackPolicy())
    46.0
    """
    return tracks.stale_after_s + tracks.max_future_s + handover_s(cycle_s) + cycle_s


def newest(*groups: Iterable[Track]) -> list[Track]:
    """The newest report of each track in ``groups`` (of two as new, the first seen)."""
    out: dict[Hashable, Track] = {}
    for group in groups:
        for t in group:
            old = out.get(t.ident)
            if old is None or old.time < t.time:
                out[t.ident] = t
    return list(out.values())


class ShardedPicture:
    """This node's share of the live tracks (thread-safe)."""

    def __init__(
        self, exchange: TrackExchange, grid: ShardGrid | None = None, cycle_s: float = 1.0
    ) -> None:
        self.exchange = exchange
        self.grid = grid or ShardGrid()
        self.cycle_s = cycle_s
        """How often the node's tactical cycle runs (hand-overs are timed by it)."""
        self.handover_s = handover_s(cycle_s)
        self.node = exchange.node_name
        self._lock = threading.Lock()
        self._members: tuple[str, ...] = ()
        self._owned: frozenset[int] = frozenset()
        self._kept: dict[int, float] = {}  # cells lost to another node → watched until (s)
        self._lost_at: dict[int, float] = {}  # … and when they were lost
        self._watched: frozenset[int] | None = None  # as last handed to the exchange
        self._cells: dict[int, dict[tuple[UUID, str], Track]] = {}
        self.sent = 0
        """Reports sent to cells (a report near two cells counts twice)."""

    # -- out ---------------------------------------------------------------------------

    def route(self, tracks: Sequence[Track], margin_m: float) -> None:
        """Send each report to every cell near it."""
        if not tracks:
            return
        lon = np.fromiter((t.lon for t in tracks), np.float64, len(tracks))
        lat = np.fromiter((t.lat for t in tracks), np.float64, len(tracks))
        sets = self.grid.nears(lon, lat, margin_m)
        by_cell: dict[int, list[Track]] = defaultdict(list)
        for row, cell in zip(sets.rows().tolist(), sets.cells.tolist(), strict=True):
            by_cell[cell].append(tracks[row])
        self.sent += len(sets.cells)
        self.exchange.send(by_cell)

    # -- in ----------------------------------------------------------------------------

    def refresh(self, now_s: float, keep_s: float) -> frozenset[int] | None:
        """Take the current membership and the reports received; return the cells this
        node watches (owned, and lost less than ``keep_s`` ago — at least as long as a
        report received for one stays usable, see :func:`keep_s`), or None while the
        exchange is down."""
        members = self.exchange.members()
        if members is None:
            return None
        with self._lock:
            live = tuple(sorted(set(members) | {self.node}))
            received = self.exchange.drain()  # before deciding what a lost cell holds
            if live != self._members:
                owned = frozenset(c for c in range(len(self.grid)) if owner(c, live) == self.node)
                busy = {c for c, batch in received if batch} | {
                    c for c, h in self._cells.items() if h
                }
                for c in self._owned - owned:  # an empty cell: until the new owner listens
                    self._kept[c] = now_s + (keep_s if c in busy else self.handover_s)
                    self._lost_at[c] = now_s
                for c in owned:
                    self._kept.pop(c, None)
                self._members, self._owned = live, owned
            for c, batch in received:  # a report before the new owner listens: kept while
                if batch and c in self._kept and now_s - self._lost_at[c] <= self.handover_s:
                    self._kept[c] = max(self._kept[c], now_s + keep_s)  # it is usable
            for c in [c for c, until in self._kept.items() if until <= now_s]:
                del self._kept[c]
            self._lost_at = {c: t for c, t in self._lost_at.items() if c in self._kept}
            watched = self._owned | frozenset(self._kept)
            if watched != self._watched:
                self.exchange.own(watched)
                self._watched = watched
            for c in [c for c in self._cells if c not in watched]:
                del self._cells[c]
            for cell, batch in received:
                if cell not in watched:
                    continue
                held = self._cells.setdefault(cell, {})
                for t in batch:
                    old = held.get(t.ident)
                    if old is None or old.time <= t.time:
                        held[t.ident] = t
            return watched

    def tracks(self, cutoff_s: float) -> list[Track]:
        """The newest report of every track received for a watched cell, if newer than
        ``cutoff_s`` (older ones are dropped)."""
        with self._lock:
            for held in self._cells.values():
                for ident in [k for k, t in held.items() if t.time.timestamp() < cutoff_s]:
                    del held[ident]
            return newest(*(held.values() for held in self._cells.values()))

    @property
    def members(self) -> tuple[str, ...]:
        """The live nodes as last seen."""
        return self._members

    @property
    def owned(self) -> frozenset[int]:
        return self._owned

    @property
    def watched(self) -> frozenset[int]:
        """The cells owned and those still kept after a membership change."""
        return self._watched or frozenset()
