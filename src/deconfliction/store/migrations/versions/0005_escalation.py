"""Escalation ladders: the levels of a party, the level of each token and of each notice.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("parties", sa.Column("escalation", sa.JSON(), nullable=True))
    zero = sa.text("0")
    op.add_column("tokens", sa.Column("level", sa.Integer(), server_default=zero, nullable=False))
    op.add_column("notices", sa.Column("level", sa.Integer(), server_default=zero, nullable=False))
    op.add_column("notices", sa.Column("escalations", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    for table, cols in (
        ("notices", ("escalations", "level")),
        ("tokens", ("level",)),
        ("parties", ("escalation",)),
    ):
        with op.batch_alter_table(table) as batch:
            for c in cols:
                batch.drop_column(c)
