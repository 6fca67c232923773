"""The hotline's entities, enums, state machines and policy — pure (no I/O).

>>> Policy.default().for_kind(ActivityKind.HAZARD).ack_deadline_s
300.0
"""

from deconfliction.model._activity import MAX_VOLUMES, Activity
from deconfliction.model._asset import MAX_ASSET_SPEED_MPS, Asset
from deconfliction.model._conflict import Conflict, VolumeOverlap
from deconfliction.model._enums import (
    ActivityKind,
    ActivityState,
    ConflictKind,
    ConflictStatus,
    DeliveryChannel,
    LinkStatus,
    MessageTemplate,
    NoticeReason,
    NoticeStatus,
    PartyKind,
    Priority,
    Role,
    SiteCategory,
    SiteState,
)
from deconfliction.model._notice import Notice
from deconfliction.model._party import MAX_LEVELS, EscalationLevel, Party
from deconfliction.model._policy import DEFAULT_POLICY_TOML, KindPolicy, Policy
from deconfliction.model._site import MAX_SITE_BUFFER_M, SITE_DEFAULT_ALTITUDE, ProtectedSite
from deconfliction.model._track import (
    MAX_TRACK_ALTITUDE_M,
    MAX_VERTICAL_RATE_MPS,
    MIN_TRACK_ALTITUDE_M,
    AltitudeReference,
    Rejection,
    Track,
    TrackBatchResult,
    TrackPolicy,
    TrackSource,
    check_batch,
    check_track,
)
from deconfliction.model._track_columns import tracks_from_columns
from deconfliction.model._units import FEET_PER_MIN_MPS, KNOT_MPS, NAUTICAL_MILE_M
from deconfliction.model._webhook import MAX_URL_LENGTH, Webhook, WebhookState

__all__ = [
    "DEFAULT_POLICY_TOML",
    "FEET_PER_MIN_MPS",
    "KNOT_MPS",
    "MAX_ASSET_SPEED_MPS",
    "MAX_LEVELS",
    "MAX_SITE_BUFFER_M",
    "MAX_TRACK_ALTITUDE_M",
    "MAX_URL_LENGTH",
    "MAX_VERTICAL_RATE_MPS",
    "MAX_VOLUMES",
    "MIN_TRACK_ALTITUDE_M",
    "NAUTICAL_MILE_M",
    "SITE_DEFAULT_ALTITUDE",
    "Activity",
    "ActivityKind",
    "ActivityState",
    "AltitudeReference",
    "Asset",
    "Conflict",
    "ConflictKind",
    "ConflictStatus",
    "DeliveryChannel",
    "EscalationLevel",
    "KindPolicy",
    "LinkStatus",
    "MessageTemplate",
    "Notice",
    "NoticeReason",
    "NoticeStatus",
    "Party",
    "PartyKind",
    "Policy",
    "Priority",
    "ProtectedSite",
    "Rejection",
    "Role",
    "SiteCategory",
    "SiteState",
    "Track",
    "TrackBatchResult",
    "TrackPolicy",
    "TrackSource",
    "VolumeOverlap",
    "Webhook",
    "WebhookState",
    "check_batch",
    "tracks_from_columns",
    "check_track",
]
