"""SQLite specifics: the file URL, connection pragmas, and writers that never deadlock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from deconfliction.store import SqlStore, open_store, sqlite_url
from deconfliction.store._sqlite import READ_ONLY, pragmas
from tests.store import factories as f


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    """SQLite only (overrides the two-backend fixture of ``conftest.py``)."""
    s = open_store(sqlite_url(tmp_path))
    yield s
    s.close()


def test_sqlite_url(tmp_path: Path) -> None:
    assert sqlite_url(tmp_path) == f"sqlite:///{tmp_path}/hotline.db"
    with open_store(sqlite_url(tmp_path)):
        assert (tmp_path / "hotline.db").is_file()


def test_pragmas_are_set_on_every_connection(tmp_path: Path) -> None:
    with open_store(sqlite_url(tmp_path), busy_timeout_s=7.5) as store:
        # two distinct pooled connections, read-only so that both can be in a transaction
        conns = [store.engine.connect().execution_options(**{READ_ONLY: True}) for _ in range(2)]
        try:
            for conn in conns:
                assert pragmas(conn) == {
                    "journal_mode": "wal",
                    "synchronous": 2,  # FULL
                    "foreign_keys": 1,
                    "busy_timeout": 7500,
                }
        finally:
            for conn in conns:
                conn.close()


def _begins(store: SqlStore) -> list[str]:
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("BEGIN"):
            seen.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", record)
    return seen


def test_write_transactions_begin_immediate_reads_deferred(store: SqlStore) -> None:
    seen = _begins(store)
    with store.transaction() as tx:
        tx.list_parties()
    with store.read() as tx:
        tx.list_parties()
    assert seen == ["BEGIN IMMEDIATE", "BEGIN"]


def test_write_lock_is_taken_at_begin(tmp_path: Path) -> None:
    """A second writer waits at BEGIN (here: times out there), not half-way through."""
    p = f.party()
    with open_store(sqlite_url(tmp_path), busy_timeout_s=0.05) as store:
        with store.transaction() as tx:  # holds the write lock without having written
            with pytest.raises(sa.exc.OperationalError, match="locked"), store.transaction():
                pass
            with store.read() as reader:  # WAL: readers are not blocked
                assert reader.list_parties() == []
            tx.add_party(p)
        with store.read() as reader:
            assert reader.list_parties() == [p]


def test_deferred_begin_would_deadlock(store: SqlStore) -> None:
    """Control for the tests around it: with a deferred BEGIN, read-then-write fails."""
    pid = f.party()
    with store.transaction() as tx:
        tx.add_party(pid)
    bump = sa.text("UPDATE parties SET last_seq = last_seq + 1")
    with store.engine.connect() as c1, store.engine.connect() as c2:
        for c in (c1, c2):
            c.execution_options(**{READ_ONLY: True})
            c.begin()
            c.execute(sa.text("SELECT last_seq FROM parties")).all()
        c1.execute(bump)
        c1.commit()
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            c2.execute(bump)  # its snapshot is stale: SQLITE_BUSY_SNAPSHOT, no waiting helps
        c2.rollback()


def test_concurrent_writers_never_see_database_is_locked(store: SqlStore) -> None:
    p = f.party()
    with store.transaction() as tx:
        tx.add_party(p)
    threads, per_thread = 8, 25
    errors: list[BaseException] = []
    seqs: list[int] = []
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        try:
            for _ in range(per_thread):
                with store.transaction() as tx:
                    before = tx.last_seq(p.id)  # read first, then write
                    tx.add_activity(f.activity(p.id))
                    e = tx.append_event(p.id, "x", {}, f.T0)
                    assert e.seq == before + 1
                    seqs.append(e.seq)
        except BaseException as exc:  # reported below
            errors.append(exc)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    total = threads * per_thread
    assert sorted(seqs) == list(range(1, total + 1))
    with store.transaction() as tx:
        assert [e.seq for e in tx.events_since(p.id, 0, limit=total + 1)] == sorted(seqs)
        assert tx.count_live_activities() == total
