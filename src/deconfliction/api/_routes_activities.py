"""/v1/activities: file, list, get, amend, activate, end, cancel, and the dry-run check."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from deconfliction.api._convert import draft_from
from deconfliction.api._deps import (
    Caller,
    HotlineDep,
    IdemKey,
    IfMatch,
    RawJson,
    SigHeader,
    etag,
    idempotency,
    if_match,
    parse_signature,
)
from deconfliction.api._schemas import ActivityIn, ActivityOut, CheckOut, FilingOut, NoticeOut
from deconfliction.errors import InvalidInput
from deconfliction.geo import Circle, TimeWindow
from deconfliction.hotline import (
    CheckResult,
    FilingResult,
    activity_json,
    conflict_json,
    iso,
    notice_json,
    overlap_json,
    site_json,
)
from deconfliction.model import Activity, NoticeReason, NoticeStatus

__all__ = ["router"]

router = APIRouter(prefix="/v1/activities", tags=["activities"])


def filing_json(r: FilingResult) -> dict[str, Any]:
    return {
        "activity": activity_json(r.activity, full=True),
        "conflicts": [conflict_json(c) for c in r.conflicts],
        "notices": [notice_json(n) for n in r.notices],
        "lead_time_s": r.lead_time_s,
        "required_lead_time_s": r.required_lead_time_s,
        "late": r.late,
        "replayed": r.replayed,
        "receipt": None if r.receipt is None else r.receipt.to_json(),
        "links": {str(k): v for k, v in r.links.items()},
    }


def check_json(r: CheckResult) -> dict[str, Any]:
    return {
        "conflicts": [
            {
                "other_type": c.other_type,
                "other_id": None if c.other_id is None else str(c.other_id),
                "other_owner": str(c.other_owner),
                "overlaps": [overlap_json(o) for o in c.overlaps],
            }
            for c in r.conflicts
        ],
        "sites": [site_json(s, full=False) for s in r.disclosed_sites],
        "lead_time_s": r.lead_time_s,
        "required_lead_time_s": r.required_lead_time_s,
        "late": r.late,
    }


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        w, s, e, n = (float(x) for x in text.split(","))
    except ValueError:
        raise InvalidInput("bbox", "must be west,south,east,north in degrees") from None
    if (
        not all(math.isfinite(v) for v in (w, s, e, n))
        or not (-90 <= s <= n <= 90)
        or not (-180 <= w <= 180 and -180 <= e <= 180)
    ):
        raise InvalidInput("bbox", "must be west,south,east,north within ±180/±90, south ≤ north")
    return w, s, e, n


def _meets_bbox(a: Activity, box: tuple[float, float, float, float]) -> bool:
    """Whether any footprint's lon/lat envelope meets the box (a display filter: the
    envelope is padded by 1 % so geodesic edges that bulge past their vertices count)."""
    w, s, e, n = box
    for v in a.volumes:
        fp = v.footprint
        if isinstance(fp, Circle):
            lon, lat = fp.centre
            dlat = fp.radius_m / 111_000.0
            dlon = dlat / max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-3)
            lons, lats = [lon - dlon, lon + dlon], [lat - dlat, lat + dlat]
        else:
            lons = [p[0] for p in fp.vertices]
            lats = [p[1] for p in fp.vertices]
        lo_lat, hi_lat = min(lats), max(lats)
        pad = 0.01 * max(hi_lat - lo_lat, 0.01)
        if hi_lat + pad < s or lo_lat - pad > n:
            continue
        lo_lon, hi_lon = min(lons), max(lons)
        if hi_lon - lo_lon > 180 or w > e:  # crosses the antimeridian: keep (display filter)
            return True
        if hi_lon + pad >= w and lo_lon - pad <= e:
            return True
    return False


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FilingOut,
    summary="File an activity (affected parties are told at once)",
)
def file_activity(
    body: ActivityIn,
    caller: Caller,
    hotline: HotlineDep,
    response: Response,
    raw: RawJson,
    idempotency_key: IdemKey = None,
    party_signature: SigHeader = None,
) -> dict[str, Any]:
    idem = idempotency(idempotency_key, "file", body.model_dump(mode="json"))
    signed = parse_signature(party_signature, raw)
    r = hotline.file(caller, draft_from(body), idempotency=idem, signed=signed)
    response.headers.update(etag(r.activity.version))
    response.headers["Location"] = f"/v1/activities/{r.activity.id}"
    return filing_json(r)


@router.post(
    "/check",
    response_model=CheckOut,
    summary="Dry run: the conflicts, lead time and late flag, without filing",
)
def check_activity(body: ActivityIn, caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    return check_json(hotline.check(caller, draft_from(body)))


@router.get("", response_model=list[ActivityOut], summary="Activities I own or that affect me")
def list_activities(
    caller: Caller,
    hotline: HotlineDep,
    scope: Annotated[str, Query(pattern="^(mine|affecting|all)$")] = "all",
    start: datetime | None = None,
    end: datetime | None = None,
    bbox: Annotated[str | None, Query(description="west,south,east,north (degrees)")] = None,
    live: bool = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    window = None
    if start is not None or end is not None:
        if start is None or end is None:
            raise InvalidInput("start" if start is None else "end", "give both start and end")
        window = TimeWindow(start, end)
    box = _bbox(bbox)
    rows = hotline.list_activities(
        caller, scope=scope, window=window, live_only=live, limit=None if box else limit
    )
    if box is not None:
        rows = [r for r in rows if _meets_bbox(r[0], box)][:limit]
    return [activity_json(a, full=full) for a, full in rows]


@router.get("/{activity_id}", response_model=ActivityOut)
def get_activity(
    activity_id: UUID, caller: Caller, hotline: HotlineDep, response: Response
) -> dict[str, Any]:
    a, full = hotline.get_activity(caller, activity_id)
    response.headers.update(etag(a.version))
    out = activity_json(a, full=full)
    if full and hotline.policy.for_kind(a.kind).ack_expected:
        out["awaiting_acknowledgement"] = [
            {
                "party": str(n.recipient),
                "notice": str(n.id),
                "deadline": iso(n.deadline),
                "level": n.level,
                "status": n.status.value,
            }
            for n in hotline.activity_notices(caller, activity_id)
            if n.needs_answer
            and not n.answered
            and n.status is not NoticeStatus.SUPERSEDED
            and n.reason is not NoticeReason.MESSAGE
        ]
    return out


@router.get(
    "/{activity_id}/notices",
    response_model=list[NoticeOut],
    summary="Who was told what about my activity (owner only)",
)
def activity_notices(
    activity_id: UUID, caller: Caller, hotline: HotlineDep
) -> list[dict[str, Any]]:
    return [notice_json(n) for n in hotline.activity_notices(caller, activity_id)]


@router.put(
    "/{activity_id}",
    response_model=FilingOut,
    summary="Amend (If-Match: the version you read); old notices are superseded",
)
def amend_activity(
    activity_id: UUID,
    body: ActivityIn,
    caller: Caller,
    hotline: HotlineDep,
    response: Response,
    raw: RawJson,
    if_match_: IfMatch = None,
    idempotency_key: IdemKey = None,
    party_signature: SigHeader = None,
) -> dict[str, Any]:
    version = if_match(if_match_)
    idem = idempotency(
        idempotency_key, f"amend {activity_id} {version}", body.model_dump(mode="json")
    )
    signed = parse_signature(party_signature, raw)
    r = hotline.amend(
        caller, activity_id, version, draft_from(body), idempotency=idem, signed=signed
    )
    response.headers.update(etag(r.activity.version))
    return filing_json(r)


def _state_route(action: str) -> None:
    @router.post(
        f"/{{activity_id}}/{action}",
        response_model=FilingOut,
        name=f"{action}_activity",
        summary=f"{action.capitalize()} an activity (If-Match: the version you read)",
    )
    def change(
        activity_id: UUID,
        caller: Caller,
        hotline: HotlineDep,
        response: Response,
        if_match_: IfMatch = None,
        idempotency_key: IdemKey = None,
    ) -> dict[str, Any]:
        version = if_match(if_match_)
        idem = idempotency(idempotency_key, f"{action} {activity_id} {version}", None)
        r = getattr(hotline, action)(caller, activity_id, version, idempotency=idem)
        response.headers.update(etag(r.activity.version))
        return filing_json(r)


for _action in ("activate", "end", "cancel"):
    _state_route(_action)
