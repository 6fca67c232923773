"""Event fan-out: in-process by default, NATS JetStream when several nodes run.

:class:`NatsBus` (and :class:`BusStats`) need the ``nats`` extra (``nats-py``); they are
imported on first use, so the embedded hub runs without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deconfliction.bus._memory import InProcessBus, Subscription
from deconfliction.bus._protocol import Bus

if TYPE_CHECKING:
    from deconfliction.bus._nats import BusStats, NatsBus

__all__ = ["Bus", "BusStats", "InProcessBus", "NatsBus", "Subscription"]


def __getattr__(name: str) -> Any:
    if name in ("BusStats", "NatsBus"):
        from deconfliction.bus import _nats

        return getattr(_nats, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
