"""Live tracks between hub nodes over NATS, by shard cell (the :class:`TrackExchange` of a
cluster; see :mod:`deconfliction.hotline._shard_picture` for what the hotline does with it).

* **Reports** go over core NATS, not JetStream: a report is worth something for seconds
  and the next one replaces it, so nothing is stored or replayed. Each batch for a cell is
  published to ``<subject>.<cell>`` (in chunks of :data:`CHUNK`); each node subscribes to
  exactly the cells it watches, so the server, not the nodes, does the sorting.
* **Membership**: every node puts its name in the key-value bucket
  ``<stream>_members`` every ``ttl_s / 3``; the bucket's TTL removes a node that stopped
  doing so (killed, cut off) after ``ttl_s``, and a clean shutdown deletes its key at once.
  The list is read every :data:`READ_EVERY_S`. While the link is down, or the list could
  not be read for ``ttl_s``, :meth:`TrackLink.members` is None: the node then judges the
  tracks it receives itself.

All NATS work runs on the bus's event loop; :meth:`send`, :meth:`own`, :meth:`drain` and
:meth:`members` are called from the hotline's threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription
from nats.js.kv import KeyValue

from deconfliction.bus._wire import TrackStats, decode_tracks, encode_tracks
from deconfliction.errors import InvalidInput
from deconfliction.model import Track

__all__ = ["TrackLink"]

_log = logging.getLogger("deconfliction.bus.tracks")

CHUNK = 1_000
"""Reports per message at most (about 150 kB: well under NATS's 1 MB default)."""
READ_EVERY_S = 1.0
"""How often the membership list is read."""
INBOX_MAX = 20_000
"""Messages received and not yet drained, at most (the oldest are dropped past it)."""
OUTBOX_MAX = 20_000
_NatsErrors = (nats.errors.Error, OSError, TimeoutError)


class TrackLink:
    """One node's end of the track exchange (a :class:`~deconfliction.hotline.TrackExchange`)."""

    def __init__(self, node_name: str, subject: str, ttl_s: float) -> None:
        self.node_name = node_name
        self.subject = subject
        self.ttl_s = ttl_s
        self.stats = TrackStats()
        self.nc: Client | None = None
        self.kv: KeyValue | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._members: list[str] = []
        self._read_at = -1e18  # monotonic time of the last good membership read
        self._wanted: frozenset[int] = frozenset()
        self._subs: dict[int, NatsSubscription] = {}
        self._inbox: deque[tuple[int, list[Track]]] = deque()
        self._outbox: deque[tuple[str, bytes, int]] = deque()
        self._kick = asyncio.Event()

    # -- the hotline's side (any thread) -----------------------------------------------

    def members(self) -> list[str] | None:
        nc = self.nc
        if nc is None or not nc.is_connected:
            return None
        with self._lock:
            if time.monotonic() - self._read_at > self.ttl_s:
                return None
            return list(self._members)

    def send(self, cells: Mapping[int, Sequence[Track]]) -> None:
        msgs = []
        for cell, tracks in cells.items():
            for i in range(0, len(tracks), CHUNK):
                part = list(tracks[i : i + CHUNK])
                msgs.append((f"{self.subject}.{cell}", encode_tracks(part), len(part)))
        nc = self.nc
        if nc is None or not nc.is_connected:
            self.stats.dropped += sum(n for _, _, n in msgs)
            return
        with self._lock:
            self._outbox.extend(msgs)
            while len(self._outbox) > OUTBOX_MAX:
                self.stats.dropped += self._outbox.popleft()[2]
        self._wake()

    def own(self, cells: frozenset[int]) -> None:
        with self._lock:
            self._wanted = frozenset(cells)
        self._wake()

    def drain(self) -> list[tuple[int, list[Track]]]:
        with self._lock:
            out = list(self._inbox)
            self._inbox.clear()
        return out

    def _wake(self) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closing: the loop is gone
                loop.call_soon_threadsafe(self._kick.set)

    # -- the bus's event loop ----------------------------------------------------------

    async def run(self) -> None:
        """Keep this node a member, read the others, keep the subscriptions and send the
        reports, until cancelled."""
        beat_at = 0.0
        read_at = 0.0
        while True:
            now = time.monotonic()
            if now - beat_at >= self.ttl_s / 3 and await self._beat():
                beat_at = now
            if now - read_at >= READ_EVERY_S:
                read_at = now
                await self._read_members()
            await self._reconcile()
            await self._flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), READ_EVERY_S / 4)
            self._kick.clear()

    async def _beat(self) -> bool:
        kv = self.kv
        if kv is None:
            return False
        try:
            await kv.put(self.node_name, str(time.time()).encode())
        except _NatsErrors as exc:
            _log.debug("membership: cannot renew (%s)", type(exc).__name__)
            return False
        return True

    async def _read_members(self) -> None:
        kv = self.kv
        if kv is None:
            return
        try:
            keys = await kv.keys()
        except nats.js.errors.NoKeysError:
            keys = []
        except _NatsErrors as exc:
            _log.debug("membership: cannot read (%s)", type(exc).__name__)
            return
        live = sorted(set(keys) | {self.node_name})
        with self._lock:
            if live != self._members:
                _log.info("tactical shards: nodes now %s", ", ".join(live))
            self._members = live
            self._read_at = time.monotonic()
        self.stats.members = len(live)

    async def _reconcile(self) -> None:
        nc = self.nc
        if nc is None or not nc.is_connected:
            return
        with self._lock:
            wanted = self._wanted
        for cell in [c for c in self._subs if c not in wanted]:
            sub = self._subs.pop(cell)
            with contextlib.suppress(*_NatsErrors):
                await sub.unsubscribe()
        for cell in sorted(wanted - self._subs.keys()):
            try:
                self._subs[cell] = await nc.subscribe(f"{self.subject}.{cell}", cb=self._on_msg)
            except _NatsErrors as exc:
                _log.debug("tracks: cannot subscribe to cell %d (%s)", cell, exc)
                break  # next round
        self.stats.cells_subscribed = len(self._subs)

    async def _flush(self) -> None:
        nc = self.nc
        while nc is not None and nc.is_connected:
            with self._lock:
                if not self._outbox:
                    return
                subject, data, n = self._outbox.popleft()
            try:
                await nc.publish(subject, data)
            except _NatsErrors:
                self.stats.dropped += n
                return
            self.stats.sent += n

    async def _on_msg(self, msg: Msg) -> None:
        try:
            cell = int(msg.subject.rsplit(".", 1)[1])
            tracks = decode_tracks(msg.data)
        except (InvalidInput, ValueError, TypeError, IndexError, KeyError) as exc:
            self.stats.malformed += 1
            _log.error("tracks: a malformed message on %s skipped (%s)", msg.subject, exc)
            return
        with self._lock:
            self._inbox.append((cell, tracks))
            while len(self._inbox) > INBOX_MAX:
                self.stats.dropped += len(self._inbox.popleft()[1])
        self.stats.received += len(tracks)

    async def leave(self) -> None:
        """Clean shutdown: delete this node's membership (its cells move at once)."""
        kv = self.kv
        if kv is not None:
            with contextlib.suppress(*_NatsErrors):
                await kv.delete(self.node_name)
