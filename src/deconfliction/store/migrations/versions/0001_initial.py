"""Initial schema: parties, tokens, activities and sites (with versions), conflicts,
notices, disclosures, event streams and idempotency records.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "parties",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
    )
    op.create_index(op.f("ix_parties_name"), "parties", ["name"], unique=False)

    op.create_table(
        "activities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.Column("volumes", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner"], ["parties.id"], name=op.f("fk_activities_owner_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    op.create_index(op.f("ix_activities_ends_at"), "activities", ["ends_at"], unique=False)
    op.create_index(op.f("ix_activities_owner"), "activities", ["owner"], unique=False)
    op.create_index(
        op.f("ix_activities_starts_at_id"), "activities", ["starts_at", "id"], unique=False
    )
    op.create_index(op.f("ix_activities_state"), "activities", ["state"], unique=False)

    op.create_table(
        "events",
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_events_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("party_id", "seq", name=op.f("pk_events")),
    )
    op.create_table(
        "idempotency",
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_idempotency_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("party_id", "key", name=op.f("pk_idempotency")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("footprint", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("buffer_m", sa.Double(), nullable=False),
        sa.Column("altitude_lower_m", sa.Double(), nullable=False),
        sa.Column("altitude_upper_m", sa.Double(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["parties.id"], name=op.f("fk_sites_owner_parties")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    op.create_index(op.f("ix_sites_name_id"), "sites", ["name", "id"], unique=False)
    op.create_index(op.f("ix_sites_owner"), "sites", ["owner"], unique=False)
    op.create_index(op.f("ix_sites_state"), "sites", ["state"], unique=False)

    op.create_table(
        "tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_tokens_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_tokens_secret_hash")),
    )
    op.create_index(
        op.f("ix_tokens_party_id_created_at"), "tokens", ["party_id", "created_at"], unique=False
    )

    op.create_table(
        "activity_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.Column("volumes", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["id"], ["activities.id"], name=op.f("fk_activity_versions_id_activities")
        ),
        sa.ForeignKeyConstraint(
            ["owner"], ["parties.id"], name=op.f("fk_activity_versions_owner_parties")
        ),
        sa.PrimaryKeyConstraint("id", "version", name=op.f("pk_activity_versions")),
    )
    op.create_table(
        "conflicts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("activity_owner", sa.Uuid(), nullable=False),
        sa.Column("activity_version", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Uuid(), nullable=False),
        sa.Column("other_owner", sa.Uuid(), nullable=False),
        sa.Column("other_version", sa.Integer(), nullable=False),
        sa.Column("overlaps", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_conflicts_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(
            ["activity_owner"], ["parties.id"], name=op.f("fk_conflicts_activity_owner_parties")
        ),
        sa.ForeignKeyConstraint(
            ["other_owner"], ["parties.id"], name=op.f("fk_conflicts_other_owner_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflicts")),
    )
    op.create_index(op.f("ix_conflicts_activity_id"), "conflicts", ["activity_id"], unique=False)
    op.create_index(
        op.f("ix_conflicts_activity_owner"), "conflicts", ["activity_owner"], unique=False
    )
    op.create_index(op.f("ix_conflicts_detected_at"), "conflicts", ["detected_at"], unique=False)
    op.create_index(op.f("ix_conflicts_other_id"), "conflicts", ["other_id"], unique=False)
    op.create_index(op.f("ix_conflicts_other_owner"), "conflicts", ["other_owner"], unique=False)

    op.create_table(
        "site_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("footprint", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("buffer_m", sa.Double(), nullable=False),
        sa.Column("altitude_lower_m", sa.Double(), nullable=False),
        sa.Column("altitude_upper_m", sa.Double(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["id"], ["sites.id"], name=op.f("fk_site_versions_id_sites")),
        sa.ForeignKeyConstraint(
            ["owner"], ["parties.id"], name=op.f("fk_site_versions_owner_parties")
        ),
        sa.PrimaryKeyConstraint("id", "version", name=op.f("pk_site_versions")),
    )
    op.create_table(
        "disclosures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("site_version", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("disclosed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("conflict_id", sa.Uuid(), nullable=True),
        sa.Column("activity_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_disclosures_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(
            ["conflict_id"], ["conflicts.id"], name=op.f("fk_disclosures_conflict_id_conflicts")
        ),
        sa.ForeignKeyConstraint(
            ["recipient"], ["parties.id"], name=op.f("fk_disclosures_recipient_parties")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_disclosures_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosures")),
    )
    op.create_index(
        op.f("ix_disclosures_recipient_disclosed_at"),
        "disclosures",
        ["recipient", "disclosed_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_disclosures_site_id_disclosed_at"),
        "disclosures",
        ["site_id", "disclosed_at"],
        unique=False,
    )

    op.create_table(
        "notices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("activity_version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("required_lead_time_s", sa.Double(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("conflict_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_notices_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(
            ["conflict_id"], ["conflicts.id"], name=op.f("fk_notices_conflict_id_conflicts")
        ),
        sa.ForeignKeyConstraint(
            ["recipient"], ["parties.id"], name=op.f("fk_notices_recipient_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_index(
        op.f("ix_notices_activity_id_sent_at"), "notices", ["activity_id", "sent_at"], unique=False
    )
    op.create_index(
        op.f("ix_notices_recipient_sent_at"), "notices", ["recipient", "sent_at"], unique=False
    )


def downgrade() -> None:
    """Revert this revision (indexes go with their tables)."""
    op.drop_table("notices")
    op.drop_table("disclosures")
    op.drop_table("site_versions")
    op.drop_table("conflicts")
    op.drop_table("activity_versions")
    op.drop_table("tokens")
    op.drop_table("sites")
    op.drop_table("idempotency")
    op.drop_table("events")
    op.drop_table("activities")
    op.drop_table("parties")
