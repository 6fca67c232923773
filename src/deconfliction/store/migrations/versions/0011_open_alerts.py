"""The tactical alerts open now, shared by the hub nodes: which node judges each, whom it
concerns and its latest figures as told (``GET /v1/alerts`` on any node; alerts left by a
node that restarted or died are cleared by the nodes that remain).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    t = sa.DateTime(timezone=True)
    op.create_table(
        "open_alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("judged_by", sa.String(length=100), nullable=True),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("raised_at", t, nullable=False),
        sa.Column("updated_at", t, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_alerts")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("open_alerts")
