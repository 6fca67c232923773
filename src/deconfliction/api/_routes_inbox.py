"""/v1/conflicts, /v1/notices and /v1/events: what concerns the caller's party."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from deconfliction.api._deps import (
    Caller,
    HotlineDep,
    IdemKey,
    SigHeader,
    idempotency,
    parse_signature,
)
from deconfliction.api._schemas import (
    ConflictOut,
    DeliveryIn,
    DeliveryOut,
    EventOut,
    MessageIn,
    NoticeOut,
    NoticeStepOut,
    ObjectionIn,
)
from deconfliction.hotline import NoticeStep, conflict_json, event_json, iso, notice_json

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["conflicts, notices, events"])


@router.get(
    "/conflicts",
    response_model=list[ConflictOut],
    summary="Conflicts involving my activities or sites, newest first",
)
def list_conflicts(
    caller: Caller,
    hotline: HotlineDep,
    open: bool = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    return [conflict_json(c) for c in hotline.list_conflicts(caller, open_only=open, limit=limit)]


@router.get("/conflicts/{conflict_id}", response_model=ConflictOut)
def get_conflict(
    conflict_id: UUID, caller: Caller, hotline: HotlineDep, geometry: bool = False
) -> dict[str, Any]:
    """``geometry=true`` adds each overlap's common area (GeoJSON) where footprints meet."""
    return conflict_json(hotline.get_conflict(caller, conflict_id, geometry=geometry))


@router.get("/notices", response_model=list[NoticeOut], summary="Notices sent to me, newest first")
def list_notices(
    caller: Caller,
    hotline: HotlineDep,
    activity_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    return [
        notice_json(n) for n in hotline.list_notices(caller, activity_id=activity_id, limit=limit)
    ]


@router.get("/notices/{notice_id}", response_model=NoticeOut)
def get_notice(notice_id: UUID, caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    return notice_json(hotline.get_notice(caller, notice_id))


def _step(s: NoticeStep) -> dict[str, Any]:
    return {
        "notice": notice_json(s.notice),
        "receipt": None if s.receipt is None else s.receipt.to_json(),
    }


@router.post(
    "/notices/delivered",
    response_model=DeliveryOut,
    summary="Confirm receipt of my stream up to a seq (the WebSocket can do it too)",
)
def confirm_delivery(body: DeliveryIn, caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    """For clients that poll ``/v1/events``: every notice sent with an event up to ``seq``
    is delivered now (the first confirmation counts)."""
    return {"delivered": [notice_json(n) for n in hotline.confirm_delivery(caller, body.seq)]}


@router.post(
    "/notices/{notice_id}/read", response_model=NoticeStepOut, summary="Mark a notice read"
)
def read_notice(notice_id: UUID, caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    return _step(hotline.read_notice(caller, notice_id))


@router.post(
    "/notices/{notice_id}/acknowledge",
    response_model=NoticeStepOut,
    summary="Acknowledge: received and understood (never approval)",
)
def acknowledge_notice(
    notice_id: UUID,
    caller: Caller,
    hotline: HotlineDep,
    party_signature: SigHeader = None,
    idempotency_key: IdemKey = None,
) -> dict[str, Any]:
    """The answer is recorded on the ledger (the response carries its receipt) and the
    activity's owner sees it at once. One answer per notice (a second one is 409; the same
    request re-sent with its ``Idempotency-Key`` gets the first answer's response). To sign
    it, sign ``{"action": "acknowledge", "notice": "<id>"}``."""
    signed = parse_signature(party_signature, hotline.answer_document(notice_id, None))
    idem = idempotency(idempotency_key, f"acknowledge {notice_id}", None)
    return _step(hotline.acknowledge(caller, notice_id, signed=signed, idempotency=idem))


@router.post(
    "/notices/{notice_id}/object",
    response_model=NoticeStepOut,
    summary="Object, with a reason the activity's owner sees at once",
)
def object_notice(
    notice_id: UUID,
    body: ObjectionIn,
    caller: Caller,
    hotline: HotlineDep,
    party_signature: SigHeader = None,
    idempotency_key: IdemKey = None,
) -> dict[str, Any]:
    """To sign it, sign ``{"action": "object", "notice": "<id>", "reason": "<reason>"}``.
    With an ``Idempotency-Key``, the same request re-sent gets the first one's response."""
    reason = body.reason.strip()
    signed = parse_signature(party_signature, hotline.answer_document(notice_id, reason))
    idem = idempotency(idempotency_key, f"object {notice_id}", {"reason": reason})
    return _step(hotline.object(caller, notice_id, reason, signed=signed, idempotency=idem))


_SEND_DOC = """The recipient answers it like a notice (read / acknowledge / object); unanswered,
it escalates up the recipient's ladder (a cease_harm message within 2 minutes)."""


@router.post(
    "/activities/{activity_id}/messages",
    status_code=201,
    response_model=NoticeOut,
    summary="Send a hotline message on an activity's thread",
    description=_SEND_DOC,
)
def send_activity_message(
    activity_id: UUID, body: MessageIn, caller: Caller, hotline: HotlineDep
) -> dict[str, Any]:
    n = hotline.send_message(
        caller, template=body.template, text=body.text, to=body.to, activity_id=activity_id
    )
    return notice_json(n)


@router.post(
    "/conflicts/{conflict_id}/messages",
    status_code=201,
    response_model=NoticeOut,
    summary="Send a hotline message on a conflict's thread",
    description=_SEND_DOC,
)
def send_conflict_message(
    conflict_id: UUID, body: MessageIn, caller: Caller, hotline: HotlineDep
) -> dict[str, Any]:
    n = hotline.send_message(
        caller, template=body.template, text=body.text, to=body.to, conflict_id=conflict_id
    )
    return notice_json(n)


@router.get(
    "/activities/{activity_id}/messages",
    response_model=list[NoticeOut],
    summary="An activity's thread: messages I sent or received, oldest first",
)
def activity_messages(
    activity_id: UUID, caller: Caller, hotline: HotlineDep
) -> list[dict[str, Any]]:
    return [notice_json(n) for n in hotline.thread(caller, activity_id=activity_id)]


@router.get(
    "/conflicts/{conflict_id}/messages",
    response_model=list[NoticeOut],
    summary="A conflict's thread: messages I sent or received, oldest first",
)
def conflict_messages(
    conflict_id: UUID, caller: Caller, hotline: HotlineDep
) -> list[dict[str, Any]]:
    return [notice_json(n) for n in hotline.thread(caller, conflict_id=conflict_id)]


@router.post("/heartbeat", summary="My client is alive (keeps my party's link normal)")
def heartbeat(caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    """For clients that poll instead of holding the WebSocket (whose messages count)."""
    return {
        "status": hotline.heartbeat(caller).value,
        "degraded_after_s": hotline.policy.link_degraded_after_s,
        "down_after_s": hotline.policy.link_down_after_s,
    }


@router.get("/links", summary="Every party's link to the hub: normal, degraded or down")
def links(caller: Caller, hotline: HotlineDep) -> list[dict[str, Any]]:
    return [
        {
            "party_id": str(x.party_id),
            "name": x.name,
            "status": x.status.value,
            "last_heartbeat": iso(x.last_heartbeat),
        }
        for x in hotline.links(caller)
    ]


@router.get(
    "/events",
    response_model=list[EventOut],
    summary="My party's event stream, by polling (the WebSocket /v1/stream pushes it)",
)
def list_events(
    caller: Caller,
    hotline: HotlineDep,
    since: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> list[dict[str, Any]]:
    return [event_json(e) for e in hotline.events_since(caller, since, limit=limit)]
