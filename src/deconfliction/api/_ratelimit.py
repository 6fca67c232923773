"""Per-party request rate limits (token buckets): one party cannot starve the others.

Each party has a bucket of ``burst`` requests refilled at ``rate_per_s``; a request that
finds it empty gets 429 with ``Retry-After``. Requests that name no party (or a refused
token) spend from a bucket of their client address instead (``api._security``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable

from deconfliction.errors import TooManyRequests

__all__ = ["RateLimiter"]


class RateLimiter:
    """Token buckets keyed by party (or by client address).

    >>> clock = iter([0.0, 0.0, 0.0, 0.5]).__next__
    >>> rl = RateLimiter(rate_per_s=2, burst=2, clock=clock)
    >>> from uuid import uuid4
    >>> p = uuid4()
    >>> rl.take(p); rl.take(p)
    >>> rl.take(p)
    Traceback (most recent call last):
    ...
    deconfliction.errors.TooManyRequests: over 2 requests/s for this party; retry in 1 s
    """

    def __init__(
        self, rate_per_s: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = float(rate_per_s)
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[Hashable, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, party: Hashable) -> None:
        """Spend one request of ``party`` (raises :class:`TooManyRequests` when empty)."""
        if self.rate <= 0:
            return
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(party, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[party] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
                raise TooManyRequests(
                    f"over {self.rate:g} requests/s for this party; retry in {math.ceil(wait)} s",
                    wait,
                )
            self._buckets[party] = (tokens - 1.0, now)
