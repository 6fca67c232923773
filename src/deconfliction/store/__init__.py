"""Persistence: the hotline's state in a SQL database (SQLAlchemy Core + Alembic).

SQLite in the data directory is the default; PostgreSQL (psycopg 3) for several nodes.
:func:`open_store` migrates the schema (the Alembic scripts ship in the package) and
returns a :class:`SqlStore`, which implements the ``Store`` protocol of
:mod:`deconfliction.hotline`; its transactions implement ``Transaction``.

>>> import tempfile, pathlib
>>> from uuid import uuid4
>>> from datetime import datetime, timezone
>>> from deconfliction.model import Party
>>> with tempfile.TemporaryDirectory() as d:
...     with open_store(sqlite_url(pathlib.Path(d))) as store:
...         blue = Party(uuid4(), "Blue", "armed_force", datetime.now(timezone.utc))
...         with store.transaction() as tx:
...             tx.add_party(blue)
...             tx.append_event(blue.id, "hello", {}, blue.created_at).seq
...         with store.transaction() as tx:
...             tx.get_party(blue.id) == blue
1
True
"""

from deconfliction.store._dss import (
    DssEntityRow,
    DssSubscriptionRow,
    add_dss_report,
    bump_dss_notifications,
    delete_dss_entity,
    delete_dss_subscription,
    dss_availability_of,
    dss_entities_between,
    dss_entities_using,
    dss_subscriptions_between,
    get_dss_entity,
    get_dss_subscription,
    put_dss_availability,
    put_dss_entity,
    put_dss_subscription,
)
from deconfliction.store._engine import SqlStore, create_engine, open_store
from deconfliction.store._errors import IntegrityViolation, StoreError
from deconfliction.store._ledger import (
    LedgerRow,
    PartyKeyRow,
    add_party_key,
    append_ledger_row,
    append_ledger_rows,
    ledger_head_row,
    ledger_rows,
    ledger_seq_at,
    list_party_keys,
    revoke_party_key,
)
from deconfliction.store._migrate import head_revision
from deconfliction.store._sqlite import sqlite_url
from deconfliction.store._store import SqlTransaction

__all__ = [
    "SqlStore",
    "SqlTransaction",
    "open_store",
    "sqlite_url",
    "create_engine",
    "head_revision",
    "StoreError",
    "IntegrityViolation",
    "LedgerRow",
    "PartyKeyRow",
    "append_ledger_row",
    "append_ledger_rows",
    "ledger_head_row",
    "ledger_rows",
    "ledger_seq_at",
    "add_party_key",
    "list_party_keys",
    "revoke_party_key",
    "DssEntityRow",
    "DssSubscriptionRow",
    "add_dss_report",
    "bump_dss_notifications",
    "delete_dss_entity",
    "delete_dss_subscription",
    "dss_availability_of",
    "dss_entities_between",
    "dss_entities_using",
    "dss_subscriptions_between",
    "get_dss_entity",
    "get_dss_subscription",
    "put_dss_availability",
    "put_dss_entity",
    "put_dss_subscription",
]
