"""Request and response bodies (pydantic v2). GeoJSON in and out.

Requests forbid unknown fields so that a typo is an error, not a silently ignored value.
Geometry inside features is checked by the geometry core, which names the offending field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from deconfliction.model import (
    MAX_SITE_BUFFER_M,
    MAX_URL_LENGTH,
    MAX_VOLUMES,
    ActivityKind,
    MessageTemplate,
    PartyKind,
    Priority,
    Role,
    SiteCategory,
)

__all__ = [
    "ActivityIn",
    "ActivityOut",
    "CheckOut",
    "ConflictOut",
    "EventOut",
    "FeatureCollectionIn",
    "FeatureIn",
    "FilingOut",
    "NoticeOut",
    "PartyIn",
    "PartyOut",
    "SiteIn",
    "SiteOut",
    "SiteResultOut",
    "TokenIn",
    "TokenOut",
    "TokenSecretOut",
    "WebhookIn",
    "WebhookOut",
    "WebhookSecretOut",
]

_STRICT = ConfigDict(extra="forbid")


class FeatureIn(BaseModel):
    """A GeoJSON Feature: a volume (see the README for its properties)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"]
    geometry: dict[str, Any]
    properties: dict[str, Any] | None = None


class FeatureCollectionIn(BaseModel):
    """A GeoJSON FeatureCollection of 1–100 volumes."""

    model_config = ConfigDict(extra="allow")
    type: Literal["FeatureCollection"]
    features: list[FeatureIn] = Field(min_length=1, max_length=MAX_VOLUMES)


class ActivityIn(BaseModel):
    """An activity to file, amend or check."""

    model_config = _STRICT
    kind: ActivityKind
    title: str = Field(min_length=1, max_length=200)
    volumes: FeatureCollectionIn
    priority: Priority = Priority.ROUTINE
    remarks: str = Field(default="", max_length=4000, description="internal: never shown to others")


class SiteIn(BaseModel):
    """A protected site to register or amend."""

    model_config = _STRICT
    name: str = Field(min_length=1, max_length=200)
    category: SiteCategory
    footprint: FeatureIn = Field(
        description="a Polygon, or a Point with a radius_m property (altitude and time "
        "properties are ignored: use the fields below)"
    )
    valid_from: AwareDatetime
    valid_to: AwareDatetime
    buffer_m: float = Field(default=0.0, ge=0, le=MAX_SITE_BUFFER_M)
    altitude_lower_m: float | None = Field(
        default=None, description="default -500 (WGS84 ellipsoid)"
    )
    altitude_upper_m: float | None = Field(default=None, description="default 100,000")
    remarks: str = Field(default="", max_length=4000)


class PartyIn(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1, max_length=200)
    kind: PartyKind
    contact: str = Field(default="", max_length=1000)
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1, max_length=20)


class TokenIn(BaseModel):
    model_config = _STRICT
    role: Role = Role.OPERATOR
    label: str = Field(default="", max_length=200)
    level: int = Field(
        default=0, ge=0, le=5, description="escalation level (0: the duty desk; see escalation)"
    )


class LevelIn(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1, max_length=100, description="e.g. 'watch commander'")
    deadline_min: float = Field(default=15.0, ge=1 / 60, le=1440.0)


class EscalationIn(BaseModel):
    """The levels above the duty desk, lowest first (an empty list: none)."""

    model_config = _STRICT
    levels: list[LevelIn] = Field(max_length=5)


class EscalationOut(BaseModel):
    party_id: str
    levels: list[LevelIn]


class WebhookIn(BaseModel):
    """Where to POST the party's events for one level (0: the duty desk)."""

    model_config = _STRICT
    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="https:// (http:// only to 127.0.0.1, localhost or [::1], for local use)",
    )
    enabled: bool = Field(default=True, description="false: keep it, but send nothing")


# ------------------------------------------------------------------------- responses


class PartyOut(BaseModel):
    id: str
    name: str
    kind: PartyKind
    contact: str
    languages: list[str]
    created_at: datetime
    version: int


class TokenOut(BaseModel):
    id: str
    party_id: str
    role: Role
    label: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    level: int = 0


class TokenSecretOut(TokenOut):
    secret: str = Field(description="shown once: store it now, the hub keeps only a hash")


class WebhookOut(BaseModel):
    party_id: str
    level: int = Field(description="0: the duty desk (every event); k ≥ 1: notices at level ≥ k")
    url: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    cursor: int = Field(description="the seq of the last event it is done with")
    backlog: int = Field(description="events for it after the cursor, not delivered yet")
    last_seq: int = Field(description="the party's latest event seq")
    attempts: int = Field(description="failed attempts at the next event since the last success")
    next_attempt_at: datetime | None = Field(description="when the next event is tried again")
    last_attempt_at: datetime | None
    last_status: int | None = Field(description="HTTP status of the last attempt (None: no answer)")
    last_error: str | None = Field(description="why the last attempt failed (None: it succeeded)")
    last_delivered_at: datetime | None


class WebhookSecretOut(WebhookOut):
    secret: str = Field(
        description="the shared HMAC-SHA256 secret, shown once (a new one each PUT): store it now"
    )


class FeatureCollectionOut(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]


class ActivityOut(BaseModel):
    """An activity. ``remarks`` and ``created_at`` appear only in its owner's view."""

    id: str
    owner: str
    kind: ActivityKind
    title: str
    priority: Priority
    state: str
    version: int
    start: datetime
    end: datetime
    updated_at: datetime
    volumes: FeatureCollectionOut
    remarks: str | None = None
    created_at: datetime | None = None
    awaiting_acknowledgement: list[dict[str, Any]] | None = Field(
        None,
        description="owner's view, for kinds where the policy expects acknowledgement: "
        "the notices not answered yet (party, notice, deadline, level, status)",
    )


class OverlapOut(BaseModel):
    volume: int
    other_volume: int
    time_start: datetime | None
    time_end: datetime | None
    time_gap_s: float
    altitude_lower_m: float | None
    altitude_upper_m: float | None
    vertical_gap_m: float
    horizontal_distance_m: float
    intersection: dict[str, Any] | None


class SideOut(BaseModel):
    id: str
    owner: str
    version: int
    type: str | None = None


class ConflictOut(BaseModel):
    id: str
    kind: str
    status: str
    activity: SideOut
    other: SideOut
    min_horizontal_distance_m: float
    overlaps: list[OverlapOut]
    detected_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


class ReceiptOut(BaseModel):
    """Proof that the hub recorded an entry: check ``signature`` over ``hash`` with the hub
    key (``GET /v1/ledger/key``), then find the entry at ``seq`` in the ledger."""

    seq: int
    hash: str = Field(description="SHA-256 chain hash of the entry, hex")
    signature: str = Field(description="the hub's Ed25519 signature of the hash, base64")


class NoticeOut(BaseModel):
    id: str
    recipient: str
    activity_id: str | None = Field(description="None: a tactical alert between tracks alone")
    activity_version: int
    conflict_id: str | None
    reason: str
    summary: str
    sent_at: datetime
    starts_at: datetime
    lead_time_s: float
    required_lead_time_s: float
    late: bool
    deadline: datetime
    status: str = Field(
        description="queued, delivered, read, acknowledged, objected, expired or superseded"
    )
    status_at: datetime | None
    owner: str | None = Field(None, description="the activity's owner")
    needs_answer: bool = Field(
        True, description="whether an acknowledgement or objection is expected by the deadline"
    )
    delivered_at: datetime | None = None
    delivered_via: Literal["client", "webhook"] | None = Field(
        None, description="how it was delivered: the party's client confirmed, or its webhook"
    )
    read_at: datetime | None = None
    answered_at: datetime | None = None
    objection: str | None = Field(None, description="the recipient's reason, when it objected")
    expired_at: datetime | None = None
    receipt: ReceiptOut | None = Field(None, description="the ledger receipt of sending it")
    insufficient: bool = Field(
        False, description="insufficient notice: an asset of mine cannot get clear in time"
    )
    clearance: list[ClearanceOut] = Field(default_factory=list)
    template: str | None = Field(None, description="for a message: its template")
    text: str | None = Field(None, description="for a message: what the sender wrote")
    alert_id: str | None = Field(None, description="for a tactical alert: the alert")
    alert: dict[str, Any] | None = Field(
        None, description="for a tactical alert: its kind, tracks and figures as raised"
    )
    level: int = Field(0, description="the recipient's escalation level it is at")
    escalations: list[dict[str, Any]] = Field(
        default_factory=list, description="each step up: level, name, at, deadline"
    )


class ClearanceOut(BaseModel):
    """Time-to-clear of one of the recipient's assets in or near one volume."""

    asset_id: str
    volume: int = Field(description="index of the volume in the activity")
    distance_m: float = Field(description="the shortest way out of the volume plus buffer")
    max_speed_mps: float
    required_s: float = Field(description="distance at max speed")
    available_s: float = Field(description="until the volume starts (less the time buffer)")
    insufficient: bool


class NoticeStepOut(BaseModel):
    """A notice after a lifecycle step, with the ledger receipt of that step."""

    notice: NoticeOut
    receipt: ReceiptOut | None = None


class MessageIn(BaseModel):
    """A hotline message. Templates: free_text, request_clarification, request_delay,
    confirm_clear, cease_harm (urgent: cease — harm in progress at a notified site)."""

    model_config = ConfigDict(extra="forbid")

    template: MessageTemplate = MessageTemplate.FREE_TEXT
    text: str = Field("", max_length=4000)
    to: UUID | None = Field(None, description="the party (needed when several are on the thread)")


class ObjectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="why (shown to the owner)")


class DeliveryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=0, description="every event of my stream up to this seq was received")


class DeliveryOut(BaseModel):
    delivered: list[NoticeOut]


class FilingOut(BaseModel):
    """The outcome of a write to an activity."""

    activity: ActivityOut
    conflicts: list[ConflictOut]
    notices: list[NoticeOut] = Field(description="one per affected party, as sent")
    lead_time_s: float = Field(description="activity start minus now, by the hub's clock")
    required_lead_time_s: float
    late: bool = Field(description="less notice than the policy asks: flagged, never refused")
    replayed: bool = Field(description="an Idempotency-Key matched an earlier identical request")
    receipt: ReceiptOut | None = Field(None, description="the ledger receipt of this version")
    links: dict[str, str] = Field(
        default_factory=dict,
        description="each notified party's link when told: normal, degraded, or down (the "
        "notice waits, in order, until a client of that party returns)",
    )


class SiteOut(BaseModel):
    """A protected site; ``name``, ``remarks`` and times appear only in its owner's view."""

    id: str
    owner: str
    category: SiteCategory
    footprint: dict[str, Any]
    buffer_m: float
    altitude_lower_m: float
    altitude_upper_m: float
    altitude_reference: str
    valid_from: datetime
    valid_to: datetime
    state: str
    version: int
    name: str | None = None
    remarks: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class SiteResultOut(BaseModel):
    site: SiteOut
    conflicts: list[ConflictOut]
    notices: list[NoticeOut]
    replayed: bool
    receipt: ReceiptOut | None = None


class PreviewOut(BaseModel):
    other_type: str
    other_id: str | None = Field(description="the site's id; null for an activity")
    other_owner: str
    overlaps: list[OverlapOut]


class CheckOut(BaseModel):
    """A dry run: nothing is filed (protected-site disclosures are still recorded)."""

    conflicts: list[PreviewOut]
    sites: list[SiteOut]
    lead_time_s: float
    required_lead_time_s: float
    late: bool


class EventOut(BaseModel):
    seq: int
    type: str
    at: datetime
    data: dict[str, Any]


_KT = 1852.0 / 3600.0
_FT = 0.3048


class AssetIn(BaseModel):
    """One asset's report: give each quantity in one unit (m/s or kt, m or ft)."""

    model_config = ConfigDict(extra="forbid")

    ref: str = Field(min_length=1, max_length=100, description="my own name for the asset")
    name: str = Field("", max_length=200)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    altitude_m: float | None = None
    altitude_ft: float | None = None
    speed_mps: float | None = Field(None, ge=0)
    speed_kt: float | None = Field(None, ge=0)
    max_speed_mps: float | None = Field(None, gt=0)
    max_speed_kt: float | None = Field(None, gt=0)
    at: AwareDatetime | None = Field(None, description="when it was there (default: now)")

    @model_validator(mode="after")
    def _one_unit_each(self) -> AssetIn:
        for a, b in (
            ("altitude_m", "altitude_ft"),
            ("speed_mps", "speed_kt"),
            ("max_speed_mps", "max_speed_kt"),
        ):
            if getattr(self, a) is not None and getattr(self, b) is not None:
                raise ValueError(f"give {a} or {b}, not both")
        if self.max_speed_mps is None and self.max_speed_kt is None:
            raise ValueError("max_speed_mps or max_speed_kt is required (time-to-clear uses it)")
        return self

    def si(self) -> dict[str, Any]:
        """The report in SI units."""
        alt = self.altitude_m if self.altitude_ft is None else self.altitude_ft * _FT
        speed = self.speed_mps if self.speed_kt is None else self.speed_kt * _KT
        top = self.max_speed_mps if self.max_speed_kt is None else self.max_speed_kt * _KT
        return {
            "ref": self.ref,
            "name": self.name,
            "lon": self.lon,
            "lat": self.lat,
            "altitude_m": alt,
            "speed_mps": speed or 0.0,
            "max_speed_mps": top,
            "at": self.at,
        }


class AssetsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assets: list[AssetIn] = Field(min_length=1, max_length=1000)


class AssetOut(BaseModel):
    id: str
    owner: str
    ref: str
    name: str
    lon: float
    lat: float
    altitude_m: float | None
    speed_mps: float
    max_speed_mps: float
    reported_at: datetime


# ------------------------------------------------------------------------- timeline, figures


class PartyRefOut(BaseModel):
    id: str
    name: str


class TimelineNoticeOut(NoticeOut):
    recipient_name: str
    time_to_answer_s: float | None = Field(
        description="from sending to the answer (acknowledgement or objection); null: none yet"
    )


class TimelineConflictOut(ConflictOut):
    other_party: PartyRefOut = Field(description="the party on the other side")
    other_type: Literal["activity", "site"]
    other_object: str = Field(description="the id of the activity or site on the other side")


class TimelineVersionOut(BaseModel):
    version: int
    change: Literal["filed", "amended", "activated", "ended", "cancelled"]
    at: datetime = Field(description="hub time of the change")
    state: str
    kind: ActivityKind
    title: str
    priority: Priority
    start: datetime
    end: datetime
    volumes: FeatureCollectionOut


class TimelineEventOut(BaseModel):
    time: datetime
    type: str = Field(description="e.g. activity.amended, conflict.detected, notice.read")
    what: str = Field(description="a few words: notice sent, acknowledged, escalated…")
    party: str | None = Field(description="the party's name (the owner, the recipient…)")
    party_id: str | None
    details: str = Field(description="the step in one sentence, with its figures and flags")
    ref: dict[str, Any] = Field(description="ids of what it is about: version, conflict, notice")


class TimelineOut(BaseModel):
    """My activity's whole story: versions, conflicts, notices, and every step in order."""

    activity: ActivityOut
    owner: PartyRefOut
    generated_at: datetime
    versions: list[TimelineVersionOut]
    conflicts: list[TimelineConflictOut]
    notices: list[TimelineNoticeOut] = Field(description="every notice of every version")
    events: list[TimelineEventOut] = Field(description="oldest first")


class PairFiguresOut(BaseModel):
    from_: PartyRefOut = Field(alias="from")
    to: PartyRefOut
    direction: Literal["sent", "received"] | None = Field(
        description="from my side: notices I sent, or received; null for others' pairs"
    )
    counterpart: PartyRefOut | None
    notices: int = Field(description="notices sent (every reason)")
    answer_expected: int = Field(description="of those, the ones calling for an answer")
    median_lead_time_s: float | None = Field(description="of the ones calling for an answer")
    late: int
    late_share: float | None = Field(description="late / answer_expected")
    insufficient: int
    insufficient_share: float | None = Field(description="insufficient / notices")
    answered: int = Field(description="acknowledged or objected")
    median_time_to_ack_s: float | None = Field(description="sending to answer, median")
    unanswered: int = Field(description="calling for an answer, none yet, not superseded")
    expired: int
    expired_share: float | None = Field(description="expired / answer_expected")


class FiguresOut(BaseModel):
    """Per party pair and direction, over the notices sent in [since, until)."""

    party: PartyRefOut
    since: datetime | None
    until: datetime | None
    all: bool
    pairs: list[PairFiguresOut]
