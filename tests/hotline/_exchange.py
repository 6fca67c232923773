"""An in-memory track exchange with NATS core's semantics, for tests of the sharded tactical
engine without a server (the NATS one is tested in tests/bus/test_track_link.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from deconfliction.model import Track

__all__ = ["Link", "Router"]


class Router:
    """NATS core subjects in memory: a report sent to a cell reaches every node
    subscribed to it."""

    def __init__(self) -> None:
        self.subs: dict[str, frozenset[int]] = {}
        self.inbox: dict[str, list[tuple[int, list[Track]]]] = defaultdict(list)
        self.alive: list[str] = []

    def link(self, name: str) -> Link:
        self.alive.append(name)
        return Link(self, name)


class Link:
    def __init__(self, router: Router, name: str) -> None:
        self.router, self.node_name = router, name

    def members(self) -> list[str] | None:
        return list(self.router.alive)

    def send(self, cells: Mapping[int, Sequence[Track]]) -> None:
        for cell, tracks in cells.items():
            for node, owned in self.router.subs.items():
                if cell in owned:
                    self.router.inbox[node].append((cell, list(tracks)))

    def own(self, cells: frozenset[int]) -> None:
        self.router.subs[self.node_name] = cells

    def drain(self) -> list[tuple[int, list[Track]]]:
        out, self.router.inbox[self.node_name] = self.router.inbox[self.node_name], []
        return out
