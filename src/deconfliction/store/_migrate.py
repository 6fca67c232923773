"""Alembic migrations, run from code: no ``alembic.ini`` is needed at runtime.

The migration scripts ship inside the package (``deconfliction/store/migrations``);
:func:`alembic_config` points Alembic at them and hands it an open connection through
``Config.attributes``, which ``migrations/env.py`` uses.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from deconfliction.store._errors import StoreError

__all__ = ["MIGRATIONS_DIR", "alembic_config", "check_at_head", "head_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_ALEMBIC_LOCK = threading.Lock()
"""Alembic installs its ``context`` proxy in a module global while a command runs, so two
commands must not run at once in one process. (Between processes, the database's own
locking serialises them: ``BEGIN IMMEDIATE`` on SQLite, the writers' advisory lock on
PostgreSQL.)"""


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic configuration for the packaged migrations, bound to ``connection``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision of the packaged migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise StoreError("no migration revision is packaged")
    return head


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` in one transaction. A database already at a
    revision this version does not know (written by a newer version) is refused with
    :class:`StoreError`, untouched."""
    current = current_revision(engine)
    if current is not None and not _known(current):
        raise StoreError(
            f"the database schema is at revision {current}, which this version of the hotline "
            f"does not know (it knows up to {head_revision()}): a newer version wrote it; "
            "run that version, or restore a backup taken before the upgrade"
        )
    with _ALEMBIC_LOCK, engine.connect() as conn:
        command.upgrade(alembic_config(conn), revision)
        conn.commit()


def _known(revision: str) -> bool:
    scripts = ScriptDirectory.from_config(alembic_config())
    return any(s.revision == revision for s in scripts.walk_revisions())


def check_at_head(engine: sa.Engine) -> None:
    """Raise :class:`StoreError` unless the database is at the packaged head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise StoreError(
            f"the database schema is at revision {current or 'none'}, this version of the "
            f"hotline needs {head}: open the store with migrate=True to upgrade it"
        )
