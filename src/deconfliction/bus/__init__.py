"""Event fan-out: in-process by default (NATS JetStream when several nodes run)."""

from deconfliction.bus._memory import InProcessBus, Subscription

__all__ = ["InProcessBus", "Subscription"]
