"""Leases in a JetStream key-value bucket: work that exactly one node may do at a time.

Why JetStream KV rather than the database (``pg_try_advisory_lock``): a session-level
advisory lock lives on one pooled connection, which the store's pool hands to any thread,
and it belongs to the store layer; the bus already holds the one link every node shares,
and a KV bucket gives a lease with the two properties needed, and nothing else:

* **one holder** — a claim is ``create`` (only if the key is absent) and every renewal is
  ``update`` against the revision this node last wrote, so two nodes cannot both succeed;
* **takeover when the holder dies** — the bucket's TTL (``lease_s``) removes a key that
  was not renewed in time, after which another node's ``create`` succeeds.

The holder renews every ``lease_s / 3`` and trusts its lease only for ``0.8 × lease_s``
after the last renewal it *sent* (the server expires it no earlier than ``lease_s`` after
it stored it), so a holder cut off from NATS stops before anyone else can start. A node
restarted under the same name takes its own unexpired leases back at once; a clean
shutdown deletes them, so another node takes over without waiting for the TTL; so does a
lease nobody asked about for ``IDLE_LEASES × lease_s`` (at least a minute: e.g. a deleted
webhook's), which keeps the set renewed to the work going on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue

__all__ = ["Leases"]

_log = logging.getLogger("deconfliction.bus.leases")

TRUST = 0.8
"""The share of ``lease_s`` after the last renewal during which the holder acts."""
IDLE_LEASES = 4
"""A lease not asked about for this many ``lease_s`` (and at least 60 s) is released."""


@dataclass(slots=True)
class _Held:
    revision: int
    renewed: float  # monotonic time the renewal was sent
    asked: float  # monotonic time of the last claim


class Leases:
    """This node's leases in ``kv`` (all methods run on the NATS client's event loop)."""

    def __init__(
        self, node: str, lease_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.node = node
        self.clock = clock
        """Seconds, monotonic (tests pass a fake one)."""
        self.lease_s = lease_s
        self.kv: KeyValue | None = None
        self._held: dict[str, _Held] = {}

    def _fresh(self, name: str) -> bool:
        held = self._held.get(name)
        return held is not None and self.clock() - held.renewed < TRUST * self.lease_s

    def holds(self) -> list[str]:
        """The names this node holds a trusted lease on now."""
        return sorted(n for n in self._held if self._fresh(n))

    async def claim(self, name: str) -> bool:
        """True when this node holds ``name`` now (claiming it if nobody does)."""
        if self._fresh(name):
            self._held[name].asked = self.clock()
            return True
        self._held.pop(name, None)
        kv = self.kv
        if kv is None:
            return False
        sent = self.clock()
        value = self.node.encode()
        try:
            try:
                revision = await kv.create(name, value)
            except nats.js.errors.KeyWrongLastSequenceError:
                entry = await kv.get(name)  # taken: by this node before a restart?
                if entry.value != value or entry.revision is None:
                    return False
                revision = await kv.update(name, value, last=entry.revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        except nats.js.errors.KeyNotFoundError:  # expired in between: the next round claims
            return False
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            _log.debug("lease %s: cannot claim (%s)", name, type(exc).__name__)
            return False
        self._held[name] = _Held(revision, sent, sent)
        _log.info("lease %s: held by this node (%s)", name, self.node)
        return True

    async def renew(self) -> None:
        """Renew every lease held (called every ``lease_s / 3``); drop those lost."""
        kv = self.kv
        idle_s = max(60.0, IDLE_LEASES * self.lease_s)
        for name, held in list(self._held.items()):
            if kv is None:
                break
            sent = self.clock()
            if sent - held.asked > idle_s:  # nobody needs it: let it go
                self._held.pop(name, None)
                with contextlib.suppress(nats.errors.Error, OSError, TimeoutError):
                    await kv.delete(name, last=held.revision)
                continue
            try:
                held.revision = await kv.update(name, self.node.encode(), last=held.revision)
            except nats.js.errors.KeyWrongLastSequenceError:
                _log.warning("lease %s: lost (another node holds it now)", name)
                self._held.pop(name, None)
                continue
            except (nats.errors.Error, OSError, TimeoutError) as exc:
                if not self._fresh(name):
                    _log.warning("lease %s: could not be renewed in time (%s)", name, exc)
                    self._held.pop(name, None)
                continue
            held.renewed = sent

    async def run(self) -> None:
        """Renew until cancelled."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            await self.renew()

    async def release_all(self) -> None:
        """Delete every lease held (clean shutdown: others need not wait for the TTL)."""
        kv = self.kv
        held, self._held = self._held, {}
        if kv is None:
            return
        for name, h in held.items():
            try:
                await kv.delete(name, last=h.revision)
            except (nats.errors.Error, OSError, TimeoutError) as exc:
                _log.info("lease %s: not released (%s); it expires by itself", name, exc)
