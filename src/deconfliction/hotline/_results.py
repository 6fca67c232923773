"""What the hotline services return."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from deconfliction.geo import Volume4D
from deconfliction.hotline._ports import Receipt
from deconfliction.model import (
    Activity,
    ActivityKind,
    Conflict,
    Notice,
    Priority,
    ProtectedSite,
    VolumeOverlap,
)

__all__ = [
    "ActivityDraft",
    "CheckResult",
    "FilingResult",
    "Idempotency",
    "PreviewConflict",
    "Signed",
    "SiteResult",
]


@dataclass(frozen=True, slots=True)
class ActivityDraft:
    """An activity as a party submits it (validated by the service)."""

    kind: ActivityKind
    title: str
    volumes: tuple[Volume4D, ...]
    priority: Priority = Priority.ROUTINE
    remarks: str = ""


@dataclass(frozen=True, slots=True)
class FilingResult:
    """The outcome of filing, amending or changing the state of an activity."""

    activity: Activity
    conflicts: tuple[Conflict, ...]
    """Open conflicts of this version (for an end or cancel: those it resolved)."""
    notices: tuple[Notice, ...]
    """Notices this write created, one per affected party."""
    lead_time_s: float
    """Seconds from now (hub clock) to the activity's start."""
    required_lead_time_s: float
    replayed: bool = False
    """True when an Idempotency-Key matched an earlier identical request."""
    receipt: Receipt | None = None
    """The ledger receipt of this version (None when the hub runs without a ledger)."""
    links: Mapping[UUID, str] = field(default_factory=dict)
    """Each notified party's link when its notice was sent (``down``: it waits)."""

    @property
    def late(self) -> bool:
        """Whether the filing gives less notice than the policy asks (flagged, never refused)."""
        return self.lead_time_s < self.required_lead_time_s


@dataclass(frozen=True, slots=True)
class PreviewConflict:
    """A conflict a dry run found (nothing is stored)."""

    other_type: str
    """``"activity"`` or ``"site"``."""
    other_id: UUID | None
    """The site's id; None for an activity (a dry run does not reveal which one)."""
    other_owner: UUID
    overlaps: tuple[VolumeOverlap, ...]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of a dry-run check."""

    conflicts: tuple[PreviewConflict, ...]
    lead_time_s: float
    required_lead_time_s: float
    disclosed_sites: tuple[ProtectedSite, ...] = ()
    """Protected sites the draft meets (their footprint and category are disclosed, and
    the disclosure is recorded)."""

    @property
    def late(self) -> bool:
        return self.lead_time_s < self.required_lead_time_s


@dataclass(frozen=True, slots=True)
class SiteResult:
    """The outcome of registering, amending or withdrawing a protected site."""

    site: ProtectedSite
    conflicts: tuple[Conflict, ...]
    notices: tuple[Notice, ...]
    replayed: bool = False
    receipt: Receipt | None = None


@dataclass(frozen=True, slots=True)
class Signed:
    """A party's signature of what it submits: ``submission`` is the JSON it signed (for
    a filing, its request body; for an answer, ``{"action", "notice"[, "reason"]}``),
    ``signature`` base64 Ed25519 over its RFC 8785 canonical form, ``key_id`` optional."""

    submission: Any
    signature: str
    key_id: str | None = None


@dataclass(frozen=True, slots=True)
class Idempotency:
    """An ``Idempotency-Key`` and the fingerprint of the request it came with."""

    key: str
    fingerprint: str
