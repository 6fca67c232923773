"""In-process event fan-out: committed events reach the subscribers of their party.

``publish`` may be called from any thread (the services run in a worker pool); each
subscriber is an asyncio queue bound to its event loop. A subscriber that falls too far
behind is marked *lagging* instead of blocking the publisher: it then re-reads the
stored events (the store is the source of truth), so nothing is ever lost.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from deconfliction.hotline import Event

__all__ = ["InProcessBus", "Subscription"]


@dataclass(eq=False)
class Subscription:
    """One listener's queue of its party's events (every party's: ``party_id`` None)."""

    party_id: UUID | None
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(maxsize=1024))
    lagging: bool = False
    """Set when the queue overflowed: the listener must re-read from the store."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def _put(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.lagging = True
        self.wake.set()

    def _lag(self) -> None:
        self.lagging = True
        self.wake.set()


class InProcessBus:
    """Fan-out within one process (the default; NATS JetStream replaces it when scaled out)."""

    def __init__(self) -> None:
        self._subs: dict[UUID | None, set[Subscription]] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Nothing to start: the bus lives in this process."""

    def close(self) -> None:
        """Nothing to close."""

    async def claim(self, name: str) -> bool:
        """Always True: one process does all the work."""
        del name
        return True

    def subscribe(self, party_id: UUID) -> Subscription:
        """Start receiving ``party_id``'s events (call from the listener's event loop)."""
        sub = Subscription(party_id, asyncio.get_running_loop())
        with self._lock:
            self._subs.setdefault(party_id, set()).add(sub)
        return sub

    def subscribe_all(self) -> Subscription:
        """Start receiving every party's events (the hub's own workers, e.g. webhooks)."""
        sub = Subscription(None, asyncio.get_running_loop())
        with self._lock:
            self._subs.setdefault(None, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.party_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.party_id]

    def subscriber_count(self, party_id: UUID | None = None) -> int:
        """Subscribers of ``party_id`` (None: all subscribers, those of every party included)."""
        with self._lock:
            if party_id is not None:
                return len(self._subs.get(party_id, ()))
            return sum(len(s) for s in self._subs.values())

    def resync(self) -> None:
        """Flag every subscriber *lagging* and wake it: each re-reads the store (e.g. after
        the link that fed this bus was down and events may have passed by unseen)."""
        with self._lock:
            subs = [s for group in self._subs.values() for s in group]
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub._lag)
            except RuntimeError:  # the listener's loop is closed: it has gone
                self.unsubscribe(sub)

    def publish(self, events: Sequence[Event]) -> None:
        """Hand committed events to their parties' subscribers (thread-safe, never blocks)."""
        with self._lock:
            every = list(self._subs.get(None, ()))
            targets = [(e, [*self._subs.get(e.party_id, ()), *every]) for e in events]
        for event, subs in targets:
            for sub in subs:
                try:
                    sub.loop.call_soon_threadsafe(sub._put, event)
                except RuntimeError:  # the listener's loop is closed: it has gone
                    self.unsubscribe(sub)
