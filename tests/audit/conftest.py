"""Fixtures: a hub key, a sealed chain, and a real SQLite store with a ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from deconfliction.audit import GENESIS, Actor, Draft, Entry, HubKey, Ledger, seal
from deconfliction.model import Party
from deconfliction.store import SqlStore, open_store, sqlite_url

T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)
BLUE, RED, GREEN = UUID(int=1), UUID(int=2), UUID(int=3)


def make_chain(key: HubKey, n: int, start: datetime = T0) -> list[Entry]:
    """``n`` entries: odd seqs by Blue about Red, even seqs by Green alone."""
    chain: list[Entry] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        actor, parties = (BLUE, [RED]) if seq % 2 else (GREEN, [])
        draft = Draft(
            start + timedelta(minutes=seq),
            Actor(actor, UUID(int=100 + seq)),
            "activity.filed",
            parties,
            {"n": seq, "title": f"activity {seq}", "lead_time_s": seq * 60.5},
        )
        chain.append(seal(draft, seq, prev, key))
        prev = chain[-1].hash
    return chain


@pytest.fixture(scope="session")
def hub() -> HubKey:
    return HubKey.generate()


@pytest.fixture(scope="session")
def chain(hub: HubKey) -> list[Entry]:
    return make_chain(hub, 8)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = open_store(sqlite_url(tmp_path))
    with s.transaction() as tx:
        for pid, name in ((BLUE, "Blue"), (RED, "Red"), (GREEN, "Green")):
            tx.add_party(Party(pid, name, "armed_force", T0))
    yield s
    s.close()


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger.open(tmp_path / "keys")
