"""The webhook delivery worker: POSTs each party's events to its webhooks, in order, at
least once, signed, retried with backoff.

One supervising asyncio task (started in the app's lifespan) wakes when events are
published on the bus, when an admin changes a webhook, or every ``webhook_poll_s`` as a
fallback, and asks the store which enabled webhooks are behind their party's stream. Each
such webhook gets its own delivery task (so a slow or failing receiver never holds up
another), which POSTs its events **one at a time, in seq order**: the next one only after
the previous one was answered 2xx. A failure (non-2xx, timeout, refused connection) is
recorded with the time of the next attempt — 1 s, 2 s, 4 s … up to 5 minutes (settings),
±20 % jitter — and the same event is tried again then: nothing is skipped, later events
wait. The cursor is in the store, so a restart resumes after the last event answered 2xx;
an event whose answer was lost in the restart is sent again (at least once: receivers
de-duplicate by ``seq``). Redirects are not followed (a 3xx is a failure).

With several hub nodes (the NATS bus) every node runs this worker, but each webhook is
delivered — events and probes — by one node at a time: the one holding the bus's claim
``webhook.<party>.<level>`` (a lease: :meth:`deconfliction.bus.Bus.claim`), asked before
each POST. When that node dies its lease expires and another node's next round takes the
webhook over from the cursor in the store: still in order, still at least once.

Every 2xx is the party's heartbeat (channel health, :mod:`deconfliction.hotline._links`).
A webhook with nothing to deliver for half the policy's ``links.degraded_after_min`` gets a
signed **probe** — ``type`` ``heartbeat``, ``seq`` 0 (never an event's seq), ``data`` ``{}``
— so that a party reached only by webhook is not shown *down* merely because nothing
happened; receivers answer 2xx and store nothing. A failed probe is not retried (the link
degrades on its own); the next comes after the same idle time.

Each POST: ``Content-Type: application/json``, body ``{"party", "seq", "type", "at",
"data"}`` (``data`` as on the stream), headers ``Deconfliction-Signature: t=<unix>,v1=<hex
HMAC-SHA256(secret, f"{t}.{body}")>``, ``Deconfliction-Seq``, ``Deconfliction-Event``,
``Deconfliction-Party`` and ``Deconfliction-Level``. Logs name the party, level, seq and the
URL's origin, never the secret, the signature or the URL's path and query.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from uuid import UUID

import httpx
from starlette.concurrency import run_in_threadpool

from deconfliction import __version__
from deconfliction.bus import Bus, Subscription
from deconfliction.hotline import (
    SIGNATURE_HEADER,
    Event,
    Hotline,
    WebhookOutbox,
    iso,
    sign_webhook,
    webhook_origin,
    webhook_wants,
)
from deconfliction.model import Webhook

__all__ = ["BATCH", "Backoff", "WebhookWorker", "claim_name", "event_body"]

_log = logging.getLogger("deconfliction.api.webhooks")

BATCH = 100
"""Events read from the store at a time for one webhook (still POSTed one by one)."""

Key = tuple[UUID, int]


def claim_name(key: Key) -> str:
    """The bus claim a node holds to deliver a webhook.

    >>> claim_name((UUID(int=1), 2))
    'webhook.00000000-0000-0000-0000-000000000001.2'
    """
    return f"webhook.{key[0]}.{key[1]}"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between attempts at one event: ``base_s`` doubled per failure, at most
    ``max_s``, times a random factor in [1 − jitter, 1 + jitter] (still at most ``max_s``).

    >>> b = Backoff(1.0, 300.0, jitter=0.0)
    >>> [b.delay(n) for n in (1, 2, 3, 10, 50)]
    [1.0, 2.0, 4.0, 300.0, 300.0]
    >>> 0.8 <= Backoff(1.0, 300.0).delay(1) <= 1.2
    True
    """

    base_s: float
    max_s: float
    jitter: float = 0.2

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """The wait after the ``attempt``-th failure in a row (1: the first)."""
        d = min(self.max_s, self.base_s * 2.0 ** min(max(attempt - 1, 0), 60))
        return min(self.max_s, d * (1.0 + self.jitter * (2.0 * rand() - 1.0)))


def event_body(party_id: UUID, e: Event) -> bytes:
    """The exact bytes POSTed (and signed) for event ``e`` of ``party_id``'s stream."""
    doc = {
        "party": str(party_id),
        "seq": e.seq,
        "type": e.type,
        "at": iso(e.created_at),
        "data": dict(e.payload),
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class WebhookWorker:
    """Delivers every enabled webhook's events; :meth:`run` until cancelled."""

    def __init__(
        self,
        hotline: Hotline,
        bus: Bus,
        *,
        timeout_s: float = 10.0,
        backoff: Backoff | None = None,
        poll_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._hotline = hotline
        self._bus = bus
        self._timeout_s = timeout_s
        self._backoff = backoff or Backoff(1.0, 300.0)
        self._poll_s = poll_s
        self._transport = transport
        self._tasks: dict[Key, asyncio.Task[None]] = {}
        self._contact: dict[Key, float] = {}  # monotonic time of the last 2xx (or first seen)
        self._probes: list[tuple[Webhook, str]] = []
        self._probes_read = -math.inf
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sub: Subscription | None = None

    # ------------------------------------------------------------------ supervising

    def wake(self) -> None:
        """Look at the webhooks now (thread-safe; e.g. one was just set)."""
        loop, sub = self._loop, self._sub
        if loop is not None and sub is not None and not loop.is_closed():
            loop.call_soon_threadsafe(sub.wake.set)

    async def run(self) -> None:
        """Deliver until cancelled."""
        self._loop = asyncio.get_running_loop()
        sub = self._sub = self._bus.subscribe_all()
        client = httpx.AsyncClient(
            timeout=self._timeout_s,
            follow_redirects=False,
            transport=self._transport,
            headers={"User-Agent": f"deconfliction-hotline/{__version__}"},
        )
        try:
            while True:
                sub.wake.clear()
                sub.lagging = False
                while not sub.queue.empty():  # only the wake-up matters: the store is read
                    sub.queue.get_nowait()
                try:
                    wait = await self._round(client)
                except Exception:  # worker guard: log with the traceback, try again later
                    _log.exception(
                        "webhook worker: a round failed; retrying in %.1f s", self._poll_s
                    )
                    wait = self._poll_s
                with contextlib.suppress(TimeoutError):  # woken, or time to look anyway
                    await asyncio.wait_for(sub.wake.wait(), timeout=wait)
        finally:
            tasks = list(self._tasks.values())
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._bus.unsubscribe(sub)
            self._sub = None
            await client.aclose()

    async def _round(self, client: httpx.AsyncClient) -> float:
        """Start a delivery task for each webhook that is behind and not waiting to retry;
        return how long to sleep at most (until the earliest retry, or the poll interval)."""
        hooks = await run_in_threadpool(self._hotline.pending_webhooks)
        now = self._hotline.clock.now()
        wait = self._poll_s
        for hook in hooks:
            key = (hook.party_id, hook.level)
            if key in self._tasks:
                continue
            due = hook.state.next_attempt_at
            if due is not None and due > now:
                wait = min(wait, (due - now).total_seconds())
                continue
            if not await self._bus.claim(claim_name(key)):  # another node delivers it
                continue
            task = asyncio.create_task(self._drain(client, key))
            self._tasks[key] = task
            task.add_done_callback(partial(self._done, key))
        wait = min(wait, await self._probe_idle(client))
        return max(wait, 0.01)

    async def _probe_idle(self, client: httpx.AsyncClient) -> float:
        """Probe the webhooks idle for half ``links.degraded_after``; return the time until
        the next one is due."""
        idle_s = self._hotline.policy.link_degraded_after_s / 2
        t = time.monotonic()
        if t - self._probes_read >= min(self._poll_s, idle_s):
            self._probes = await run_in_threadpool(self._hotline.webhook_probes)
            self._probes_read = t
            keys = {(h.party_id, h.level) for h, _ in self._probes}
            self._contact = {k: self._contact.get(k, t) for k in keys}
        wait = idle_s
        for hook, secret in self._probes:
            key = (hook.party_id, hook.level)
            if key in self._tasks:
                continue
            due = self._contact[key] + idle_s - t
            if due > 0:
                wait = min(wait, due)
                continue
            if not await self._bus.claim(claim_name(key)):  # another node probes it
                continue
            self._contact[key] = t  # the next probe after the same idle time, answered or not
            task = asyncio.create_task(self._probe(client, hook, secret))
            self._tasks[key] = task
            task.add_done_callback(partial(self._done, key))
        return wait

    async def _probe(self, client: httpx.AsyncClient, hook: Webhook, secret: str) -> None:
        at = self._hotline.clock.now()
        doc = {"party": str(hook.party_id), "seq": 0, "type": "heartbeat", "at": iso(at)}
        body = json.dumps(doc | {"data": {}}, separators=(",", ":")).encode()
        headers = self._headers(secret, body, hook, 0, "heartbeat")
        try:
            r = await client.post(hook.url, content=body, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = type(exc).__name__
        else:
            if r.is_success:
                await self._alive(hook)
                return
            error = f"HTTP {r.status_code}"
        _log.warning(
            "webhook of party %s level %d (%s): heartbeat probe failed (%s)",
            hook.party_id,
            hook.level,
            webhook_origin(hook.url),
            error,
        )

    async def _alive(self, hook: Webhook) -> None:
        self._contact[(hook.party_id, hook.level)] = time.monotonic()
        await run_in_threadpool(self._hotline.party_alive, hook.party_id)

    def _headers(
        self, secret: str, body: bytes, hook: Webhook, seq: int, kind: str
    ) -> dict[str, str]:
        t = int(self._hotline.clock.now().timestamp())
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_webhook(secret, body, timestamp=t),
            "Deconfliction-Seq": str(seq),
            "Deconfliction-Event": kind,
            "Deconfliction-Party": str(hook.party_id),
            "Deconfliction-Level": str(hook.level),
        }

    def _done(self, key: Key, task: asyncio.Task[None]) -> None:
        self._tasks.pop(key, None)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:  # e.g. the store failed: the next poll tries again
            _log.error(
                "webhook of party %s level %d: delivery stopped: %s",
                key[0],
                key[1],
                type(exc).__name__,
                exc_info=exc,
            )
            return
        if self._sub is not None:
            self._sub.wake.set()  # look again: events may have come in meanwhile

    # ------------------------------------------------------------------ delivering

    async def _drain(self, client: httpx.AsyncClient, key: Key) -> None:
        """POST the webhook's events in order until none is left or one fails."""
        party_id, level = key
        while True:
            box = await run_in_threadpool(
                partial(self._hotline.webhook_outbox, party_id, level, limit=BATCH)
            )
            if box is None or not box.events:
                return
            due = box.hook.state.next_attempt_at
            if due is not None and due > self._hotline.clock.now():
                return
            cursor = box.hook.state.cursor
            for e in box.events:
                if not webhook_wants(party_id, level, e):
                    continue
                if not await self._bus.claim(claim_name(key)):  # the lease lapsed: stop
                    return
                if not await self._post(client, box, cursor, e):
                    return
                cursor = e.seq
            last = box.events[-1].seq
            if cursor < last:  # the rest of the batch is not for this level
                moved = await run_in_threadpool(
                    self._hotline.webhook_skipped, party_id, level, cursor, last
                )
                if not moved:
                    return

    async def _post(
        self, client: httpx.AsyncClient, box: WebhookOutbox, cursor: int, e: Event
    ) -> bool:
        """POST one event; record the outcome. True when it was taken (2xx) and recorded."""
        hook = box.hook
        party_id, level = hook.party_id, hook.level
        body = event_body(party_id, e)
        headers = self._headers(box.secret, body, hook, e.seq, e.type)
        status: int | None = None
        error: str | None = None
        try:
            r = await client.post(hook.url, content=body, headers=headers)
        except httpx.TimeoutException:
            error = f"no answer within {self._timeout_s:g} s"
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # refused, TLS, protocol…
            error = f"{type(exc).__name__}: {exc}"[:300]
        else:
            status = r.status_code
            if not r.is_success:
                error = f"HTTP {status}"
        if error is None and status is not None:
            await self._alive(hook)
            done = await run_in_threadpool(
                self._hotline.webhook_delivered, party_id, level, cursor, e, status
            )
            if done:
                _log.info(
                    "webhook of party %s level %d: event %d delivered %d notice(s)",
                    party_id,
                    level,
                    e.seq,
                    len(done),
                )
            return done is not None
        attempts = (hook.state.attempts if cursor == hook.state.cursor else 0) + 1
        delay = self._backoff.delay(attempts)
        retry_at = self._hotline.clock.now() + timedelta(seconds=delay)
        await run_in_threadpool(
            partial(
                self._hotline.webhook_failed,
                party_id,
                level,
                cursor,
                status=status,
                error=error or "no answer",
                retry_at=retry_at,
            )
        )
        _log.warning(
            "webhook of party %s level %d (%s): event %d failed (%s), attempt %d; next in %.1f s",
            party_id,
            level,
            webhook_origin(hook.url),
            e.seq,
            error,
            attempts,
            delay,
        )
        return False
