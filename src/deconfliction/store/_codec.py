"""Entities to rows and back.

``*_row`` functions give the column values of a table (a ``dict`` for ``insert``/``update``);
``*_from_row`` functions rebuild the entity from a row mapping. An activity's volumes are geometry-core
records (:func:`~deconfliction.geo.volume_to_record`): they carry what validation derived,
so reloading skips revalidation (tens of µs per volume instead of about 1 ms per polygon).
A site's footprint is a GeoJSON feature (few sites; revalidated on load).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from deconfliction.geo import (
    AltitudeBand,
    TimeWindow,
    footprint_from_geojson,
    footprint_to_geojson,
    volume_from_record,
    volume_to_record,
)
from deconfliction.hotline import Disclosure, Event, IdempotencyRecord, TokenInfo
from deconfliction.model import (
    Activity,
    Asset,
    Conflict,
    ConflictKind,
    ConflictStatus,
    EscalationLevel,
    Notice,
    Party,
    ProtectedSite,
    Role,
    VolumeOverlap,
    Webhook,
    WebhookState,
)

__all__ = [
    "activity_from_row",
    "activity_row",
    "asset_from_row",
    "asset_row",
    "conflict_from_row",
    "conflict_row",
    "disclosure_from_row",
    "disclosure_row",
    "event_from_row",
    "idempotency_from_row",
    "idempotency_row",
    "notice_from_row",
    "notice_row",
    "party_from_row",
    "party_row",
    "site_from_row",
    "site_row",
    "token_from_row",
    "token_row",
    "webhook_from_row",
    "webhook_row",
    "webhook_state_row",
]

Row = dict[str, Any]
RowIn = Mapping[Any, Any]


def party_row(p: Party) -> Row:
    """Columns of ``parties`` (``last_seq`` is the store's own, left to its default)."""
    return {
        "id": p.id,
        "name": p.name,
        "kind": p.kind.value,
        "contact": p.contact,
        "languages": list(p.languages),
        "created_at": p.created_at,
        "version": p.version,
        "escalation": [{"name": lv.name, "deadline_s": lv.deadline_s} for lv in p.escalation]
        or None,
    }


def party_from_row(r: RowIn) -> Party:
    """The :class:`Party` of a ``parties`` row."""
    return Party(
        id=r["id"],
        name=r["name"],
        kind=r["kind"],
        created_at=r["created_at"],
        contact=r["contact"],
        languages=tuple(r["languages"]),
        version=r["version"],
        escalation=tuple(EscalationLevel(**lv) for lv in r["escalation"] or ()),
    )


def token_row(t: TokenInfo, secret_hash: bytes) -> Row:
    """Columns of ``tokens``."""
    return {
        "id": t.id,
        "party_id": t.party_id,
        "role": t.role.value,
        "label": t.label,
        "prefix": t.prefix,
        "secret_hash": secret_hash,
        "created_at": t.created_at,
        "revoked_at": t.revoked_at,
        "level": t.level,
    }


def token_from_row(r: RowIn) -> TokenInfo:
    """The :class:`TokenInfo` of a ``tokens`` row (never its hash)."""
    return TokenInfo(
        id=r["id"],
        party_id=r["party_id"],
        role=Role(r["role"]),
        label=r["label"],
        prefix=r["prefix"],
        created_at=r["created_at"],
        revoked_at=r["revoked_at"],
        level=r["level"],
    )


def activity_row(a: Activity) -> Row:
    """Columns of ``activities`` and ``activity_versions`` (one full snapshot)."""
    return {
        "id": a.id,
        "version": a.version,
        "owner": a.owner,
        "kind": a.kind.value,
        "title": a.title,
        "priority": a.priority.value,
        "state": a.state.value,
        "remarks": a.remarks,
        "volumes": [volume_to_record(v) for v in a.volumes],
        "starts_at": a.start,
        "ends_at": a.end,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    }


def activity_from_row(r: RowIn) -> Activity:
    """The :class:`Activity` of an ``activities`` or ``activity_versions`` row."""
    return Activity(
        id=r["id"],
        owner=r["owner"],
        kind=r["kind"],
        title=r["title"],
        volumes=tuple(volume_from_record(f) for f in r["volumes"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        priority=r["priority"],
        state=r["state"],
        version=r["version"],
        remarks=r["remarks"],
    )


def site_row(s: ProtectedSite) -> Row:
    """Columns of ``sites`` and ``site_versions`` (one full snapshot)."""
    return {
        "id": s.id,
        "version": s.version,
        "owner": s.owner,
        "category": s.category.value,
        "name": s.name,
        "footprint": footprint_to_geojson(s.footprint),
        "valid_from": s.validity.start,
        "valid_to": s.validity.end,
        "buffer_m": s.buffer_m,
        "altitude_lower_m": s.altitude.lower_m,
        "altitude_upper_m": s.altitude.upper_m,
        "state": s.state.value,
        "remarks": s.remarks,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def site_from_row(r: RowIn) -> ProtectedSite:
    """The :class:`ProtectedSite` of a ``sites`` or ``site_versions`` row."""
    return ProtectedSite(
        id=r["id"],
        owner=r["owner"],
        category=r["category"],
        name=r["name"],
        footprint=footprint_from_geojson(r["footprint"]),
        validity=TimeWindow(r["valid_from"], r["valid_to"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        buffer_m=r["buffer_m"],
        altitude=AltitudeBand(r["altitude_lower_m"], r["altitude_upper_m"]),
        state=r["state"],
        version=r["version"],
        remarks=r["remarks"],
    )


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _overlap_json(o: VolumeOverlap) -> Row:
    return {
        "volume": o.volume,
        "other_volume": o.other_volume,
        "time_start": _iso(o.time_start),
        "time_end": _iso(o.time_end),
        "time_gap_s": o.time_gap_s,
        "altitude_lower_m": o.altitude_lower_m,
        "altitude_upper_m": o.altitude_upper_m,
        "vertical_gap_m": o.vertical_gap_m,
        "horizontal_distance_m": o.horizontal_distance_m,
        "intersection": o.intersection,
    }


def _overlap_from_json(d: RowIn) -> VolumeOverlap:
    return VolumeOverlap(
        volume=d["volume"],
        other_volume=d["other_volume"],
        time_start=_dt(d["time_start"]),
        time_end=_dt(d["time_end"]),
        time_gap_s=d["time_gap_s"],
        altitude_lower_m=d["altitude_lower_m"],
        altitude_upper_m=d["altitude_upper_m"],
        vertical_gap_m=d["vertical_gap_m"],
        horizontal_distance_m=d["horizontal_distance_m"],
        intersection=d["intersection"],
    )


def conflict_row(c: Conflict) -> Row:
    """Columns of ``conflicts``."""
    return {
        "id": c.id,
        "kind": c.kind.value,
        "activity_id": c.activity_id,
        "activity_owner": c.activity_owner,
        "activity_version": c.activity_version,
        "other_id": c.other_id,
        "other_owner": c.other_owner,
        "other_version": c.other_version,
        "overlaps": [_overlap_json(o) for o in c.overlaps],
        "status": c.status.value,
        "detected_at": c.detected_at,
        "updated_at": c.updated_at,
        "resolved_at": c.resolved_at,
    }


def conflict_from_row(r: RowIn) -> Conflict:
    """The :class:`Conflict` of a ``conflicts`` row."""
    return Conflict(
        id=r["id"],
        kind=ConflictKind(r["kind"]),
        activity_id=r["activity_id"],
        activity_owner=r["activity_owner"],
        activity_version=r["activity_version"],
        other_id=r["other_id"],
        other_owner=r["other_owner"],
        other_version=r["other_version"],
        overlaps=tuple(_overlap_from_json(o) for o in r["overlaps"]),
        detected_at=r["detected_at"],
        updated_at=r["updated_at"],
        status=ConflictStatus(r["status"]),
        resolved_at=r["resolved_at"],
    )


def notice_row(n: Notice) -> Row:
    """Columns of ``notices``."""
    return {
        "id": n.id,
        "recipient": n.recipient,
        "activity_id": n.activity_id,
        "activity_version": n.activity_version,
        "reason": n.reason.value,
        "sent_at": n.sent_at,
        "starts_at": n.starts_at,
        "required_lead_time_s": n.required_lead_time_s,
        "deadline": n.deadline,
        "conflict_id": n.conflict_id,
        "status": n.status.value,
        "status_at": n.status_at,
        "summary": n.summary,
        "owner": n.owner,
        "delivered_at": n.delivered_at,
        "delivered_via": None if n.delivered_via is None else n.delivered_via.value,
        "read_at": n.read_at,
        "answered_at": n.answered_at,
        "objection": n.objection,
        "expired_at": n.expired_at,
        "receipt": None if n.receipt is None else dict(n.receipt),
        "insufficient": n.insufficient,
        "clearance": [dict(c) for c in n.clearance] if n.clearance else None,
        "level": n.level,
        "escalations": [dict(e) for e in n.escalations] if n.escalations else None,
        "template": n.template,
        "text": n.text or None,
        "alert_id": n.alert_id,
        "alert": None if n.alert is None else dict(n.alert),
    }


def notice_from_row(r: RowIn) -> Notice:
    """The :class:`Notice` of a ``notices`` row."""
    return Notice(
        id=r["id"],
        recipient=r["recipient"],
        activity_id=r["activity_id"],
        activity_version=r["activity_version"],
        reason=r["reason"],
        sent_at=r["sent_at"],
        starts_at=r["starts_at"],
        required_lead_time_s=r["required_lead_time_s"],
        deadline=r["deadline"],
        conflict_id=r["conflict_id"],
        status=r["status"],
        status_at=r["status_at"],
        summary=r["summary"],
        owner=r["owner"],
        delivered_at=r["delivered_at"],
        delivered_via=r["delivered_via"],
        read_at=r["read_at"],
        answered_at=r["answered_at"],
        objection=r["objection"],
        expired_at=r["expired_at"],
        receipt=r["receipt"],
        insufficient=bool(r["insufficient"]),
        clearance=tuple(r["clearance"] or ()),
        level=r["level"],
        escalations=tuple(r["escalations"] or ()),
        template=r["template"],
        text=r["text"] or "",
        alert_id=r["alert_id"],
        alert=r["alert"],
    )


def asset_row(a: Asset) -> Row:
    """Columns of ``assets``."""
    return {
        "id": a.id,
        "owner": a.owner,
        "ref": a.ref,
        "name": a.name,
        "lon": a.lon,
        "lat": a.lat,
        "altitude_m": a.altitude_m,
        "speed_mps": a.speed_mps,
        "max_speed_mps": a.max_speed_mps,
        "reported_at": a.reported_at,
    }


def asset_from_row(r: RowIn) -> Asset:
    """The :class:`Asset` of an ``assets`` row."""
    return Asset(
        id=r["id"],
        owner=r["owner"],
        ref=r["ref"],
        lon=r["lon"],
        lat=r["lat"],
        altitude_m=r["altitude_m"],
        speed_mps=r["speed_mps"],
        max_speed_mps=r["max_speed_mps"],
        reported_at=r["reported_at"],
        name=r["name"],
    )


def disclosure_row(d: Disclosure) -> Row:
    """Columns of ``disclosures``."""
    return {
        "id": d.id,
        "site_id": d.site_id,
        "site_version": d.site_version,
        "recipient": d.recipient,
        "reason": d.reason,
        "disclosed_at": d.disclosed_at,
        "conflict_id": d.conflict_id,
        "activity_id": d.activity_id,
    }


def disclosure_from_row(r: RowIn) -> Disclosure:
    """The :class:`Disclosure` of a ``disclosures`` row."""
    return Disclosure(
        id=r["id"],
        site_id=r["site_id"],
        site_version=r["site_version"],
        recipient=r["recipient"],
        reason=r["reason"],
        disclosed_at=r["disclosed_at"],
        conflict_id=r["conflict_id"],
        activity_id=r["activity_id"],
    )


def event_from_row(r: RowIn) -> Event:
    """The :class:`Event` of an ``events`` row."""
    return Event(
        party_id=r["party_id"],
        seq=r["seq"],
        type=r["type"],
        payload=r["payload"],
        created_at=r["created_at"],
    )


def idempotency_row(rec: IdempotencyRecord) -> Row:
    """Columns of ``idempotency``."""
    return {
        "party_id": rec.party_id,
        "key": rec.key,
        "fingerprint": rec.fingerprint,
        "result": dict(rec.result),
        "created_at": rec.created_at,
    }


def idempotency_from_row(r: RowIn) -> IdempotencyRecord:
    """The :class:`IdempotencyRecord` of an ``idempotency`` row."""
    return IdempotencyRecord(
        party_id=r["party_id"],
        key=r["key"],
        fingerprint=r["fingerprint"],
        result=r["result"],
        created_at=r["created_at"],
    )


def webhook_state_row(st: WebhookState) -> Row:
    """The delivery-state columns of ``webhooks``."""
    return {
        "cursor": st.cursor,
        "attempts": st.attempts,
        "next_attempt_at": st.next_attempt_at,
        "last_attempt_at": st.last_attempt_at,
        "last_status": st.last_status,
        "last_error": st.last_error,
        "last_delivered_at": st.last_delivered_at,
    }


def webhook_row(w: Webhook, secret: str) -> Row:
    """Columns of ``webhooks`` (configuration, secret and delivery state)."""
    return {
        "party_id": w.party_id,
        "level": w.level,
        "url": w.url,
        "secret": secret,
        "enabled": w.enabled,
        "created_at": w.created_at,
        "updated_at": w.updated_at,
    } | webhook_state_row(w.state)


def webhook_from_row(r: RowIn) -> Webhook:
    """The :class:`Webhook` of a ``webhooks`` row (without its secret)."""
    return Webhook(
        party_id=r["party_id"],
        level=r["level"],
        url=r["url"],
        enabled=bool(r["enabled"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        state=WebhookState(
            cursor=int(r["cursor"]),
            attempts=r["attempts"],
            next_attempt_at=r["next_attempt_at"],
            last_attempt_at=r["last_attempt_at"],
            last_status=r["last_status"],
            last_error=r["last_error"],
            last_delivered_at=r["last_delivered_at"],
        ),
    )
