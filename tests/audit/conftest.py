"""Fixtures: a hub key, a sealed chain, and a real SQLite store with a ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction.audit import (
    GENESIS,
    Actor,
    Draft,
    Entry,
    HubKey,
    Ledger,
    PartySignature,
    seal,
    sign_submission,
)
from deconfliction.audit._keys import b64decode
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


def make_mixed_chain(
    key: HubKey, signer: Ed25519PrivateKey, signer_key_id: str, n: int
) -> list[Entry]:
    """``n`` entries by Blue, Green and Red in turn, naming another party or none; every 4th
    carries a submission Blue signed with ``signer``; every 7th has a non-ASCII title and a
    float that canonical JSON writes with an exponent (a bundle reader's general road)."""
    chain: list[Entry] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        actor, parties = [(BLUE, [RED]), (GREEN, []), (RED, [GREEN])][seq % 3]
        payload: dict[str, Any] = {"n": seq, "title": f"activity {seq}", "lead_time_s": seq * 60.5}
        if seq % 7 == 0:
            payload.update(title=f"vol à Zürich {seq}", tiny=1e-7)
        submission, signature = None, None
        if seq % 4 == 0:
            actor, submission = BLUE, {"title": f"signed {seq}"}
            sig = b64decode(sign_submission(signer, submission), "sig")
            signature = PartySignature(signer_key_id, sig)
        at = T0 + timedelta(minutes=seq)
        draft = Draft(at, Actor(actor), "activity.filed", parties, payload, submission, signature)
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
