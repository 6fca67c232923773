"""The ASTM F3548-21 discovery service's own state: operational intent and constraint
references (OVNs, versions, the activity carrying each intent), subscriptions with their
notification indices, USS availability and error reports.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _times() -> list[sa.Column[object]]:
    t = sa.DateTime(timezone=True)
    return [
        sa.Column("time_start", t, nullable=False),
        sa.Column("time_end", t, nullable=False),
        sa.Column("extents", sa.JSON(), nullable=False),
        sa.Column("updated_at", t, nullable=False),
    ]


def upgrade() -> None:
    """Apply this revision."""
    e = sa.String(length=40)
    op.create_table(
        "dss_entities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", e, nullable=False),
        sa.Column("manager", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ovn", sa.String(length=128), nullable=False),
        sa.Column("state", e, nullable=True),
        sa.Column("uss_base_url", sa.String(length=2000), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=True),
        sa.Column("party_id", sa.Uuid(), nullable=True),
        sa.Column("activity_id", sa.Uuid(), nullable=True),
        *_times(),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_dss_entities_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_dss_entities_activity_id_activities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dss_entities")),
    )
    op.create_index("ix_dss_entities_type_time_end", "dss_entities", ["type", "time_end"])
    op.create_index("ix_dss_entities_subscription_id", "dss_entities", ["subscription_id"])
    op.create_table(
        "dss_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("manager", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("notification_index", sa.Integer(), nullable=False),
        sa.Column("uss_base_url", sa.String(length=2000), nullable=False),
        sa.Column("notify_for_operational_intents", sa.Boolean(), nullable=False),
        sa.Column("notify_for_constraints", sa.Boolean(), nullable=False),
        sa.Column("implicit", sa.Boolean(), nullable=False),
        *_times(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dss_subscriptions")),
    )
    op.create_index("ix_dss_subscriptions_time_end", "dss_subscriptions", ["time_end"])
    op.create_table(
        "dss_availability",
        sa.Column("manager", sa.String(length=255), nullable=False),
        sa.Column("availability", e, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("manager", name=op.f("pk_dss_availability")),
    )
    op.create_table(
        "dss_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("manager", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dss_reports")),
    )


def downgrade() -> None:
    """Revert this revision (the discovery service's state is dropped)."""
    op.drop_table("dss_reports")
    op.drop_table("dss_availability")
    op.drop_index("ix_dss_subscriptions_time_end", table_name="dss_subscriptions")
    op.drop_table("dss_subscriptions")
    op.drop_index("ix_dss_entities_subscription_id", table_name="dss_entities")
    op.drop_index("ix_dss_entities_type_time_end", table_name="dss_entities")
    op.drop_table("dss_entities")
