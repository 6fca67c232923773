"""Enumerations of the hotline's entities (string values are what the API shows)."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "PartyKind",
    "Role",
    "ActivityKind",
    "ActivityState",
    "Priority",
    "SiteCategory",
    "SiteState",
    "ConflictKind",
    "ConflictStatus",
    "NoticeReason",
    "NoticeStatus",
    "LinkStatus",
    "MessageTemplate",
    "DeliveryChannel",
]


class PartyKind(StrEnum):
    """What kind of organisation a party is."""

    ARMED_FORCE = "armed_force"
    AIR_NAVIGATION_SERVICE = "air_navigation_service"
    UAS_OPERATOR = "uas_operator"
    HUMANITARIAN = "humanitarian"
    OTHER = "other"


class Role(StrEnum):
    """What a token may do: observers read, operators also write, admins manage parties."""

    OBSERVER = "observer"
    OPERATOR = "operator"
    ADMIN = "admin"


class ActivityKind(StrEnum):
    """What a party declares it will do."""

    AIR_OPERATION = "air_operation"
    FLIGHT = "flight"
    UAS_OPERATION = "uas_operation"
    GROUND_MOVEMENT = "ground_movement"
    MARITIME = "maritime"
    AIRSPACE_RESERVATION = "airspace_reservation"
    HAZARD = "hazard"
    """Live fire, air-defence engagement zone, launch window: dangerous to anyone inside."""


class ActivityState(StrEnum):
    """notified → active → ended, or cancelled (from notified or active)."""

    NOTIFIED = "notified"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"

    @property
    def is_live(self) -> bool:
        """Whether the activity still takes part in conflict detection."""
        return self in (ActivityState.NOTIFIED, ActivityState.ACTIVE)


class Priority(StrEnum):
    """Message precedence, lowest first (as in military message handling)."""

    ROUTINE = "routine"
    PRIORITY = "priority"
    IMMEDIATE = "immediate"
    FLASH = "flash"


class SiteCategory(StrEnum):
    """What a protected site is."""

    MEDICAL = "medical"
    HUMANITARIAN = "humanitarian"
    CIVILIAN_INFRASTRUCTURE = "civilian_infrastructure"
    DIPLOMATIC = "diplomatic"
    OTHER = "other"


class SiteState(StrEnum):
    """A site is active until its owner withdraws it."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class ConflictKind(StrEnum):
    """Between what a conflict was detected."""

    ACTIVITY_ACTIVITY = "activity_activity"
    ACTIVITY_SITE = "activity_site"


class ConflictStatus(StrEnum):
    """Open while both sides still meet; resolved when an amendment, end or cancel parts them."""

    OPEN = "open"
    RESOLVED = "resolved"


class NoticeReason(StrEnum):
    """Why a party is told about an activity version."""

    NEW = "new"
    """The activity (or this version of it) affects the recipient for the first time."""
    AMENDED = "amended"
    """An activity that already affected the recipient was amended and still affects it."""
    NO_LONGER_AFFECTED = "no_longer_affected"
    """An amendment, withdrawal or cancellation means it no longer affects the recipient."""
    ACTIVATED = "activated"
    ENDED = "ended"
    CANCELLED = "cancelled"
    SITE_CONFLICT = "site_conflict"
    """A protected site registered or amended by another party conflicts with the recipient's
    activity (the recipient learns the site's footprint and category; the disclosure is
    recorded)."""
    ALERT = "alert"
    """A tactical alert (proximity, incursion, non-conformance) concerns the recipient: live
    tracks, not declared intent (same lifecycle; superseded when the alert clears)."""
    MESSAGE = "message"
    """A hotline message between the parties of an activity or conflict (same lifecycle:
    delivered, read, acknowledged or objected, escalated, expired)."""

    @property
    def calls_for_answer(self) -> bool:
        """Whether the recipient is expected to acknowledge or object by the deadline (then
        it escalates and expires); the others inform."""
        return self in (
            NoticeReason.NEW,
            NoticeReason.AMENDED,
            NoticeReason.SITE_CONFLICT,
            NoticeReason.ALERT,
            NoticeReason.MESSAGE,
        )


class MessageTemplate(StrEnum):
    """Structured hotline messages (free text goes with any of them)."""

    FREE_TEXT = "free_text"
    REQUEST_CLARIFICATION = "request_clarification"
    REQUEST_DELAY = "request_delay"
    CONFIRM_CLEAR = "confirm_clear"
    CEASE_HARM = "cease_harm"
    """Urgent: cease — harm in progress at a notified site. Short answer deadline."""


class NoticeStatus(StrEnum):
    """A notice's lifecycle (delivery and acknowledgement steps are stamped by the hub)."""

    QUEUED = "queued"
    DELIVERED = "delivered"
    READ = "read"
    ACKNOWLEDGED = "acknowledged"
    OBJECTED = "objected"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    """A newer version of the activity replaced the one this notice was about."""


class LinkStatus(StrEnum):
    """A party's link to the hub, from its clients' heartbeats (thresholds in the policy)."""

    NORMAL = "normal"
    DEGRADED = "degraded"
    """No heartbeat for a while: notices may be slow to arrive."""
    DOWN = "down"
    """No heartbeat for longer (or none since the hub started): notices cannot be
    delivered now; they wait, in order, until a client of the party returns."""


class DeliveryChannel(StrEnum):
    """How a notice reached its recipient (what made it *delivered*)."""

    CLIENT = "client"
    """The party's client confirmed receipt (WebSocket ``delivered`` message, ``POST
    /v1/notices/delivered``, or a person reading or answering it)."""
    WEBHOOK = "webhook"
    """The party's webhook answered 2xx to the POST of the notice's event."""
