"""The database schema: one :class:`~sqlalchemy.MetaData`, portable types only.

Activities and protected sites keep a *current* row (what get/list read, updated in place
under a version check) and a ``*_versions`` row per version (the full snapshot, never
changed). Volumes and footprints are GeoJSON features in JSON columns; the columns that
list methods filter or sort on are plain, indexed columns beside them.

Every constraint and index has a deterministic name (``naming_convention``), so later
migrations can refer to them on any database.
"""

from __future__ import annotations

import sqlalchemy as sa

from deconfliction.store._types import UtcDateTime

__all__ = [
    "activities",
    "activity_versions",
    "assets",
    "conflicts",
    "disclosures",
    "dss_availability",
    "dss_entities",
    "dss_reports",
    "dss_subscriptions",
    "events",
    "idempotency",
    "ledger",
    "ledger_head",
    "metadata",
    "notices",
    "open_alerts",
    "parties",
    "party_keys",
    "site_versions",
    "sites",
    "tokens",
    "webhooks",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

_ENUM = 40
"""Width of enum columns (values are the enums' string values)."""


def _party_fk(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.Uuid, sa.ForeignKey("parties.id"), nullable=nullable)


parties = sa.Table(
    "parties",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, index=True),
    sa.Column("kind", sa.String(_ENUM), nullable=False),
    sa.Column("contact", sa.Text, nullable=False),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # the party's event-stream counter: incremented inside the transaction that appends
    sa.Column("last_seq", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    # the escalation ladder above the duty desk (0005): [{"name", "deadline_s"}]
    sa.Column("escalation", sa.JSON, nullable=True),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _party_fk("party_id"),
    sa.Column("role", sa.String(_ENUM), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("prefix", sa.String(64), nullable=False),
    sa.Column("secret_hash", sa.LargeBinary(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.Column("level", sa.Integer, nullable=False, server_default=sa.text("0")),  # 0005
    sa.Index(None, "party_id", "created_at"),
)


def _activity_columns() -> list[sa.Column[object]]:
    """The columns of an activity version (shared by the current and the versions table)."""
    return [
        _party_fk("owner"),
        sa.Column("kind", sa.String(_ENUM), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("priority", sa.String(_ENUM), nullable=False),
        sa.Column("state", sa.String(_ENUM), nullable=False),
        sa.Column("remarks", sa.Text, nullable=False),
        sa.Column("volumes", sa.JSON, nullable=False),
        sa.Column("starts_at", UtcDateTime, nullable=False),
        sa.Column("ends_at", UtcDateTime, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    ]


activities = sa.Table(
    "activities",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    *_activity_columns(),
    sa.Index(None, "owner"),
    sa.Index(None, "state"),
    sa.Index(None, "starts_at", "id"),
    sa.Index(None, "ends_at"),
)

activity_versions = sa.Table(
    "activity_versions",
    metadata,
    sa.Column("id", sa.Uuid, sa.ForeignKey("activities.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    *_activity_columns(),
)


def _site_columns() -> list[sa.Column[object]]:
    """The columns of a site version (shared by the current and the versions table)."""
    return [
        _party_fk("owner"),
        sa.Column("category", sa.String(_ENUM), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("footprint", sa.JSON, nullable=False),
        sa.Column("valid_from", UtcDateTime, nullable=False),
        sa.Column("valid_to", UtcDateTime, nullable=False),
        sa.Column("buffer_m", sa.Double, nullable=False),
        sa.Column("altitude_lower_m", sa.Double, nullable=False),
        sa.Column("altitude_upper_m", sa.Double, nullable=False),
        sa.Column("state", sa.String(_ENUM), nullable=False),
        sa.Column("remarks", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    ]


sites = sa.Table(
    "sites",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    *_site_columns(),
    sa.Index(None, "owner"),
    sa.Index(None, "state"),
    sa.Index(None, "name", "id"),
)

site_versions = sa.Table(
    "site_versions",
    metadata,
    sa.Column("id", sa.Uuid, sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    *_site_columns(),
)

conflicts = sa.Table(
    "conflicts",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.String(_ENUM), nullable=False),
    sa.Column("activity_id", sa.Uuid, sa.ForeignKey("activities.id"), nullable=False),
    _party_fk("activity_owner"),
    sa.Column("activity_version", sa.Integer, nullable=False),
    # an activity or a site, depending on ``kind``: no foreign key
    sa.Column("other_id", sa.Uuid, nullable=False),
    _party_fk("other_owner"),
    sa.Column("other_version", sa.Integer, nullable=False),
    sa.Column("overlaps", sa.JSON, nullable=False),
    sa.Column("status", sa.String(_ENUM), nullable=False),
    sa.Column("detected_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
    sa.Index(None, "activity_id"),
    sa.Index(None, "other_id"),
    sa.Index(None, "activity_owner"),
    sa.Index(None, "other_owner"),
    sa.Index(None, "detected_at"),
)

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _party_fk("recipient"),
    # None for a tactical alert between tracks alone (0008)
    sa.Column("activity_id", sa.Uuid, sa.ForeignKey("activities.id"), nullable=True),
    sa.Column("activity_version", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(_ENUM), nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("required_lead_time_s", sa.Double, nullable=False),
    sa.Column("deadline", UtcDateTime, nullable=False),
    sa.Column("conflict_id", sa.Uuid, sa.ForeignKey("conflicts.id"), nullable=True),
    sa.Column("status", sa.String(_ENUM), nullable=False),
    sa.Column("status_at", UtcDateTime, nullable=True),
    sa.Column("summary", sa.Text, nullable=False),
    # lifecycle (0003): the activity's owner, each step's hub time, the answer, the receipt
    # of the ledger entry that sent it, and the seq of its event in the recipient's stream
    sa.Column("owner", sa.Uuid, nullable=True),  # the activity's owner (copied; see 0003)
    sa.Column("delivered_at", UtcDateTime, nullable=True),
    sa.Column("read_at", UtcDateTime, nullable=True),
    sa.Column("answered_at", UtcDateTime, nullable=True),
    sa.Column("objection", sa.Text, nullable=True),
    sa.Column("expired_at", UtcDateTime, nullable=True),
    sa.Column("receipt", sa.JSON, nullable=True),
    sa.Column("event_seq", sa.BigInteger, nullable=True),
    # time-to-clear (0004): the insufficient-notice flag and its numbers per asset
    sa.Column("insufficient", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("clearance", sa.JSON, nullable=True),
    # escalation (0005): the level it is at and each step up
    sa.Column("level", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("escalations", sa.JSON, nullable=True),
    # hotline messages (0006): the template and the sender's text
    sa.Column("template", sa.String(_ENUM), nullable=True),
    sa.Column("text", sa.Text, nullable=True),
    # webhooks (0006): how it was delivered (client or webhook)
    sa.Column("delivered_via", sa.String(_ENUM), nullable=True),
    # tactical alerts (0008): the alert and its figures as raised
    sa.Column("alert_id", sa.Uuid, nullable=True),
    sa.Column("alert", sa.JSON, nullable=True),
    sa.Index(None, "alert_id"),
    sa.Index(None, "activity_id", "sent_at"),
    sa.Index(None, "recipient", "sent_at"),
    sa.Index(None, "recipient", "event_seq"),
    sa.Index(None, "status", "deadline"),
)

disclosures = sa.Table(
    "disclosures",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("site_id", sa.Uuid, sa.ForeignKey("sites.id"), nullable=False),
    sa.Column("site_version", sa.Integer, nullable=False),
    _party_fk("recipient"),
    sa.Column("reason", sa.String(_ENUM), nullable=False),
    sa.Column("disclosed_at", UtcDateTime, nullable=False),
    sa.Column("conflict_id", sa.Uuid, sa.ForeignKey("conflicts.id"), nullable=True),
    sa.Column("activity_id", sa.Uuid, sa.ForeignKey("activities.id"), nullable=True),
    sa.Index(None, "site_id", "disclosed_at"),
    sa.Index(None, "recipient", "disclosed_at"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("party_id", sa.Uuid, sa.ForeignKey("parties.id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

assets = sa.Table(
    "assets",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _party_fk("owner"),
    sa.Column("ref", sa.String(100), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("lon", sa.Double, nullable=False),
    sa.Column("lat", sa.Double, nullable=False),
    sa.Column("altitude_m", sa.Double, nullable=True),
    sa.Column("speed_mps", sa.Double, nullable=False),
    sa.Column("max_speed_mps", sa.Double, nullable=False),
    sa.Column("reported_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("owner", "ref"),
)

# One row per party and escalation level (0: the duty desk). ``secret`` is the shared HMAC
# key the hub signs each POST with: it must be readable by the hub, so it is stored as is —
# protect the database (README). The ``cursor`` and ``attempt``/``last_*`` columns are the
# delivery state, changed only by the hub's delivery worker under a check of the cursor.
webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("party_id", sa.Uuid, sa.ForeignKey("parties.id"), primary_key=True),
    sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("cursor", sa.BigInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("next_attempt_at", UtcDateTime, nullable=True),
    sa.Column("last_attempt_at", UtcDateTime, nullable=True),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("last_delivered_at", UtcDateTime, nullable=True),
)

idempotency = sa.Table(
    "idempotency",
    metadata,
    sa.Column("party_id", sa.Uuid, sa.ForeignKey("parties.id"), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(128), nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# The change feed: one row per object a write transaction changed, numbered in commit order
# (writers are serialised), which every node's in-memory index follows (see _changes.py).
changes = sa.Table(
    "changes",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("object_id", sa.Uuid, nullable=False),
)

# Each party's link as the nodes share it: its newest heartbeat any node saved (saved every
# few seconds, not at each beat) and the last status change recorded on the ledger, so that
# two nodes neither disagree about a party whose clients are on the other one nor record the
# same change twice.
party_links = sa.Table(
    "party_links",
    metadata,
    sa.Column("party_id", sa.Uuid, sa.ForeignKey("parties.id"), primary_key=True),
    sa.Column("last_heartbeat", UtcDateTime, nullable=True),
    sa.Column("status", sa.String(20), nullable=True),
    sa.Column("status_at", UtcDateTime, nullable=True),
)

# The tactical alerts open now, whichever node judges them (``judged_by``: its name; None
# for a single node): GET /v1/alerts on any node lists them, and a node that restarts, or
# the node that outlives one that died, clears the alerts left behind.
open_alerts = sa.Table(
    "open_alerts",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("judged_by", sa.String(100), nullable=True),
    sa.Column("parties", sa.JSON, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("raised_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# -- the ledger (deconfliction.audit) ---------------------------------------------------------
# ``body`` (canonical JSON bytes) is what the chain hashes and signs; ``at``, ``type`` and
# ``actor_party`` repeat three of its fields as plain columns for range queries only: the
# ledger's readers decide anything that matters (who may see an entry) from the body.

ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("actor_party", sa.Uuid, nullable=True),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("digest", sa.LargeBinary(32), nullable=False),
    sa.Column("prev_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False, unique=True),
    sa.Column("hub_sig", sa.LargeBinary(64), nullable=False),
    sa.Index(None, "at"),
)

# One row (id 1): the seq and hash of the newest entry. Appending locks it (``FOR UPDATE``
# on PostgreSQL; SQLite's write lock is already held), so seqs are allocated one at a time,
# gap-free, and an entry cut off the end of ``ledger`` no longer matches it.
ledger_head = sa.Table(
    "ledger_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)

party_keys = sa.Table(
    "party_keys",
    metadata,
    sa.Column("party_id", sa.Uuid, sa.ForeignKey("parties.id"), primary_key=True),
    sa.Column("key_id", sa.String(64), primary_key=True),
    sa.Column("public_key", sa.LargeBinary(32), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
)

# -- the ASTM F3548-21 discovery service (deconfliction.interop) ------------------------------
# Operational intent and constraint references (``type``), with their OVN and version; an
# operational intent also names the hotline activity that carries it. ``extents`` are volume
# records (geo.volume_to_record); ``time_start``/``time_end`` bound them, for range queries.

dss_entities = sa.Table(
    "dss_entities",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("type", sa.String(_ENUM), nullable=False),
    sa.Column("manager", sa.String(255), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("ovn", sa.String(128), nullable=False),
    sa.Column("state", sa.String(_ENUM), nullable=True),
    sa.Column("uss_base_url", sa.String(2000), nullable=False),
    sa.Column("subscription_id", sa.Uuid, nullable=True),
    _party_fk("party_id", nullable=True),
    sa.Column("activity_id", sa.Uuid, sa.ForeignKey("activities.id"), nullable=True),
    sa.Column("time_start", UtcDateTime, nullable=False),
    sa.Column("time_end", UtcDateTime, nullable=False),
    sa.Column("extents", sa.JSON, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index(None, "type", "time_end"),
    sa.Index(None, "subscription_id"),
)

dss_subscriptions = sa.Table(
    "dss_subscriptions",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("manager", sa.String(255), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("notification_index", sa.Integer, nullable=False),
    sa.Column("uss_base_url", sa.String(2000), nullable=False),
    sa.Column("notify_for_operational_intents", sa.Boolean, nullable=False),
    sa.Column("notify_for_constraints", sa.Boolean, nullable=False),
    sa.Column("implicit", sa.Boolean, nullable=False),
    sa.Column("time_start", UtcDateTime, nullable=False),
    sa.Column("time_end", UtcDateTime, nullable=False),
    sa.Column("extents", sa.JSON, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index(None, "time_end"),
)

dss_availability = sa.Table(
    "dss_availability",
    metadata,
    sa.Column("manager", sa.String(255), primary_key=True),
    sa.Column("availability", sa.String(_ENUM), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

dss_reports = sa.Table(
    "dss_reports",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("manager", sa.String(255), nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("report", sa.JSON, nullable=False),
)
