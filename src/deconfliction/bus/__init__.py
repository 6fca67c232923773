"""Event fan-out: in-process by default, NATS JetStream when several nodes run.

:class:`NatsBus` needs the ``nats`` extra (``nats-py``); it is imported on first use, so
the embedded hub runs without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deconfliction.bus._memory import InProcessBus, Subscription
from deconfliction.bus._protocol import Bus
from deconfliction.bus._wire import BusStats

if TYPE_CHECKING:
    from deconfliction.bus._nats import NatsBus

__all__ = ["Bus", "BusStats", "InProcessBus", "NatsBus", "Subscription"]


def __getattr__(name: str) -> Any:
    if name == "NatsBus":
        from deconfliction.bus._nats import NatsBus

        return NatsBus
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
