"""Tactical alerts are notices too: a notice may concern no activity (two parties' tracks
alone), and names its alert and the alert's figures as raised.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _notices_0007() -> sa.Table:
    """The notices table as revision 0007 left it (SQLite rebuilds the table to change a
    column's nullability; given here, the rebuild needs no reflection, so ``--sql`` works)."""
    md = sa.MetaData(naming_convention=_NAMING)
    sa.Table("parties", md, sa.Column("id", sa.Uuid(), primary_key=True))
    sa.Table("activities", md, sa.Column("id", sa.Uuid(), primary_key=True))
    sa.Table("conflicts", md, sa.Column("id", sa.Uuid(), primary_key=True))
    t = sa.DateTime(timezone=True)
    e = sa.String(length=40)
    return sa.Table(
        "notices",
        md,
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("recipient", sa.Uuid(), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("activity_id", sa.Uuid(), sa.ForeignKey("activities.id"), nullable=False),
        sa.Column("activity_version", sa.Integer(), nullable=False),
        sa.Column("reason", e, nullable=False),
        sa.Column("sent_at", t, nullable=False),
        sa.Column("starts_at", t, nullable=False),
        sa.Column("required_lead_time_s", sa.Double(), nullable=False),
        sa.Column("deadline", t, nullable=False),
        sa.Column("conflict_id", sa.Uuid(), sa.ForeignKey("conflicts.id"), nullable=True),
        sa.Column("status", e, nullable=False),
        sa.Column("status_at", t, nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("owner", sa.Uuid(), nullable=True),
        sa.Column("delivered_at", t, nullable=True),
        sa.Column("read_at", t, nullable=True),
        sa.Column("answered_at", t, nullable=True),
        sa.Column("objection", sa.Text(), nullable=True),
        sa.Column("expired_at", t, nullable=True),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("event_seq", sa.BigInteger(), nullable=True),
        sa.Column("insufficient", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("clearance", sa.JSON(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("escalations", sa.JSON(), nullable=True),
        sa.Column("template", e, nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("delivered_via", e, nullable=True),
        sa.Index(None, "activity_id", "sent_at"),
        sa.Index(None, "recipient", "sent_at"),
        sa.Index(None, "recipient", "event_seq"),
        sa.Index(None, "status", "deadline"),
    )


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("notices", copy_from=_notices_0007()) as batch:
        batch.alter_column("activity_id", existing_type=sa.Uuid(), nullable=True)
        batch.add_column(sa.Column("alert_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("alert", sa.JSON(), nullable=True))
        batch.create_index("ix_notices_alert_id", ["alert_id"])


def downgrade() -> None:
    """Revert this revision (refused while alert notices without an activity exist)."""
    bind = op.get_bind()
    orphans = bind.execute(sa.text("SELECT count(*) FROM notices WHERE activity_id IS NULL"))
    if orphans.scalar_one():
        raise RuntimeError("notices of tactical alerts without an activity exist: cannot downgrade")
    with op.batch_alter_table("notices") as batch:
        batch.drop_index("ix_notices_alert_id")
        batch.drop_column("alert")
        batch.drop_column("alert_id")
        batch.alter_column("activity_id", existing_type=sa.Uuid(), nullable=False)
