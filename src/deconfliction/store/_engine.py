"""The store: an engine, its migrations, and transactions on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from deconfliction.store import _migrate, _postgres, _sqlite
from deconfliction.store._errors import StoreError
from deconfliction.store._store import SqlTransaction

if TYPE_CHECKING:
    from deconfliction.hotline import Store, Transaction

__all__ = ["SqlStore", "create_engine", "open_store"]


class SqlStore:
    """A SQL database holding the hotline's state: implements ``deconfliction.hotline.Store``.

    Build it with :func:`open_store`. Each :meth:`transaction` runs on its own pooled
    connection, so one store serves many threads.

    >>> import tempfile, pathlib
    >>> from deconfliction.store import open_store, sqlite_url
    >>> with tempfile.TemporaryDirectory() as d, open_store(sqlite_url(pathlib.Path(d))) as store:
    ...     with store.transaction() as tx:
    ...         tx.list_parties()
    []
    """

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (for tools and tests; services use transactions)."""
        return self._engine

    def transaction(self) -> AbstractContextManager[SqlTransaction]:
        """A read-write transaction: commits when the block ends, rolls back if it raises.

        It takes the write lock when it begins (``BEGIN IMMEDIATE`` on SQLite, an advisory
        lock on PostgreSQL): writers queue instead of failing half-way, and never miss
        each other's rows.
        """
        return self._transaction(read_only=False)

    def read(self) -> AbstractContextManager[SqlTransaction]:
        """A read-only transaction (not in the protocol): it takes no write lock, and its
        write methods raise :class:`StoreError`. It sees one consistent snapshot."""
        return self._transaction(read_only=True)

    @contextmanager
    def _transaction(self, *, read_only: bool) -> Iterator[SqlTransaction]:
        with self._engine.connect() as conn:
            if read_only:
                conn.execution_options(**{_sqlite.READ_ONLY: True})
            tx = SqlTransaction(conn, read_only=read_only)
            try:
                with conn.begin():
                    yield tx
                    if tx.failed is None:
                        tx.flush_stages()  # staged rows (the ledger's) commit with the rest
                    if tx.failed is not None:
                        raise StoreError(
                            "an error inside the transaction was caught and ignored; "
                            "the transaction was rolled back"
                        ) from tx.failed
            finally:
                tx.close()

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _json_text(value: object) -> str:
    """JSON columns' text, by orjson (several times faster than the standard library both
    ways; always valid JSON: a non-finite float becomes null, never ``NaN``)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def create_engine(url: str, *, busy_timeout_s: float = 30.0, echo: bool = False) -> sa.Engine:
    """A SQLAlchemy engine for ``url`` with the store's connection setup installed.

    SQLite (``sqlite:///PATH``) and PostgreSQL through psycopg 3
    (``postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB``; a bare ``postgresql://`` uses
    psycopg 3 too) are supported; their transactions behave alike (see ``_sqlite`` and
    ``_postgres``).
    """
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(
            f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://"
        )
    options: dict[str, Any] = {}
    if backend == "postgresql":
        options = _postgres.engine_options(lock_timeout_s=busy_timeout_s)
        if parsed.drivername == "postgresql":  # SQLAlchemy's default would be psycopg2
            parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        engine = sa.create_engine(
            parsed, echo=echo, json_serializer=_json_text, json_deserializer=orjson.loads, **options
        )
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"the driver for {parsed.drivername} is not installed ({exc.name}): "
            "pip install 'deconfliction[postgres]'"
        ) from exc
    if _sqlite.is_sqlite(engine):
        _sqlite.configure(engine, busy_timeout_s=busy_timeout_s)
    else:
        _postgres.configure(engine)
    return engine


def open_store(
    url: str, *, migrate: bool = True, busy_timeout_s: float = 30.0, echo: bool = False
) -> SqlStore:
    """Open the store at ``url``, first migrating its schema to the packaged head.

    With ``migrate=False`` the schema is left alone and must already be at the head
    revision (else :class:`StoreError`): use it where migrations are a separate step.
    ``busy_timeout_s`` is how long a writer waits for the write lock (on PostgreSQL: for
    any lock).
    """
    engine = create_engine(url, busy_timeout_s=busy_timeout_s, echo=echo)
    try:
        if migrate:
            _migrate.upgrade(engine)
        _migrate.check_at_head(engine)
    except BaseException:  # cleanup only (a failed migration, Ctrl-C): the error propagates
        engine.dispose()
        raise
    return SqlStore(engine)


if TYPE_CHECKING:

    def _implements(store: SqlStore, tx: SqlTransaction) -> tuple[Store, Transaction]:
        """Never called: mypy checks here that the classes implement the protocols."""
        return store, tx
