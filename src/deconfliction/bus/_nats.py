"""NATS JetStream bus: committed events reach the listeners of every hub node.

Each node publishes its own committed events **once** to a JetStream stream (subject
``<subject>.<party>``, message id ``<party>:<seq>`` so a re-sent event is stored once) and
hands them at once to its own listeners (the local :class:`InProcessBus`). Each node
consumes the stream with a **durable** pull consumer named after the node: events filed on
other nodes reach its WebSocket clients, webhook worker and CoT connections, and a node
that restarts resumes where its consumer stopped. Its own events are acknowledged and
skipped (its listeners had them already).

The store stays the source of truth, so NATS being slow or down never costs a write:
:meth:`NatsBus.publish` only appends to a bounded outbox (it never waits on the network);
a task on the NATS client's own event loop, in a dedicated thread, sends the outbox in
order and keeps what failed for the next attempt (failures are logged once per outage and
counted in :attr:`NatsBus.stats`; past ``outbox_max`` the oldest are dropped, counted). When
the link comes back every local listener is told to re-read the store, which covers every
event it may have missed meanwhile. Listeners also re-read on any gap in seqs.

:meth:`NatsBus.claim` takes leases in a JetStream key-value bucket
(:mod:`deconfliction.bus._leases`): e.g. each webhook is delivered by one node at a time.
:attr:`NatsBus.tracks` carries live tracks between the nodes by shard cell, and keeps the
list of live nodes (:mod:`deconfliction.bus._track_link`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from uuid import UUID

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.kv import KeyValue

from deconfliction.bus._leases import Leases
from deconfliction.bus._memory import InProcessBus, Subscription
from deconfliction.bus._track_link import TrackLink
from deconfliction.bus._wire import BusStats, decode_event, encode_event, redact
from deconfliction.hotline import Event

__all__ = ["NatsBus"]

_log = logging.getLogger("deconfliction.bus.nats")

NODE_HEADER = "Deconfliction-Node"
"""The publishing node's name (its own consumer skips what it published)."""
BATCH = 256
RETRY_S = 1.0
_NatsErrors = (nats.errors.Error, OSError, TimeoutError)


class NatsBus:
    """The several-node bus (same interface as :class:`InProcessBus`); :meth:`start` it.

    ``url``: the NATS server, or several of one cluster.
    """

    def __init__(
        self,
        url: str | list[str],
        *,
        node_name: str,
        stream: str = "DECONFLICTION",
        subject: str = "deconfliction.events",
        max_age_s: float = 86_400.0,
        lease_s: float = 15.0,
        track_subject: str = "deconfliction.tracks",
        outbox_max: int = 100_000,
        start_timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.node_name = node_name
        self.stream = stream
        self.subject = subject
        self.max_age_s = max_age_s
        self.outbox_max = outbox_max
        self.start_timeout_s = start_timeout_s
        self.stats = BusStats()
        self._local = InProcessBus()
        self._leases = Leases(node_name, lease_s)
        self._outbox: deque[Event] = deque()
        self._out_lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats-bus", daemon=True)
        self._kick = asyncio.Event()
        self._ready = threading.Event()
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._psub: JetStreamContext.PullSubscription | None = None
        self.tracks = TrackLink(node_name, track_subject, lease_s)
        """The track exchange of the sharded tactical engine (membership in the bucket
        ``<stream>_members``, reports on ``<track_subject>.<cell>``)."""
        self.tracks.loop = self._loop
        self._closing = False
        self._overflowing = False
        self._main: concurrent.futures.Future[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ local side

    def subscribe(self, party_id: UUID) -> Subscription:
        return self._local.subscribe(party_id)

    def subscribe_all(self) -> Subscription:
        return self._local.subscribe_all()

    def unsubscribe(self, sub: Subscription) -> None:
        self._local.unsubscribe(sub)

    def subscriber_count(self, party_id: UUID | None = None) -> int:
        return self._local.subscriber_count(party_id)

    def publish(self, events: Sequence[Event]) -> None:
        """This node's listeners get ``events`` now; other nodes' once NATS has them."""
        self._local.publish(events)
        with self._out_lock:
            self._outbox.extend(events)
            over = len(self._outbox) - self.outbox_max
            for _ in range(max(over, 0)):
                self._outbox.popleft()
            self.stats.outbox = len(self._outbox)
            if over > 0:  # counted under the lock: callers' threads and the link's write it
                self.stats.dropped += over
        if over > 0 and not self._overflowing:  # once per episode: the counter has the rest
            self._overflowing = True
            _log.warning(
                "NATS outbox full (%d): the oldest events are dropped (the store keeps "
                "them; other nodes' listeners re-read it on the gap)",
                self.outbox_max,
            )
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # closing: the loop is gone
                self._loop.call_soon_threadsafe(self._kick.set)

    async def claim(self, name: str) -> bool:
        if not self._thread.is_alive():
            return False
        fut = asyncio.run_coroutine_threadsafe(self._leases.claim(name), self._loop)
        return await asyncio.wrap_future(fut)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the client thread and connect; waits up to ``start_timeout_s`` for the
        link, then carries on (it keeps trying in the background)."""
        self._thread.start()
        self._main = asyncio.run_coroutine_threadsafe(self._run(), self._loop)
        if not self._ready.wait(self.start_timeout_s):
            _log.warning(
                "NATS at %s not reachable yet; serving from this node alone meanwhile",
                redact(self.url),
            )

    def close(self, timeout_s: float = 5.0) -> None:
        """Flush the outbox (at most ``timeout_s``), release leases, disconnect."""
        if not self._thread.is_alive():
            if self._thread.ident is None and not self._loop.is_closed():
                self._loop.close()  # never started
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(timeout_s), self._loop)
        try:
            fut.result(timeout_s + 5.0)
        except (concurrent.futures.TimeoutError, *_NatsErrors) as exc:
            _log.warning("NATS bus: unclean shutdown (%s)", type(exc).__name__)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5.0)
        if not self._thread.is_alive():
            self._loop.close()

    async def _shutdown(self, timeout_s: float) -> None:
        self._closing = True
        if self._main is not None:
            self._main.cancel()
        for t in self._tasks:
            t.cancel()
        if self._tasks:  # nats-py may turn a cancellation into an error: the loops check
            await asyncio.wait(self._tasks, timeout=2.0)  # _closing, and this waits no more
        if self._nc is not None and self._nc.is_connected:  # the publisher is stopped
            with contextlib.suppress(TimeoutError, *_NatsErrors):
                await asyncio.wait_for(self._flush_outbox(), timeout_s)
            await self._leases.release_all()
            await self.tracks.leave()
        if self._nc is not None:
            with contextlib.suppress(*_NatsErrors):
                await self._nc.close()
        self.stats.connected = False

    # ------------------------------------------------------------------ NATS side

    async def _run(self) -> None:
        """Connect (retrying), set up the stream, consumer and lease bucket, then run."""
        warned = False
        while True:
            try:
                await self._connect()
                break
            except _NatsErrors as exc:
                if not warned and isinstance(exc, nats.js.errors.APIError):
                    _log.error(
                        "NATS at %s: JetStream refused this node's set-up (%s): check "
                        "bus_stream and bus_subject (another stream may hold these subjects); "
                        "retrying",
                        redact(self.url),
                        exc,
                    )
                    warned = True
                elif not warned:
                    _log.warning("NATS at %s: cannot connect (%s); retrying", redact(self.url), exc)
                    warned = True
                if self._nc is not None:
                    with contextlib.suppress(*_NatsErrors):
                        await self._nc.close()
                    self._nc = None
                await asyncio.sleep(RETRY_S)
        _log.info("NATS bus: node %s connected to %s", self.node_name, redact(self.url))
        self._tasks = [
            asyncio.create_task(self._supervised("publisher", self._publisher)),
            asyncio.create_task(self._supervised("consumer", self._consumer)),
            asyncio.create_task(self._supervised("lease renewal", self._leases.run)),
            asyncio.create_task(self._supervised("track exchange", self.tracks.run)),
        ]
        self._kick.set()
        self._ready.set()

    async def _supervised(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run ``run`` until closing; a bug that escapes it is logged with its traceback
        and it starts again a moment later (the bus must keep carrying events)."""
        while not self._closing:
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except Exception:  # logged, then restarted: never silently gone
                _log.exception("NATS bus: the %s stopped with an error; restarting it", name)
            await asyncio.sleep(RETRY_S)

    async def _connect(self) -> None:
        self._nc = await nats.connect(
            self.url,
            name=f"deconfliction-{self.node_name}",
            connect_timeout=2,
            reconnect_time_wait=RETRY_S,
            max_reconnect_attempts=-1,
            disconnected_cb=self._disconnected,
            reconnected_cb=self._reconnected,
            error_cb=self._error,
        )
        self._js = self._nc.jetstream()
        await self._ensure()
        self.tracks.nc = self._nc
        self.stats.connected = True

    async def _ensure(self) -> None:
        """Create the stream, this node's durable consumer and the lease bucket if absent."""
        js = self._js
        assert js is not None
        try:
            await js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(
                name=self.stream,
                subjects=[f"{self.subject}.*"],
                max_age=self.max_age_s,
                duplicate_window=min(120.0, self.max_age_s),
                storage=api.StorageType.FILE,
            )
        self._leases.kv = await self._bucket(js, "leases", self._leases.lease_s)
        self.tracks.kv = await self._bucket(js, "members", self.tracks.ttl_s)
        self._psub = await js.pull_subscribe(
            f"{self.subject}.*",
            durable=self.node_name,
            stream=self.stream,
            config=self._consumer_config(),
        )

    async def _bucket(self, js: JetStreamContext, name: str, ttl_s: float) -> KeyValue:
        """The key-value bucket ``<stream>_<name>`` (made if absent): one value per key,
        removed ``ttl_s`` after it was last written."""
        bucket = f"{self.stream}_{name}"
        try:
            kv = await js.key_value(bucket)
        except nats.js.errors.BucketNotFoundError:
            return await js.create_key_value(bucket=bucket, ttl=ttl_s, history=1)
        info = await js.stream_info(f"KV_{bucket}")  # made with another bus_lease_s?
        if info.config.max_age is None or abs(info.config.max_age - ttl_s) > 1e-3:
            _log.warning(
                "NATS bus: bucket %s kept values %.1f s; now %.1f s (bus_lease_s changed: "
                "every node must use the same)",
                bucket,
                info.config.max_age or 0.0,
                ttl_s,
            )
            info.config.max_age = ttl_s
            await js.update_stream(info.config)
        return kv

    def _consumer_config(self) -> api.ConsumerConfig:
        return api.ConsumerConfig(
            durable_name=self.node_name,
            deliver_policy=api.DeliverPolicy.NEW,  # only a new consumer: a durable resumes
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=30.0,
            max_ack_pending=10_000,
            filter_subject=f"{self.subject}.*",
        )

    async def _disconnected(self) -> None:
        self.stats.connected = False
        if self._closing:
            return
        _log.warning("NATS bus: disconnected from %s; reconnecting", redact(self.url))

    async def _reconnected(self) -> None:
        self.stats.connected = True
        self.stats.resyncs += 1
        _log.info("NATS bus: reconnected; local listeners re-read the store")
        self._local.resync()
        self._kick.set()

    async def _error(self, exc: Exception) -> None:
        _log.debug("NATS client: %s", exc)

    async def _publish_batch(self, batch: list[Event]) -> list[Event]:
        """Send ``batch`` (pipelined, in order); return the events that failed. An event
        that cannot be encoded is logged and dropped (it would block the rest forever)."""
        js = self._js
        assert js is not None
        sendable: list[tuple[Event, bytes]] = []
        for e in batch:
            try:
                sendable.append((e, encode_event(e)))
            except (TypeError, ValueError) as exc:
                with self._out_lock:
                    self.stats.dropped += 1
                _log.error(
                    "NATS bus: event %s/%d not JSON, not published: %s", e.party_id, e.seq, exc
                )
        results = await asyncio.gather(
            *(
                js.publish(
                    f"{self.subject}.{e.party_id}",
                    data,
                    timeout=2.0,
                    headers={"Nats-Msg-Id": f"{e.party_id}:{e.seq}", NODE_HEADER: self.node_name},
                )
                for e, data in sendable
            ),
            return_exceptions=True,
        )
        failed = []
        for (e, _), r in zip(sendable, results, strict=True):
            if isinstance(r, BaseException):
                if not isinstance(r, _NatsErrors):
                    raise r
                failed.append(e)
        self.stats.published += len(sendable) - len(failed)
        return failed

    async def _flush_outbox(self) -> bool:
        """Publish the outbox in order; False when an attempt failed (the rest waits)."""
        while True:
            with self._out_lock:
                batch = [self._outbox.popleft() for _ in range(min(BATCH, len(self._outbox)))]
            if not batch:
                self._overflowing = False
                return True
            try:
                failed = await self._publish_batch(batch)
            except BaseException:  # a bug or shutdown: keep the batch for the next attempt
                with self._out_lock:
                    self._outbox.extendleft(reversed(batch))
                raise
            with self._out_lock:
                self._outbox.extendleft(reversed(failed))
                self.stats.outbox = len(self._outbox)
            if failed:
                self.stats.publish_failures += len(failed)
                return False

    async def _publisher(self) -> None:
        failing = 0
        while True:
            await self._kick.wait()
            self._kick.clear()
            if await self._flush_outbox():
                if failing:
                    _log.info("NATS bus: publishing again (%d attempt(s) had failed)", failing)
                    failing = 0
                continue
            if not failing:
                _log.warning(
                    "NATS bus: publishing failed; %d event(s) kept to send again",
                    self.stats.outbox,
                )
            failing += 1
            await asyncio.sleep(RETRY_S)
            self._kick.set()

    async def _consumer(self) -> None:
        """Pull other nodes' events from this node's durable consumer until closing."""
        while not self._closing:
            psub = self._psub
            try:
                if psub is None:
                    await self._ensure()
                    continue
                msgs = await psub.fetch(BATCH, timeout=1.0)
            except nats.errors.TimeoutError:
                continue
            except nats.js.errors.NotFoundError:  # the stream or consumer went: set up again
                _log.warning("NATS bus: stream or consumer missing; creating them again")
                self._psub = None
                await asyncio.sleep(RETRY_S)
                continue
            except _NatsErrors as exc:
                _log.debug("NATS bus: fetch failed (%s)", type(exc).__name__)
                await asyncio.sleep(RETRY_S)
                continue
            await self._deliver(msgs)

    async def _deliver(self, msgs: list[Msg]) -> None:
        events = []
        for m in msgs:
            if (m.headers or {}).get(NODE_HEADER) == self.node_name:
                self.stats.own_skipped += 1
                continue
            try:
                events.append(decode_event(m.data))
            except (ValueError, KeyError, TypeError) as exc:
                _log.error("NATS bus: a malformed message on %s skipped (%s)", m.subject, exc)
        if events:
            self._local.publish(events)
            self.stats.received += len(events)
        for m in msgs:
            with contextlib.suppress(*_NatsErrors):
                await m.ack()
