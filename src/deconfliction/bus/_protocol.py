"""What the hub's consumers (WebSocket stream, webhook worker, CoT gateway) need of a bus."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable
from uuid import UUID

from deconfliction.bus._memory import Subscription
from deconfliction.hotline import Event

__all__ = ["Bus"]


@runtime_checkable
class Bus(Protocol):
    """Event fan-out to this process's listeners, plus claims on work only one node may do.

    :class:`~deconfliction.bus.InProcessBus` is the one-process bus;
    :class:`~deconfliction.bus.NatsBus` carries events between several hub nodes. In both,
    a listener's :class:`Subscription` is local and best effort: on a gap in seqs or when
    flagged *lagging* it re-reads the store, which holds every event.
    """

    def start(self) -> None:
        """Begin (connect, start consuming); returns without waiting for a slow broker."""

    def close(self) -> None:
        """Stop: flush what can be flushed quickly, release claims, disconnect."""

    def subscribe(self, party_id: UUID) -> Subscription:
        """Start receiving ``party_id``'s events (call from the listener's event loop)."""
        ...

    def subscribe_all(self) -> Subscription:
        """Start receiving every party's events."""
        ...

    def unsubscribe(self, sub: Subscription) -> None: ...

    def subscriber_count(self, party_id: UUID | None = None) -> int: ...

    def publish(self, events: Sequence[Event]) -> None:
        """Hand committed events on (thread-safe; never blocks the writer for long)."""

    async def claim(self, name: str) -> bool:
        """Whether this node may do the work called ``name`` now (taking or keeping a lease
        on it when several nodes run): e.g. ``webhook.<party>.<level>``. Ask again before
        each step: a claim lapses when it cannot be renewed."""
        ...
