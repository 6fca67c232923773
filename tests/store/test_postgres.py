"""PostgreSQL specifics: column types, isolation, the writers' lock and the ledger's row lock.

The store's general behaviour on PostgreSQL is covered by the rest of ``tests/store`` (its
``store`` fixture runs every test on both backends); concurrent ledger writers are in
``tests/audit/test_ledger_concurrency.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
import sqlalchemy as sa

from deconfliction.store import SqlStore, StoreError, create_engine, open_store
from deconfliction.store._ledger import LedgerRow, append_ledger_row, ledger_head_row
from deconfliction.store._postgres import WRITE_LOCK_KEY
from tests.store import factories as f


@pytest.fixture
def store(pg_url: str) -> Iterator[SqlStore]:
    """PostgreSQL only."""
    s = open_store(pg_url)
    yield s
    s.close()


def _statements(store: SqlStore) -> list[str]:
    seen: list[str] = []

    def before(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()))

    sa.event.listen(store.engine, "before_cursor_execute", before)
    return seen


def test_columns_have_native_types(store: SqlStore) -> None:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public'"
        ).all()
    types = {(t, c): d for t, c, d in rows}
    assert types["parties", "id"] == "uuid"
    assert types["parties", "created_at"] == "timestamp with time zone"
    assert types["ledger", "at"] == "timestamp with time zone"
    assert types["ledger", "body"] == "bytea"
    assert types["activities", "volumes"] == "json"
    assert types["notices", "insufficient"] == "boolean"


def test_values_round_trip_exactly_in_utc(store: SqlStore) -> None:
    cet = timezone(timedelta(hours=1))
    created = datetime(2026, 11, 25, 13, 0, 0, 123456, tzinfo=cet)
    party = f.party("Blüe «ünïcode»", created_at=created)
    act = f.activity(party.id, title="Médevac \u2708", created_at=created, updated_at=created)
    with store.transaction() as tx:
        tx.add_party(party)
        tx.add_activity(act)
    with store.read() as tx:
        got_party = tx.get_party(party.id)
        got = tx.get_activity(act.id)
    assert got_party is not None
    assert got is not None
    assert got_party.name == party.name
    assert isinstance(got.id, UUID)
    assert got.id == act.id
    assert got.created_at == created
    assert got.created_at.tzinfo is UTC
    assert got.created_at.microsecond == 123456
    assert got.volumes == act.volumes  # JSON: floats and times come back exactly
    assert got.title == act.title


def test_sessions_run_in_utc_and_writers_read_committed(store: SqlStore) -> None:
    with store.transaction() as tx:
        conn = tx._conn
        assert conn.exec_driver_sql("SHOW timezone").scalar() == "UTC"
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
        assert conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "off"
    with store.read() as tx:
        conn = tx._conn
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "repeatable read"
        assert conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
    # the next write transaction on the same pooled connection is back to read committed
    with store.transaction() as tx:
        assert tx._conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "off"


def test_write_transactions_take_the_writers_lock_reads_do_not(store: SqlStore) -> None:
    seen = _statements(store)
    with store.transaction() as tx:
        tx.list_parties()
    with store.read() as tx:
        tx.list_parties()
    begins = [s for s in seen if "advisory" in s or s.startswith("SET TRANSACTION")]
    assert begins == [
        f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})",
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    ]


def test_a_writer_waits_for_the_other_and_sees_its_rows(store: SqlStore) -> None:
    """Read-then-write services must never miss a concurrent writer's rows (SQLite's
    ``BEGIN IMMEDIATE`` semantics): the second writer starts only after the first commits."""
    blue = f.party("Blue")
    first_in = threading.Event()
    seen: list[list[str]] = []

    def first() -> None:
        with store.transaction() as tx:
            tx.add_party(blue)
            first_in.set()
            time.sleep(0.5)

    t = threading.Thread(target=first)
    t.start()
    assert first_in.wait(10)
    started = time.monotonic()
    with store.transaction() as tx:
        seen.append([p.name for p in tx.list_parties()])
    waited = time.monotonic() - started
    t.join()
    assert seen == [["Blue"]]
    assert waited > 0.2
    # a reader does not wait for a writer
    with store.transaction() as tx:
        tx.add_party(f.party("Green"))
        started = time.monotonic()
        other = threading.Thread(target=lambda: seen.append(_names(store)))
        other.start()
        other.join(10)
        assert time.monotonic() - started < 5
    assert seen[-1] == ["Blue"]


def test_a_writer_waits_at_most_the_busy_timeout(pg_url: str) -> None:
    with open_store(pg_url, busy_timeout_s=0.3) as store, store.transaction() as tx:
        tx.add_party(f.party("Blue"))
        errors: list[BaseException] = []

        def second() -> None:
            try:
                with store.transaction() as tx2:
                    tx2.list_parties()
            except sa.exc.OperationalError as exc:
                errors.append(exc)

        t = threading.Thread(target=second)
        t.start()
        t.join(10)
        assert not t.is_alive()
    assert len(errors) == 1
    assert "lock timeout" in str(errors[0])


def _names(store: SqlStore) -> list[str]:
    with store.read() as tx:
        return [p.name for p in tx.list_parties()]


def test_the_ledger_head_is_read_for_update(store: SqlStore) -> None:
    seen = _statements(store)

    def seal(seq: int, prev: bytes) -> LedgerRow:
        at = datetime(2026, 11, 25, 12, tzinfo=UTC)
        return LedgerRow(seq, at, "x", None, b"{}", b"d" * 32, prev, bytes([seq]) * 32, b"s")

    with store.transaction() as tx:
        append_ledger_row(tx, seal)
    heads = [s for s in seen if s.startswith("SELECT ledger_head.seq")]
    assert len(heads) == 1
    assert heads[0].endswith("FOR UPDATE")
    with store.read() as tx:
        assert ledger_head_row(tx) == (1, bytes([1]) * 32)


def test_a_bare_postgresql_url_uses_psycopg_3(pg_url: str) -> None:
    engine = create_engine(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        assert engine.dialect.driver == "psycopg"
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


def test_a_missing_driver_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match=r"not installed \(psycopg2\).*deconfliction\[postgres\]"):
        create_engine("postgresql+psycopg2://u@localhost/db")
