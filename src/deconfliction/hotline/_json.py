"""JSON renderings of the entities — what the API returns and what notices record.

Another party's activity is rendered with :func:`activity_json` ``full=False``: owner,
kind, title, volumes, times, state, priority and version, never the owner's remarks.
A protected site seen by another party (through a conflict) shows only its footprint,
buffer, altitude band, validity and category: not its name or remarks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deconfliction.geo import footprint_to_geojson, volume_to_geojson
from deconfliction.hotline._ports import Disclosure, Event, TokenInfo
from deconfliction.model import (
    Activity,
    Asset,
    Conflict,
    Notice,
    Party,
    ProtectedSite,
    VolumeOverlap,
    Webhook,
)

__all__ = [
    "activity_json",
    "asset_json",
    "conflict_json",
    "disclosure_json",
    "event_json",
    "iso",
    "notice_json",
    "overlap_json",
    "party_json",
    "site_json",
    "token_json",
    "webhook_json",
]


def iso(dt: datetime | None) -> str | None:
    """ISO 8601 UTC with ``Z`` (None stays None)."""
    return None if dt is None else dt.isoformat().replace("+00:00", "Z")


def party_json(p: Party) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "name": p.name,
        "kind": p.kind.value,
        "contact": p.contact,
        "languages": list(p.languages),
        "created_at": iso(p.created_at),
        "version": p.version,
    }


def token_json(t: TokenInfo) -> dict[str, Any]:
    return {
        "id": str(t.id),
        "party_id": str(t.party_id),
        "role": t.role.value,
        "label": t.label,
        "prefix": t.prefix,
        "created_at": iso(t.created_at),
        "revoked_at": iso(t.revoked_at),
        "level": t.level,
    }


def activity_json(a: Activity, *, full: bool) -> dict[str, Any]:
    """An activity; ``full`` (the owner's view) adds ``remarks`` and ``created_at``."""
    out: dict[str, Any] = {
        "id": str(a.id),
        "owner": str(a.owner),
        "kind": a.kind.value,
        "title": a.title,
        "priority": a.priority.value,
        "state": a.state.value,
        "version": a.version,
        "start": iso(a.start),
        "end": iso(a.end),
        "updated_at": iso(a.updated_at),
        "volumes": {
            "type": "FeatureCollection",
            "features": [volume_to_geojson(v) for v in a.volumes],
        },
    }
    if full:
        out["remarks"] = a.remarks
        out["created_at"] = iso(a.created_at)
    return out


def site_json(s: ProtectedSite, *, full: bool) -> dict[str, Any]:
    """A protected site; only its owner (``full``) sees its name and remarks."""
    out: dict[str, Any] = {
        "id": str(s.id),
        "owner": str(s.owner),
        "category": s.category.value,
        "footprint": footprint_to_geojson(s.footprint),
        "buffer_m": s.buffer_m,
        "altitude_lower_m": s.altitude.lower_m,
        "altitude_upper_m": s.altitude.upper_m,
        "altitude_reference": "WGS84",
        "valid_from": iso(s.validity.start),
        "valid_to": iso(s.validity.end),
        "state": s.state.value,
        "version": s.version,
    }
    if full:
        out |= {
            "name": s.name,
            "remarks": s.remarks,
            "created_at": iso(s.created_at),
            "updated_at": iso(s.updated_at),
        }
    return out


def overlap_json(o: VolumeOverlap) -> dict[str, Any]:
    return {
        "volume": o.volume,
        "other_volume": o.other_volume,
        "time_start": iso(o.time_start),
        "time_end": iso(o.time_end),
        "time_gap_s": o.time_gap_s,
        "altitude_lower_m": o.altitude_lower_m,
        "altitude_upper_m": o.altitude_upper_m,
        "vertical_gap_m": o.vertical_gap_m,
        "horizontal_distance_m": round(o.horizontal_distance_m, 2),
        "intersection": o.intersection,
    }


def conflict_json(c: Conflict) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "kind": c.kind.value,
        "status": c.status.value,
        "activity": {
            "id": str(c.activity_id),
            "owner": str(c.activity_owner),
            "version": c.activity_version,
        },
        "other": {
            "type": "site" if c.kind.value == "activity_site" else "activity",
            "id": str(c.other_id),
            "owner": str(c.other_owner),
            "version": c.other_version,
        },
        "min_horizontal_distance_m": round(c.min_horizontal_distance_m, 2),
        "overlaps": [overlap_json(o) for o in c.overlaps],
        "detected_at": iso(c.detected_at),
        "updated_at": iso(c.updated_at),
        "resolved_at": iso(c.resolved_at),
    }


def notice_json(n: Notice) -> dict[str, Any]:
    return {
        "id": str(n.id),
        "recipient": str(n.recipient),
        "activity_id": None if n.activity_id is None else str(n.activity_id),
        "activity_version": n.activity_version,
        "conflict_id": None if n.conflict_id is None else str(n.conflict_id),
        "reason": n.reason.value,
        "summary": n.summary,
        "sent_at": iso(n.sent_at),
        "starts_at": iso(n.starts_at),
        "lead_time_s": n.lead_time_s,
        "required_lead_time_s": n.required_lead_time_s,
        "late": n.late,
        "deadline": iso(n.deadline),
        "status": n.status.value,
        "status_at": iso(n.status_at),
        "owner": None if n.owner is None else str(n.owner),
        "needs_answer": n.needs_answer,
        "delivered_at": iso(n.delivered_at),
        "delivered_via": None if n.delivered_via is None else n.delivered_via.value,
        "read_at": iso(n.read_at),
        "answered_at": iso(n.answered_at),
        "objection": n.objection,
        "expired_at": iso(n.expired_at),
        "receipt": None if n.receipt is None else dict(n.receipt),
        "insufficient": n.insufficient,
        "clearance": [dict(c) for c in n.clearance],
        "level": n.level,
        "escalations": [dict(e) for e in n.escalations],
        "template": n.template,
        "text": n.text or None,
        "alert_id": None if n.alert_id is None else str(n.alert_id),
        "alert": None if n.alert is None else dict(n.alert),
    }


def asset_json(a: Asset) -> dict[str, Any]:
    return {
        "id": str(a.id),
        "owner": str(a.owner),
        "ref": a.ref,
        "name": a.name,
        "lon": a.lon,
        "lat": a.lat,
        "altitude_m": a.altitude_m,
        "speed_mps": a.speed_mps,
        "max_speed_mps": a.max_speed_mps,
        "reported_at": iso(a.reported_at),
    }


def disclosure_json(d: Disclosure) -> dict[str, Any]:
    return {
        "id": str(d.id),
        "site_id": str(d.site_id),
        "site_version": d.site_version,
        "recipient": str(d.recipient),
        "reason": d.reason,
        "conflict_id": None if d.conflict_id is None else str(d.conflict_id),
        "activity_id": None if d.activity_id is None else str(d.activity_id),
        "disclosed_at": iso(d.disclosed_at),
    }


def event_json(e: Event) -> dict[str, Any]:
    return {"seq": e.seq, "type": e.type, "at": iso(e.created_at), "data": dict(e.payload)}


def webhook_json(w: Webhook) -> dict[str, Any]:
    """A webhook's configuration and delivery state (never its secret)."""
    st = w.state
    return {
        "party_id": str(w.party_id),
        "level": w.level,
        "url": w.url,
        "enabled": w.enabled,
        "created_at": iso(w.created_at),
        "updated_at": iso(w.updated_at),
        "cursor": st.cursor,
        "attempts": st.attempts,
        "next_attempt_at": iso(st.next_attempt_at),
        "last_attempt_at": iso(st.last_attempt_at),
        "last_status": st.last_status,
        "last_error": st.last_error,
        "last_delivered_at": iso(st.last_delivered_at),
    }
