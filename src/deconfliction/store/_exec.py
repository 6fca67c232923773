"""Statement execution inside one transaction, with the store's error rules.

Every statement of a :class:`~deconfliction.store.SqlTransaction` goes through
:class:`Executor`, which

* refuses to run once the transaction has ended or after an earlier statement failed (on
  PostgreSQL a failed statement aborts the whole transaction; SQLite is made to behave the
  same, so callers see one behaviour);
* turns a constraint failure (duplicate id or key, unknown reference) into
  :class:`~deconfliction.store.IntegrityViolation`, chained to the driver's error;
* re-raises the package's own errors (e.g. a naive datetime rejected by a column type)
  unwrapped, instead of inside SQLAlchemy's ``StatementError``;
* holds **staged writes** (:class:`Staged`): rows a module keeps in memory for the rest of
  the transaction and writes in one batch when it commits (or earlier, when it asks:
  before reading them back). A savepoint rolled back restores every stage to what it
  held when the savepoint began, exactly as the database undoes the savepoint's own
  statements, so a staged row commits if and only if the statements around it do.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, RowMapping

from deconfliction.errors import DeconflictionError
from deconfliction.store._errors import IntegrityViolation, StoreError

__all__ = ["IN_CHUNK", "Executor", "Staged", "chunks"]

T = TypeVar("T")

IN_CHUNK = 500
"""Most values bound in one ``IN (...)`` list (SQLite limits bound parameters)."""


def chunks(values: Collection[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """``values`` in lists of at most ``size``.

    >>> list(chunks(range(5), 2))
    [[0, 1], [2, 3], [4]]
    """
    items = list(values)
    for i in range(0, len(items), size):
        yield items[i : i + size]


Params = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
"""Bound parameters of a statement: one mapping, or one mapping per row."""


class Staged(Protocol):
    """Writes held back until the transaction commits (see :meth:`Executor.stage`)."""

    def mark(self) -> object:
        """A copy of what it holds now (taken when a savepoint begins)."""

    def reset(self, mark: object) -> None:
        """Hold again what :meth:`mark` copied (the savepoint was rolled back)."""

    def flush(self, tx: Executor) -> None:
        """Write what it holds with ``tx``'s statements, and hold nothing more."""


class Executor:
    """Runs statements on one connection inside one open transaction."""

    def __init__(self, connection: sa.Connection, *, read_only: bool = False) -> None:
        self._conn = connection
        self._read_only = read_only
        self._open = True
        self._failed: BaseException | None = None
        self._stages: dict[str, Staged] = {}

    @property
    def failed(self) -> BaseException | None:
        """The error that aborted this transaction, if any."""
        return self._failed

    def close(self) -> None:
        """Mark the transaction as ended: any further use raises :class:`StoreError`."""
        self._open = False

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: if the block raises, only its own writes are undone and the
        error propagates; the outer transaction stays usable unless a statement failed (then
        :attr:`failed` is set and the whole transaction must be rolled back)."""
        self._check_usable()
        marks = {key: stage.mark() for key, stage in self._stages.items()}
        nested = self._conn.begin_nested()
        try:
            yield
        except BaseException:  # undo the block's own writes, then let the error propagate
            if self._failed is None and nested.is_active:
                nested.rollback()
            for key in [k for k in self._stages if k not in marks]:
                del self._stages[key]  # staged inside the block: gone with it
            for key, mark in marks.items():
                self._stages[key].reset(mark)
            raise
        else:
            nested.commit()

    def stage(self, key: str) -> Staged | None:
        """The transaction's stage ``key`` (None until :meth:`set_stage` made one)."""
        self._check_usable()
        return self._stages.get(key)

    def set_stage(self, key: str, stage: Staged) -> None:
        """Hold ``stage`` under ``key`` for the rest of the transaction: its rows are written
        by :meth:`flush_stages`, which runs before the transaction commits."""
        self._check_writable(key)
        self._stages[key] = stage

    def flush_stages(self) -> None:
        """Write every stage's rows now (the store calls it before committing)."""
        for stage in list(self._stages.values()):
            stage.flush(self)

    def _check_usable(self) -> None:
        if not self._open:
            raise StoreError("the transaction has ended; open a new one")
        if self._failed is not None:
            raise StoreError(
                "an earlier error aborted this transaction; it will be rolled back"
            ) from self._failed

    def _exec(self, stmt: sa.Executable, what: str, params: Params = None) -> CursorResult[Any]:
        self._check_usable()
        try:
            if isinstance(params, Mapping):
                return self._conn.execute(stmt, dict(params))
            if params is not None:
                return self._conn.execute(stmt, list(params))
            return self._conn.execute(stmt)
        except sa.exc.IntegrityError as exc:
            self._failed = exc
            raise IntegrityViolation(f"{what}: {exc.orig}") from exc
        except sa.exc.StatementError as exc:
            self._failed = exc
            if isinstance(exc.orig, DeconflictionError):
                raise exc.orig from exc
            raise
        except BaseException as exc:
            self._failed = exc
            raise

    def _write(self, stmt: sa.Executable, what: str, params: Params = None) -> CursorResult[Any]:
        """Run a data-changing statement (refused in a read-only transaction); ``params``:
        one mapping (bound parameters) or a list of them (one per row, run as one batch)."""
        self._check_writable(what)
        return self._exec(stmt, what, params)

    def _check_writable(self, what: str) -> None:
        """Raise :class:`StoreError` unless this transaction is open, unfailed and may write."""
        if self._read_only:
            raise StoreError(f"{what}: this transaction is read-only")
        self._check_usable()

    def _one(self, stmt: sa.Select[Any], what: str, params: Params = None) -> RowMapping | None:
        return self._exec(stmt, what, params).mappings().one_or_none()

    def _all(self, stmt: sa.Select[Any], what: str, params: Params = None) -> Sequence[RowMapping]:
        return self._exec(stmt, what, params).mappings().all()
