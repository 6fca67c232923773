"""Admission control: when the hub is saturated it sheds writes, fairly, at the door.

Writes (``POST``, ``PUT``, ``PATCH``, ``DELETE`` under ``/v1/`` and ``/dss/``) are
counted while in flight, per credential (the hash of the request's bearer token: a party's
client; a request without one counts under its client address; a track feed's batches
apart from the same token's other writes, so that a feed never takes its filings' share).
Up to
``max_writes_in_flight`` in all, every write is admitted. Beyond that — the hub is not
keeping up and a queue is forming — a write is admitted only while its credential holds
less than its fair share (the limit divided among the credentials with writes in flight),
so a client flooding the hub cannot crowd the others out; and never beyond the limit plus a
quarter of it (at least one more): the latency of the writes admitted is about the number
in flight over the hub's throughput, so the bound holds it.
A write refused gets **429** with ``Retry-After`` (problem details) before it takes a
worker thread or touches the store: nothing of it is done.

This complements the per-party rate limit (a steady cap on each party's requests): the
rate limit bounds what a party may ask for; admission bounds what the hub takes on at once,
so that what it does take is answered within its usual time, and recovers as soon as the
load falls (the count is of requests in flight, nothing to drain).
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter

from starlette.types import ASGIApp, Receive, Scope, Send

from deconfliction.api._problems import problem
from deconfliction.api._security import client_key

__all__ = ["Admission", "AdmissionControl"]

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PREFIXES = ("/v1/", "/dss/")
_FEEDS = ("/v1/tracks",)
"""Bulk feeds, counted apart from the same credential's other writes."""


class Admission:
    """The in-flight count and the admission rule (see the module's docstring).

    >>> a = Admission(max_in_flight=4)
    >>> [a.enter("greedy") for _ in range(5)]  # four fill the hub; a fifth is over its share
    [True, True, True, True, False]
    >>> a.enter("quiet")  # another client still gets its share
    True
    >>> a.leave("greedy"); a.enter("greedy")  # over the limit, and over its share of it
    False
    """

    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max_in_flight
        self.ceiling = max_in_flight + max(1, max_in_flight // 4)
        """Never more in flight than this: the bound plus a quarter (at least one) of room
        for the clients below their share."""
        self._lock = threading.Lock()
        self._by: Counter[str] = Counter()
        self._total = 0
        self.refused = 0
        """Writes refused since the start (for /readyz and the overload benchmark)."""

    @property
    def in_flight(self) -> int:
        return self._total

    def enter(self, key: str) -> bool:
        """Take a place for a write of ``key``; False (and nothing taken) when refused."""
        with self._lock:
            if self._total >= self.max_in_flight:
                active = len(self._by) + (0 if key in self._by else 1)
                share = max(1, self.max_in_flight // active)
                if self._by[key] >= share or self._total >= self.ceiling:
                    self.refused += 1
                    return False
            self._by[key] += 1
            self._total += 1
            return True

    def leave(self, key: str) -> None:
        """Give back the place of a write of ``key`` (answered, failed or abandoned)."""
        with self._lock:
            self._by[key] -= 1
            if self._by[key] <= 0:
                del self._by[key]
            self._total -= 1


def credential(scope: Scope) -> str:
    """The key a request is counted under: its bearer token's hash, else its address."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return "tok:" + hashlib.sha256(bytes(value)).hexdigest()[:24]
    return client_key(scope)


def admission_key(scope: Scope) -> str:
    """What a write counts under: its :func:`credential`, a bulk feed's apart."""
    key = credential(scope)
    return "feed:" + key if str(scope.get("path", "")).startswith(_FEEDS) else key


class AdmissionControl:
    """ASGI middleware applying :class:`Admission` to writes."""

    def __init__(self, app: ASGIApp, admission: Admission, retry_after_s: int = 1) -> None:
        self.app = app
        self.admission = admission
        self.retry_after = str(max(1, retry_after_s))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in _WRITES
            or not str(scope.get("path", "")).startswith(_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        key = admission_key(scope)
        if not self.admission.enter(key):
            refusal = problem(
                429,
                "the hub is saturated: this write was not taken (nothing of it was done); "
                f"retry after {self.retry_after} s",
                headers={"Retry-After": self.retry_after},
            )
            await refusal(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.admission.leave(key)
