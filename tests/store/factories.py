"""Entities for the store tests: small, valid, and easy to vary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

from deconfliction.geo import AltitudeBand, Circle, Polygon, TimeWindow, Volume4D
from deconfliction.hotline._ports import Disclosure, IdempotencyRecord, TokenInfo
from deconfliction.model import (
    Activity,
    Conflict,
    ConflictKind,
    Notice,
    Party,
    ProtectedSite,
    Role,
    VolumeOverlap,
)

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)
"""A reference instant."""

CET = timezone(timedelta(hours=1))
"""A non-UTC offset: stored values must come back equal, in UTC."""

SQUARE = Polygon([(2.30, 48.80), (2.40, 48.80), (2.40, 48.90), (2.30, 48.90)])
ANTIMERIDIAN = Polygon([(179.9, -0.1), (-179.9, -0.1), (-179.9, 0.1), (179.9, 0.1)])


def at(hours: float) -> datetime:
    """``T0`` plus ``hours``."""
    return T0 + timedelta(hours=hours)


def volume(start_h: float = 0.0, hours: float = 2.0, footprint: Any = None) -> Volume4D:
    """A volume over Paris from ``start_h`` for ``hours``."""
    fp = Circle((2.35, 48.85), 2_000.0) if footprint is None else footprint
    return Volume4D(fp, AltitudeBand(0.0, 1_500.5), TimeWindow(at(start_h), at(start_h + hours)))


def party(name: str = "Blue", **kw: Any) -> Party:
    """A party created at ``T0`` (in CET, to check time zones)."""
    fields: dict[str, Any] = {"kind": "armed_force", "created_at": T0.astimezone(CET)}
    return Party(uuid4(), name, **(fields | kw))


def activity(owner: UUID, start_h: float = 0.0, hours: float = 2.0, **kw: Any) -> Activity:
    """A one-volume flight starting at ``start_h`` (hours after ``T0``)."""
    fields: dict[str, Any] = {
        "kind": "flight",
        "title": "Medevac",
        "volumes": (volume(start_h, hours),),
        "created_at": T0,
        "updated_at": T0,
    }
    fields |= kw
    return Activity(fields.pop("id", uuid4()), owner, **fields)


def site(owner: UUID, name: str = "Hôpital Nord", **kw: Any) -> ProtectedSite:
    """A medical site valid for a year."""
    fields: dict[str, Any] = {
        "category": "medical",
        "footprint": SQUARE,
        "validity": TimeWindow(T0, T0 + timedelta(days=365)),
        "created_at": T0,
        "updated_at": T0,
        "buffer_m": 250.0,
    }
    return ProtectedSite(uuid4(), owner, name=name, **(fields | kw))


def overlap(**kw: Any) -> VolumeOverlap:
    """A volume overlap with times and an intersection geometry."""
    fields: dict[str, Any] = {
        "volume": 0,
        "other_volume": 1,
        "time_start": at(0),
        "time_end": at(1),
        "time_gap_s": 0.0,
        "altitude_lower_m": 0.0,
        "altitude_upper_m": 300.0,
        "vertical_gap_m": 0.0,
        "horizontal_distance_m": 0.0,
        "intersection": {"type": "Point", "coordinates": [2.35, 48.85]},
    }
    return VolumeOverlap(**(fields | kw))


def conflict(a: Activity, other: Activity | ProtectedSite, **kw: Any) -> Conflict:
    """An open conflict between ``a`` and ``other``."""
    kind = (
        ConflictKind.ACTIVITY_SITE
        if isinstance(other, ProtectedSite)
        else ConflictKind.ACTIVITY_ACTIVITY
    )
    fields: dict[str, Any] = {
        "kind": kind,
        "activity_id": a.id,
        "activity_owner": a.owner,
        "activity_version": a.version,
        "other_id": other.id,
        "other_owner": other.owner,
        "other_version": other.version,
        "overlaps": (overlap(), overlap(time_start=None, time_end=None, intersection=None)),
        "detected_at": T0,
        "updated_at": T0,
    }
    return Conflict(uuid4(), **(fields | kw))


def notice(recipient: UUID, a: Activity, sent_h: float = -1.0, **kw: Any) -> Notice:
    """A new-activity notice sent ``sent_h`` hours after ``T0``."""
    fields: dict[str, Any] = {
        "reason": "new",
        "sent_at": at(sent_h),
        "starts_at": a.start,
        "required_lead_time_s": 3600.0,
        "deadline": at(sent_h + 0.25),
        "summary": "Medevac near Paris",
    }
    return Notice(uuid4(), recipient, a.id, a.version, **(fields | kw))


def token(party_id: UUID, created_h: float = 0.0, **kw: Any) -> TokenInfo:
    """An operator token."""
    fields: dict[str, Any] = {
        "role": Role.OPERATOR,
        "label": "ops desk",
        "prefix": "dh_1234",
        "created_at": at(created_h),
    }
    return TokenInfo(uuid4(), party_id, **(fields | kw))


def disclosure(s: ProtectedSite, recipient: UUID, h: float = 0.0, **kw: Any) -> Disclosure:
    """A disclosure of ``s`` to ``recipient`` at ``T0 + h``."""
    fields: dict[str, Any] = {"reason": "dry_run", "disclosed_at": at(h)}
    return Disclosure(uuid4(), s.id, s.version, recipient, **(fields | kw))


def idem(party_id: UUID, key: str = "k-1") -> IdempotencyRecord:
    """An idempotency record."""
    return IdempotencyRecord(party_id, key, "sha256:abc", {"status": 201, "id": "x"}, T0)


__all__ = [
    "ANTIMERIDIAN",
    "CET",
    "SQUARE",
    "T0",
    "activity",
    "at",
    "conflict",
    "disclosure",
    "idem",
    "notice",
    "overlap",
    "party",
    "site",
    "token",
    "volume",
]
