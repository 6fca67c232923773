"""Alembic environment for the hotline's schema (run by ``deconfliction.store``).

Online, the caller passes an open SQLAlchemy connection in ``config.attributes
["connection"]`` (see ``deconfliction.store._migrate``): the migration then runs on it, in
one transaction, with whatever connection setup the store installed (``BEGIN
IMMEDIATE`` on SQLite, the writers' advisory lock on PostgreSQL: DDL is transactional on
both, and concurrent starters queue). Offline
(``alembic upgrade --sql``), SQL is rendered for ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context
from alembic.config import Config

from deconfliction.store._schema import metadata


def run_offline(config: Config) -> None:
    """Render the migration as SQL for the URL in the configuration."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online(config: Config) -> None:
    """Run the migrations on the connection the store passed in."""
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run the hotline's migrations through deconfliction.store.open_store "
            "(it passes the connection in config.attributes['connection'])"
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        transactional_ddl=True,
        # SQLite cannot ALTER most things: batch mode copies the table there; PostgreSQL
        # alters in place (``op.batch_alter_table`` then emits plain ALTER TABLE)
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# ``context.config`` exists only while Alembic runs this script; when something else
# imports the module (pytest collecting doctests, an editor) there is nothing to do.
_config: Config | None = getattr(context, "config", None)
if _config is not None:
    if context.is_offline_mode():
        run_offline(_config)
    else:
        run_online(_config)
