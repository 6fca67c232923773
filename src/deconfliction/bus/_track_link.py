"""Live tracks between hub nodes over NATS, by shard cell (the :class:`TrackExchange` of a
cluster; see :mod:`deconfliction.hotline._shard_picture` for what the hotline does with it).

* **Reports** go over core NATS, not JetStream: a report is worth something for seconds
  and the next one replaces it, so nothing is stored or replayed. Each batch for a cell is
  published to ``<subject>.<cell>`` (in chunks of :data:`CHUNK`); each node subscribes to
  exactly the cells it watches, so the server, not the nodes, does the sorting.
* **Membership**: every node puts its name in the key-value bucket
  ``<stream>_members`` every ``ttl_s / 3``, and a clean shutdown deletes its key at once.
  One long-lived watcher of the bucket keeps the list: a put adds or renews a node, a
  delete removes it, and a node not renewed for ``ttl_s`` (killed, cut off) is dropped
  here, as the bucket's TTL drops its key on the server (an expiry sends the watcher
  nothing). While the link is down, or the watcher has been silent for ``ttl_s`` (this
  node's own renewals pass through it), :meth:`TrackLink.members` is None: the node then
  judges the tracks it receives itself; a failed or silent watcher is made again.

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
from datetime import datetime

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

from deconfliction.bus._wire import TrackStats, decode_tracks, encode_tracks
from deconfliction.errors import InvalidInput
from deconfliction.model import Track

__all__ = ["TrackLink"]

_log = logging.getLogger("deconfliction.bus.tracks")

CHUNK = 1_000
"""Reports per message at most (about 150 kB: well under NATS's 1 MB default)."""
TICK_S = 0.25
"""The send loop's pace at most (it wakes at once for new reports or cells)."""
RETRY_S = 1.0
"""The wait before making a failed membership watcher again."""
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
        self._seen: dict[str, float] = {}  # node -> monotonic time of its last renewal
        self._read_at = -1e18  # monotonic time of the watcher's last word
        self._logged: list[str] | None = None
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
            return self._live(time.monotonic())

    def _live(self, now: float) -> list[str] | None:
        """The members at ``now`` (None if the watcher is stale); under the lock."""
        if now - self._read_at > self.ttl_s:
            return None
        alive = {node for node, at in self._seen.items() if now - at <= self.ttl_s}
        return sorted(alive | {self.node_name})

    def send(self, cells: Mapping[int, Sequence[Track]]) -> None:
        msgs = []
        for cell, tracks in cells.items():
            for i in range(0, len(tracks), CHUNK):
                part = list(tracks[i : i + CHUNK])
                msgs.append((f"{self.subject}.{cell}", encode_tracks(part), len(part)))
        nc = self.nc
        if nc is None or not nc.is_connected:
            with self._lock:  # counters are written from callers' threads and the link's
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
        """Keep this node a member, follow the others, keep the subscriptions and send the
        reports, until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._watch_members())
            tasks.create_task(self._exchange())

    async def _exchange(self) -> None:
        """Renew the membership, keep the subscriptions, send the reports."""
        beat_at = 0.0
        while True:
            _end_if_cancelled()
            now = time.monotonic()
            if now - beat_at >= self.ttl_s / 3 and await self._beat():
                beat_at = now
            self._note_members()
            await self._reconcile()
            await self._flush()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK_S):
                    await self._kick.wait()
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

    async def _watch_members(self) -> None:
        """Follow the bucket with one watcher; make it again when it fails or falls silent."""
        while True:
            kv = self.kv
            if kv is not None:
                try:
                    await self._follow(kv)
                except _NatsErrors as exc:
                    _log.debug("membership: watcher lost (%s)", type(exc).__name__)
            await asyncio.sleep(RETRY_S)

    async def _follow(self, kv: KeyValue) -> None:
        """Watch ``kv`` and apply each change as it happens until the watcher fails, or is
        silent for ``ttl_s / 2`` (TimeoutError): this node's own renewals, every ``ttl_s / 3``,
        pass through it, and after a server restart a nats-py watcher can stay deaf 15 s."""
        # Made and read up to its current values even if this is cancelled meanwhile: a
        # nats-py watcher stopped sooner may leave its subscription or its task behind.
        start = asyncio.ensure_future(self._start_watching(kv))
        try:
            watcher = await asyncio.shield(start)
            async with asyncio.timeout(self.ttl_s / 2) as silence:
                async for entry in watcher:
                    silence.reschedule(asyncio.get_running_loop().time() + self.ttl_s / 2)
                    self._apply(entry, replayed=False)
        finally:
            with contextlib.suppress(*_NatsErrors):
                await (await start).stop()  # type: ignore[no-untyped-call]

    async def _start_watching(self, kv: KeyValue) -> KeyValue.KeyWatcher:
        """A watcher of ``kv``, the current values it replays first (until a None) applied."""
        # its consumer goes from the server ttl_s after its stop (nats-py's default: 5 min)
        watcher = await kv.watchall(inactive_threshold=self.ttl_s)
        try:
            async with asyncio.timeout(self.ttl_s):
                while (entry := await anext(watcher)) is not None:
                    self._apply(entry, replayed=True)
        except BaseException:
            with contextlib.suppress(*_NatsErrors):
                await watcher.stop()  # type: ignore[no-untyped-call]
            raise
        self._apply(None, replayed=True)
        return watcher

    def _apply(self, entry: KeyValue.Entry | None, replayed: bool) -> None:
        """Note the watcher's word: a None (its replay is over), a put (a renewal, now or,
        replayed, when the server took it), a delete or a purge."""
        now = time.monotonic()
        with self._lock:
            self._read_at = now
            if entry is None:
                return
            if entry.operation in (KV_DEL, KV_PURGE):
                self._seen.pop(entry.key, None)
                return
            made: object = entry.created  # a datetime (nats-py's hint says int)
            age = time.time() - made.timestamp() if replayed and isinstance(made, datetime) else 0
            at = now - min(max(age, 0.0), self.ttl_s)
            self._seen[entry.key] = max(self._seen.get(entry.key, at), at)

    def _note_members(self) -> None:
        """Log a change of the members; count them."""
        with self._lock:
            live = self._live(time.monotonic())
        if live is not None:
            if live != self._logged:
                _log.info("tactical shards: nodes now %s", ", ".join(live))
                self._logged = live
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
                with self._lock:
                    self.stats.dropped += n
                return
            with self._lock:
                self.stats.sent += n

    async def _on_msg(self, msg: Msg) -> None:
        try:
            cell = int(msg.subject.rsplit(".", 1)[1])
            tracks = decode_tracks(msg.data)
        except (InvalidInput, ValueError, TypeError, IndexError, KeyError) as exc:
            with self._lock:
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


def _end_if_cancelled() -> None:
    """Raise CancelledError if this task was cancelled: in Python 3.11 a nats-py request
    whose reply races the cancellation returns the reply and drops the cancellation (its
    ``asyncio.wait_for``), and the loop would run on past the bus's close."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
