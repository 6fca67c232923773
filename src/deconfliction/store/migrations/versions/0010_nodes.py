"""Several hub nodes on one database: the change feed (which object each write transaction
changed, in commit order, so that every node keeps its in-memory index current) and the
parties' links as the nodes share them (newest saved heartbeat, last recorded status).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "changes",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_changes")),
    )
    t = sa.DateTime(timezone=True)
    op.create_table(
        "party_links",
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("last_heartbeat", t, nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("status_at", t, nullable=True),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_party_links_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("party_id", name=op.f("pk_party_links")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("party_links")
    op.drop_table("changes")
