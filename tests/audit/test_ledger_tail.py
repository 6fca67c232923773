"""Entries appended in one transaction: kept in memory and written when it commits.

The store holds a transaction's appended entries (its *tail*) until it commits — or until
something reads the ledger in it — and a savepoint rolled back takes back the entries
appended inside it, as the hotline's group commit relies on (one savepoint per write)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from deconfliction.audit import Actor, Entry, Ledger
from deconfliction.store import SqlStore, SqlTransaction, StoreError, ledger_head_row, ledger_rows
from tests.audit.conftest import BLUE, RED, T0


def _append(ledger: Ledger, tx: SqlTransaction, i: int) -> Entry:
    return ledger.append(
        tx,
        at=T0,
        actor=Actor(BLUE),
        type="tick",
        parties=[RED],
        payload={"i": i, "altitude_m": 3000.0, "lead_time_s": 60.5},
    )


def _failing_write(tx: SqlTransaction, write: Callable[[], object]) -> None:
    """Run ``write`` in a savepoint, then fail: the savepoint is rolled back."""
    with tx.savepoint():
        write()
        raise RuntimeError("this write failed")


def _stored(store: SqlStore) -> int:
    """Entries committed, as another connection reads them."""
    with store.read() as other:
        return len(list(ledger_rows(other)))


def test_entries_are_written_when_the_transaction_commits(store: SqlStore, ledger: Ledger) -> None:
    with store.transaction() as tx:
        entries = [_append(ledger, tx, i) for i in range(3)]
        assert ledger_head_row(tx) == (3, entries[-1].hash)  # the transaction sees its tail
        assert _stored(store) == 0  # nothing written yet (another connection reads)
    assert _stored(store) == 3
    with store.read() as tx:
        assert list(ledger.entries(tx)) == entries
        assert ledger.head(tx) == (3, entries[-1].hash)
        assert ledger.verify(tx).ok


def test_a_rolled_back_savepoint_takes_its_entries_back(store: SqlStore, ledger: Ledger) -> None:
    with store.transaction() as tx:
        first = _append(ledger, tx, 1)
        undone: list[Entry] = []
        with pytest.raises(RuntimeError):
            _failing_write(tx, lambda: undone.extend(_append(ledger, tx, i) for i in (2, 3)))
        assert [e.seq for e in undone] == [2, 3]
        with tx.savepoint():
            again = _append(ledger, tx, 4)
    assert (first.seq, again.seq) == (1, 2)  # no gap: seq 2 was given back
    assert again.prev_hash == first.hash
    with store.read() as tx:
        assert [e.seq for e in ledger.entries(tx)] == [1, 2]
        assert ledger.verify(tx).ok


def test_a_savepoint_that_began_the_tail_takes_it_back(store: SqlStore, ledger: Ledger) -> None:
    with store.transaction() as tx:
        with pytest.raises(RuntimeError):
            _failing_write(tx, lambda: _append(ledger, tx, 1))
        assert ledger_head_row(tx) == (0, bytes(32))
        entry = _append(ledger, tx, 2)
    assert entry.seq == 1
    with store.read() as tx:
        assert ledger.verify(tx).ok
        assert ledger.head(tx)[0] == 1


def test_a_read_in_the_transaction_sees_its_entries_even_after_a_rollback(
    store: SqlStore, ledger: Ledger
) -> None:
    with store.transaction() as tx:
        a = _append(ledger, tx, 1)
        seen: list[int] = []

        def write_then_read() -> Entry:
            b = _append(ledger, tx, 2)
            seen.extend(r.seq for r in ledger_rows(tx))  # written early for the read
            return b

        with pytest.raises(RuntimeError):
            _failing_write(tx, write_then_read)
        assert seen == [1, 2]
        assert [r.seq for r in ledger_rows(tx)] == [1]  # the database undid entry 2
        assert ledger_head_row(tx) == (1, a.hash)
        c = _append(ledger, tx, 3)
    assert c.seq == 2
    with store.read() as tx:
        assert [e.hash for e in ledger.entries(tx)] == [a.hash, c.hash]
        assert ledger.verify(tx).ok


def test_a_failed_transaction_writes_none_of_its_entries(store: SqlStore, ledger: Ledger) -> None:
    def failing_change() -> None:
        with store.transaction() as tx:
            _append(ledger, tx, 1)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    assert _stored(store) == 0
    with store.transaction() as tx:
        assert _append(ledger, tx, 2).seq == 1


def test_a_read_transaction_has_no_tail(store: SqlStore) -> None:
    with pytest.raises(StoreError, match="read-only"), store.read() as tx:
        tx.set_stage("ledger", object())  # type: ignore[arg-type]
