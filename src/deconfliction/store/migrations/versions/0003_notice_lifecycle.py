"""Notice lifecycle: the activity's owner, delivery/read/answer/expiry times, the
objection, the ledger receipt and the recipient's stream seq of each notice.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMES = ("delivered_at", "read_at", "answered_at", "expired_at")


def upgrade() -> None:
    """Apply this revision (plain ``ADD COLUMN``: works in place on SQLite and PostgreSQL)."""
    # owner: a copy of the activity's owner (no foreign key: SQLite cannot add one in
    # place, and the activity row already references the party)
    op.add_column("notices", sa.Column("owner", sa.Uuid(), nullable=True))
    for name in _TIMES[:3]:
        op.add_column("notices", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.add_column("notices", sa.Column("objection", sa.Text(), nullable=True))
    op.add_column("notices", sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("notices", sa.Column("receipt", sa.JSON(), nullable=True))
    op.add_column("notices", sa.Column("event_seq", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_notices_recipient_event_seq"), "notices", ["recipient", "event_seq"])
    op.create_index(op.f("ix_notices_status_deadline"), "notices", ["status", "deadline"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_notices_status_deadline"), table_name="notices")
    op.drop_index(op.f("ix_notices_recipient_event_seq"), table_name="notices")
    with op.batch_alter_table("notices") as batch:
        for name in ("event_seq", "receipt", "expired_at", "objection", *_TIMES[:3], "owner"):
            batch.drop_column(name)
