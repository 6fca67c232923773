"""Everything PostgreSQL-specific: isolation, the writers' lock, and how transactions begin.

The store's transactions keep the semantics they have on SQLite (``_sqlite``), so the
layers above see one behaviour on either database:

* **One writer at a time.** A read-write transaction first takes a transaction-scoped
  advisory lock (``pg_advisory_xact_lock``), the counterpart of SQLite's ``BEGIN
  IMMEDIATE``: a service that reads (other parties' activities, a version) and then writes
  on what it read can never miss a concurrent writer's rows — a missed conflict is a safety
  defect (DESIGN.md §4). The lock is released when the transaction commits or rolls back.
  Readers never wait for it. Migrations take it too, so several nodes starting at once
  upgrade the schema one after the other.
* **READ COMMITTED** for writers: each statement sees every transaction committed before
  it, in particular all those that held the writers' lock before this one. The ledger's
  head row is, in addition, read with a real ``SELECT … FOR UPDATE`` (``_ledger``).
* **A consistent snapshot** for read-only transactions (``READ_ONLY`` execution option):
  ``REPEATABLE READ, READ ONLY``, as a deferred ``BEGIN`` gives on SQLite; a batched read
  (the ledger streamed in pages) sees one state.
* A writer waits for the lock at most the store's busy timeout (``lock_timeout``), then
  fails, as on SQLite.
* Sessions run in UTC (``timezone``), so ``TIMESTAMP WITH TIME ZONE`` values print and
  compare in UTC even to a tool reading the database by hand.

>>> WRITE_LOCK_KEY
7235155347196440165
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from deconfliction.store._sqlite import READ_ONLY

__all__ = ["WRITE_LOCK_KEY", "configure", "engine_options", "is_postgres"]

WRITE_LOCK_KEY = int.from_bytes(b"dhotline", "big") & 0x7FFF_FFFF_FFFF_FFFF
"""The advisory lock key (a signed 64-bit integer) every read-write transaction holds."""

_WRITE_BEGIN = f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"
_READ_BEGIN = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"


def is_postgres(engine: sa.Engine) -> bool:
    """Whether ``engine`` talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


def engine_options(*, lock_timeout_s: float) -> dict[str, Any]:
    """Extra ``sqlalchemy.create_engine`` arguments for PostgreSQL: a statement waiting
    longer than ``lock_timeout_s`` for a lock (the writers' lock, a row) fails, as a SQLite
    writer does after its busy timeout (0: wait for ever).

    >>> engine_options(lock_timeout_s=2.5)["connect_args"]
    {'options': '-c timezone=UTC -c lock_timeout=2500'}
    """
    lock_ms = max(0, round(lock_timeout_s * 1000))
    return {
        "isolation_level": "READ COMMITTED",
        "pool_pre_ping": True,  # a server restart must not fail the next transaction
        "connect_args": {"options": f"-c timezone=UTC -c lock_timeout={lock_ms}"},
    }


def configure(engine: sa.Engine) -> None:
    """Install the writers' lock and the read-only snapshot on a PostgreSQL engine."""

    def on_begin(connection: sa.Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        # psycopg begins the transaction implicitly before this first statement
        connection.exec_driver_sql(_READ_BEGIN if read_only else _WRITE_BEGIN)

    sa.event.listen(engine, "begin", on_begin)
