"""Assets (positions and speeds parties report) and the insufficient-notice numbers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "assets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner", sa.Uuid(), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("altitude_m", sa.Double(), nullable=True),
        sa.Column("speed_mps", sa.Double(), nullable=False),
        sa.Column("max_speed_mps", sa.Double(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["parties.id"], name=op.f("fk_assets_owner_parties")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint("owner", "ref", name=op.f("uq_assets_owner_ref")),
    )
    op.add_column(
        "notices",
        sa.Column("insufficient", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("notices", sa.Column("clearance", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("clearance")
        batch.drop_column("insufficient")
    op.drop_table("assets")
