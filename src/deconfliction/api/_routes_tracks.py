"""/v1/tracks: live position reports in (a JSON batch or NDJSON), my live tracks out.

The body is read by :mod:`deconfliction.api._track_items` (orjson, then column by column:
no per-item pydantic model, batches run to 10,000 reports); an item that cannot be read
is refused with its index and reason and the rest of the batch is taken.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from deconfliction.api._deps import Caller, HotlineDep
from deconfliction.api._stream import authenticate_ws, receive_limited
from deconfliction.api._track_items import NDJSON, TrackIn, TracksIn, read_items, tracks_from_items
from deconfliction.errors import DeconflictionError, InvalidInput
from deconfliction.hotline import Hotline, Principal, track_json
from deconfliction.model import AltitudeReference, Role, TrackSource

__all__ = ["alerts_router", "router"]

router = APIRouter(prefix="/v1/tracks", tags=["tracks"])


class RejectedOut(BaseModel):
    index: int
    reason: str


class IngestOut(BaseModel):
    accepted: int
    rejected: list[RejectedOut]


class TrackOut(BaseModel):
    key: str
    party: UUID
    source: TrackSource
    time: datetime
    lat: float
    lon: float
    altitude_m: float | None
    altitude_ref: AltitudeReference
    ground_speed_mps: float | None
    track_deg: float | None
    vertical_rate_mps: float | None
    callsign: str | None
    icao24: str | None
    activity_id: UUID | None
    on_ground: bool


@router.post(
    "",
    response_model=IngestOut,
    summary="Report my tracks (a batch: bad items are refused one by one, the rest taken)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": TracksIn.model_json_schema()},
                NDJSON: {"schema": TrackIn.model_json_schema()},
            },
        }
    },
)
async def report_tracks(request: Request, caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    """Up to ``tracks.max_batch`` (10,000) reports as ``{"tracks": [...]}`` or as NDJSON
    (``Content-Type: application/x-ndjson``, one report a line). Each is checked on its own
    (ranges, the hub's clock: at most 10 s ahead and 5 min old, never backwards per track)
    and refused with its index and reason; the others are taken."""
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    return await run_in_threadpool(_ingest, body, ctype, caller, hotline)


def _ingest(body: bytes, ctype: str, caller: Principal, hotline: Hotline) -> dict[str, Any]:
    """Parse, build and take the batch (in a worker thread: 10,000 reports take a while)."""
    items = read_items(body, ctype)
    if len(items) > hotline.policy.tracks.max_batch:
        raise InvalidInput(
            "tracks", f"{len(items)} reports exceed the limit of {hotline.policy.tracks.max_batch}"
        )
    built = tracks_from_items(items, caller.party_id)
    result = hotline.ingest_tracks(caller, built)
    return {
        "accepted": len(result.accepted),
        "rejected": [{"index": r.index, "reason": r.reason} for r in result.rejected],
    }


@router.websocket("/stream")
async def track_stream(ws: WebSocket) -> None:
    """A long-lived ingest: authenticate as on ``/v1/stream`` (``Authorization`` header, or
    ``{"token": ...}`` first), then send reports — each message one report, a
    ``{"tracks": [...]}`` batch, or NDJSON lines. Each message is answered with
    ``{"accepted": N, "rejected": [{"index", "reason"}]}`` (indices within the message), or
    ``{"type": "error", "detail"}`` when the message is unreadable as a whole; the stream
    stays open. Every message is also a heartbeat of the party's link; it counts against the
    party's request rate, and one over ``max_track_body_bytes`` closes the stream (1009)."""
    hotline: Hotline = ws.app.state.hotline
    await ws.accept()
    p = await authenticate_ws(ws, hotline)
    if p is None:
        await ws.close(code=1008, reason="unauthorized")
        return
    if p.role is Role.OBSERVER:
        await ws.close(code=1008, reason="reporting tracks needs the operator role")
        return
    cap: int = ws.app.state.settings.max_track_body_bytes
    try:
        while True:
            text = await receive_limited(ws, p, cap)
            if text is None:
                continue
            answer = await run_in_threadpool(_stream_message, text, p, hotline)
            await ws.send_text(orjson.dumps(answer).decode())
    except WebSocketDisconnect:
        return


def _stream_message(text: str, p: Principal, hotline: Hotline) -> dict[str, Any]:
    hotline.heartbeat(p)
    body = text.encode()
    try:
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:  # several lines: NDJSON (each line on its own)
            return _ingest(body, NDJSON, p, hotline)
        if isinstance(doc, dict) and "tracks" not in doc:  # one report
            body = orjson.dumps({"tracks": [doc]})
        return _ingest(body, "application/json", p, hotline)
    except DeconflictionError as exc:
        return {"type": "error", "detail": str(exc)}


@router.get("", response_model=list[TrackOut], summary="My party's live tracks")
def list_tracks(caller: Caller, hotline: HotlineDep) -> list[dict[str, Any]]:
    return [track_json(t) for t in hotline.live_tracks(caller)]


alerts_router = APIRouter(prefix="/v1/alerts", tags=["tracks"])


class AlertTrackOut(BaseModel):
    party: UUID
    key: str


class AlertOut(BaseModel):
    id: UUID | None = Field(description="the alert (its notices carry it as alert_id)")
    kind: str = Field(description="proximity, incursion or non_conforming")
    key: str = Field(description="stable while the situation lasts")
    parties: list[UUID]
    tracks: list[AlertTrackOut]
    activity_id: UUID | None
    volume: int | None
    time_to_s: float | None = Field(description="seconds to loss of separation or entry")
    cpa_time_s: float | None
    cpa_distance_m: float | None
    cpa_vertical_m: float | None
    position: list[float] | None = Field(description="lon, lat, altitude (m)")
    contingent: bool = Field(description="non-conforming for 60 s or more")
    since: datetime | None


@alerts_router.get("", response_model=list[AlertOut], summary="Open alerts that concern me")
def list_alerts(caller: Caller, hotline: HotlineDep) -> list[dict[str, Any]]:
    """Proximity, incursion and non-conformance alerts open now that involve my party
    (each was raised on my stream as ``alert.raised``; updates and clearing follow)."""
    return hotline.open_alerts(caller)
