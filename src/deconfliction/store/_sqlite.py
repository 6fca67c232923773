"""Everything SQLite-specific: the file URL, connection pragmas and how transactions begin.

Each connection runs in WAL mode (readers never block the writer), ``synchronous=FULL``
(a committed transaction survives power loss), with foreign keys enforced and a busy
timeout.

Python's ``sqlite3`` driver normally issues ``BEGIN`` itself, lazily, before the first
write: a transaction that reads first and writes later then takes the write lock in the
middle, and two such transactions deadlock ("database is locked", which the busy timeout
cannot resolve). Following SQLAlchemy's documented recipe (*Enabling Non-Legacy SQLite
Transactional Modes*), the driver's own transaction handling is switched off
(``isolation_level = None``) and SQLAlchemy's ``begin`` event emits the ``BEGIN`` instead:
``BEGIN IMMEDIATE`` — the write lock is taken at the start, so writers queue on the busy
timeout rather than deadlock — or a plain deferred ``BEGIN`` for connections marked
read-only with the ``READ_ONLY`` execution option.

>>> from pathlib import Path
>>> sqlite_url(Path("/var/lib/deconfliction"))
'sqlite:////var/lib/deconfliction/hotline.db'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

__all__ = ["DB_FILE", "READ_ONLY", "configure", "is_sqlite", "pragmas", "sqlite_url"]

DB_FILE = "hotline.db"
"""The database file's name inside the data directory."""

READ_ONLY = "deconfliction_read_only"
"""Execution option: when true, the connection's transactions begin deferred (no write lock)."""


def sqlite_url(data_dir: Path) -> str:
    """The SQLAlchemy URL of the hotline's SQLite database in ``data_dir``."""
    return f"sqlite:///{Path(data_dir) / DB_FILE}"


def is_sqlite(engine: sa.Engine) -> bool:
    """Whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


def configure(engine: sa.Engine, *, busy_timeout_s: float) -> None:
    """Install the pragmas and the ``BEGIN IMMEDIATE`` handling on a SQLite engine."""
    busy_ms = max(0, round(busy_timeout_s * 1000))

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # hand transaction control to SQLAlchemy (see the module docstring)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    def on_begin(connection: sa.Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    sa.event.listen(engine, "connect", on_connect)
    sa.event.listen(engine, "begin", on_begin)


def pragmas(connection: sa.Connection) -> dict[str, Any]:
    """The connection's journal mode, synchronous level, foreign-key flag and busy timeout."""
    names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
    return {n: connection.exec_driver_sql(f"PRAGMA {n}").scalar() for n in names}
