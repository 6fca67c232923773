"""Hotline messages are notices with reason "message": their template and text.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("notices", sa.Column("template", sa.String(length=40), nullable=True))
    op.add_column("notices", sa.Column("text", sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("text")
        batch.drop_column("template")
