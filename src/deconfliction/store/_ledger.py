"""Ledger rows: append under the head lock, read back in seq order, party public keys.

Plain rows and bytes only: what the bytes mean (canonical bodies, hashes, signatures) is
``deconfliction.audit``'s business, which calls these functions inside the transaction that
makes the change being recorded.

A transaction's first :func:`append_ledger_rows` reads the head row (the newest seq and
hash) *locked* — ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the store's transactions
already hold the write lock from ``BEGIN IMMEDIATE`` — and every append lets the caller
seal its entries for the next seqs. The transaction keeps the chain's end in memory from
then on (its *tail*: the head it read and the entries appended since), and writes the
entries with one batched insert and one head move when it commits, or before anything
reads the ledger in it. The head row stays locked until the transaction ends, so
concurrent writers get consecutive seqs in commit order; a rolled-back transaction — or a
rolled-back savepoint, which takes back the entries appended inside it — gives its seqs
back: no gaps. The head move states the seq it replaces, so a head that moved meanwhile
fails the write instead of forking the chain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from deconfliction.store._errors import IntegrityViolation, StoreError
from deconfliction.store._exec import Executor
from deconfliction.store._schema import ledger, ledger_head, party_keys
from deconfliction.store._store import SqlTransaction
from deconfliction.store._types import utc

__all__ = [
    "LedgerRow",
    "PartyKeyRow",
    "add_party_key",
    "append_ledger_row",
    "append_ledger_rows",
    "ledger_head_row",
    "ledger_rows",
    "ledger_seq_at",
    "list_party_keys",
    "revoke_party_key",
]

# Built once: a transaction that appends runs three statements, and building them per call
# (values coerced, cache keys computed) cost ~4× executing them with bound parameters.
_HEAD = sa.select(ledger_head.c.seq, ledger_head.c.hash).where(ledger_head.c.id == 1)
_HEAD_LOCKED = _HEAD.with_for_update()
_INSERT = sa.insert(ledger)
_MOVE_HEAD = (
    sa.update(ledger_head)
    .where(ledger_head.c.id == 1, ledger_head.c.seq == sa.bindparam("old_seq"))
    .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash"))
)


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One stored ledger entry (``at``, ``type``, ``actor_party`` repeat body fields)."""

    seq: int
    at: datetime
    type: str
    actor_party: UUID | None
    body: bytes
    digest: bytes
    prev_hash: bytes
    hash: bytes
    hub_sig: bytes


@dataclass(frozen=True, slots=True)
class PartyKeyRow:
    """A party's registered Ed25519 public key (raw 32 bytes) and its id."""

    party_id: UUID
    key_id: str
    public_key: bytes
    created_at: datetime
    revoked_at: datetime | None = None


def _row(r: sa.RowMapping) -> LedgerRow:
    return LedgerRow(
        seq=int(r["seq"]),
        at=r["at"],
        type=r["type"],
        actor_party=r["actor_party"],
        body=bytes(r["body"]),
        digest=bytes(r["digest"]),
        prev_hash=bytes(r["prev_hash"]),
        hash=bytes(r["hash"]),
        hub_sig=bytes(r["hub_sig"]),
    )


def _stored_head(tx: SqlTransaction, *, lock: bool) -> tuple[int, bytes]:
    row = tx._one(_HEAD_LOCKED if lock else _HEAD, "ledger head")
    if row is None:
        raise StoreError("the ledger_head row is missing: the schema was not migrated")
    return int(row["seq"]), bytes(row["hash"])


_TAIL = "ledger"
"""The key of the ledger's :class:`_Tail` among a transaction's stages."""


@dataclass
class _Tail:
    """The chain's end as one writing transaction sees it: the head row it read (locked)
    and the entries appended since, not written yet (a store stage)."""

    stored: tuple[int, bytes]
    rows: list[LedgerRow] = field(default_factory=list)

    @property
    def head(self) -> tuple[int, bytes]:
        if not self.rows:
            return self.stored
        return self.rows[-1].seq, self.rows[-1].hash

    def mark(self) -> object:
        return self.stored, tuple(self.rows)

    def reset(self, mark: object) -> None:
        assert isinstance(mark, tuple)
        stored, rows = mark
        self.stored, self.rows = stored, list(rows)

    def flush(self, tx: Executor) -> None:
        """Insert the entries (one batch) and move the head row from the seq it was read at."""
        if not self.rows:
            return
        seq, last = self.stored[0], self.rows[-1]
        what = (
            f"append ledger entry {last.seq}"
            if len(self.rows) == 1
            else f"append ledger entries {seq + 1}..{last.seq}"
        )
        values = [
            {
                "seq": row.seq,
                "at": utc(row.at, "at"),
                "type": row.type,
                "actor_party": row.actor_party,
                "body": row.body,
                "digest": row.digest,
                "prev_hash": row.prev_hash,
                "hash": row.hash,
                "hub_sig": row.hub_sig,
            }
            for row in self.rows
        ]
        tx._write(_INSERT, what, values)
        params = {"old_seq": seq, "new_seq": last.seq, "new_hash": last.hash}
        if tx._write(_MOVE_HEAD, what, params).rowcount != 1:  # pragma: no cover - locked
            raise IntegrityViolation(f"{what}: the ledger head moved during the append")
        self.stored, self.rows = (last.seq, last.hash), []


def _tail(tx: SqlTransaction) -> _Tail | None:
    stage = tx.stage(_TAIL)
    assert stage is None or isinstance(stage, _Tail)
    return stage


def _written(tx: SqlTransaction) -> None:
    """Write the transaction's appended entries before a read of the ledger table."""
    tail = _tail(tx)
    if tail is not None:
        tail.flush(tx)


def ledger_head_row(tx: SqlTransaction) -> tuple[int, bytes]:
    """The newest entry's seq and hash ((0, 32 zero bytes) for an empty ledger), counting
    the entries this transaction appended."""
    tail = _tail(tx)
    return tail.head if tail is not None else _stored_head(tx, lock=False)


def append_ledger_row(tx: SqlTransaction, seal: Callable[[int, bytes], LedgerRow]) -> LedgerRow:
    """Append the next entry: ``seal(seq, prev_hash)`` builds it for the seq allotted.

    The row returned by ``seal`` must carry that seq and prev_hash.
    """
    (row,) = append_ledger_rows(tx, lambda seq, prev: [seal(seq, prev)])
    return row


def append_ledger_rows(
    tx: SqlTransaction, seal: Callable[[int, bytes], list[LedgerRow]]
) -> list[LedgerRow]:
    """Append several entries at once: ``seal(first_seq, prev_hash)`` builds them, chained,
    for consecutive seqs from ``first_seq``.

    The transaction's first append reads the head row locked; the entries are written
    when the transaction commits (with every other entry it appended: one batched insert
    and one head move), or before a read of the ledger in it.
    """
    tail = _tail(tx)
    if tail is None:
        tx._check_writable("append ledger entry")
        tail = _Tail(_stored_head(tx, lock=True))
        tx.set_stage(_TAIL, tail)
    seq, prev = tail.head
    rows = seal(seq + 1, prev)
    expected_prev = prev
    for i, row in enumerate(rows):
        if row.seq != seq + 1 + i or row.prev_hash != expected_prev:
            raise IntegrityViolation(
                f"append ledger entry: sealed as seq {row.seq}, the next seq is {seq + 1 + i}"
            )
        utc(row.at, "at")  # refused now, not at commit
        expected_prev = row.hash
    tail.rows.extend(rows)
    return rows


def ledger_rows(
    tx: SqlTransaction, *, since: int = 0, until: int | None = None, batch: int = 1000
) -> Iterator[LedgerRow]:
    """Entries with ``since < seq <= until``, in seq order, read ``batch`` rows at a time.

    Streams: each batch is a keyset query (``seq > last``), so memory stays flat for any
    ledger size. All batches see the transaction's snapshot.
    """
    _written(tx)
    last = since
    while True:
        stmt = sa.select(ledger).where(ledger.c.seq > last)
        if until is not None:
            stmt = stmt.where(ledger.c.seq <= until)
        rows = tx._all(stmt.order_by(ledger.c.seq).limit(batch), "ledger rows")
        for r in rows:
            yield _row(r)
        if len(rows) < batch:
            return
        last = int(rows[-1]["seq"])


def ledger_seq_at(tx: SqlTransaction, at: datetime, *, after: bool) -> int | None:
    """The first seq whose hub time is at or after ``at`` (``after=True``), or the last seq
    at or before it (``after=False``); None when there is none."""
    at = utc(at, "at")
    _written(tx)
    c = ledger.c
    if after:
        stmt = sa.select(sa.func.min(c.seq)).where(c.at >= at)
    else:
        stmt = sa.select(sa.func.max(c.seq)).where(c.at <= at)
    value = tx._exec(stmt, "ledger seq at").scalar_one_or_none()
    return None if value is None else int(value)


def add_party_key(tx: SqlTransaction, key: PartyKeyRow) -> None:
    """Register a party's key (the same key twice raises :class:`IntegrityViolation`)."""
    values = {
        "party_id": key.party_id,
        "key_id": key.key_id,
        "public_key": key.public_key,
        "created_at": utc(key.created_at, "created_at"),
        "revoked_at": None if key.revoked_at is None else utc(key.revoked_at, "revoked_at"),
    }
    tx._write(sa.insert(party_keys).values(values), f"add key {key.key_id}")


def list_party_keys(tx: SqlTransaction, party_id: UUID | None = None) -> list[PartyKeyRow]:
    """Registered keys (revoked ones included), of one party or of all, oldest first."""
    c = party_keys.c
    stmt = sa.select(party_keys).order_by(c.created_at, c.party_id, c.key_id)
    if party_id is not None:
        stmt = stmt.where(c.party_id == party_id)
    return [
        PartyKeyRow(
            party_id=r["party_id"],
            key_id=r["key_id"],
            public_key=bytes(r["public_key"]),
            created_at=r["created_at"],
            revoked_at=r["revoked_at"],
        )
        for r in tx._all(stmt, "party keys")
    ]


def revoke_party_key(tx: SqlTransaction, party_id: UUID, key_id: str, at: datetime) -> bool:
    """Mark the key revoked at ``at`` (False if no such unrevoked key)."""
    c = party_keys.c
    stmt = (
        sa.update(party_keys)
        .where(c.party_id == party_id, c.key_id == key_id, c.revoked_at.is_(None))
        .values(revoked_at=utc(at, "at"))
    )
    return bool(tx._write(stmt, f"revoke key {key_id}").rowcount == 1)
