"""/v1/tracks: live position reports in (a JSON batch or NDJSON), my live tracks out.

The body is parsed by orjson and each item built straight into a
:class:`~deconfliction.model.Track` (no per-item pydantic model: batches run to 10,000
reports); an item that cannot be built is refused with its index and reason and the rest
of the batch is taken. The pydantic models below document the body in the OpenAPI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from deconfliction.api._deps import Caller, HotlineDep
from deconfliction.api._stream import authenticate_ws
from deconfliction.errors import DeconflictionError, InvalidInput
from deconfliction.geo import FEET_TO_METRES
from deconfliction.hotline import Hotline, Principal, track_json
from deconfliction.model import (
    FEET_PER_MIN_MPS,
    KNOT_MPS,
    AltitudeReference,
    Role,
    Track,
    TrackSource,
)

__all__ = ["alerts_router", "router", "track_from_item"]

router = APIRouter(prefix="/v1/tracks", tags=["tracks"])

NDJSON = "application/x-ndjson"


class TrackIn(BaseModel):
    """One position report (give each quantity in one unit: m or ft, m/s or kt…)."""

    key: str = Field(max_length=100, description="the track's name within my party")
    time: datetime = Field(description="when the position was measured (RFC 3339, UTC)")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    altitude_m: float | None = None
    altitude_ft: float | None = None
    altitude_ref: AltitudeReference = AltitudeReference.WGS84
    ground_speed_mps: float | None = None
    ground_speed_kt: float | None = None
    track_deg: float | None = None
    vertical_rate_mps: float | None = None
    vertical_rate_fpm: float | None = None
    callsign: str | None = None
    icao24: str | None = None
    activity_id: UUID | None = Field(default=None, description="my activity it flies for")
    source: TrackSource = TrackSource.OWN
    on_ground: bool = False


class TracksIn(BaseModel):
    tracks: list[TrackIn] = Field(max_length=10_000)


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


_FIELDS = frozenset(TrackIn.model_fields)
_UNITS = (
    ("altitude_m", "altitude_ft", FEET_TO_METRES),
    ("ground_speed_mps", "ground_speed_kt", KNOT_MPS),
    ("vertical_rate_mps", "vertical_rate_fpm", FEET_PER_MIN_MPS),
)


def _time(value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput("time", "must be an RFC 3339 date-time string")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("time", f"not an RFC 3339 date-time: {value[:40]!r}") from None
    if t.tzinfo is None:
        raise InvalidInput("time", "must carry its offset (Z or ±hh:mm)")
    return t


def _scaled(item: dict[str, Any], si: str, other: str, factor: float) -> float | None:
    if si in item and other in item:
        raise InvalidInput(si, f"give {si} or {other}, not both")
    if other not in item:
        return item.get(si)
    v = item[other]
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise InvalidInput(other, "must be a number")
    return float(v) * factor


def track_from_item(item: object, party: UUID) -> Track:
    """A report of ``party`` from one decoded JSON item (raises InvalidInput)."""
    if not isinstance(item, dict):
        raise InvalidInput("item", "must be a JSON object")
    unknown = set(item) - _FIELDS
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "unknown field")
    if "key" not in item or "time" not in item or "lat" not in item or "lon" not in item:
        raise InvalidInput("item", "needs key, time, lat and lon")
    units = {si: _scaled(item, si, other, f) for si, other, f in _UNITS}
    activity = item.get("activity_id")
    if activity is not None:
        try:
            activity = UUID(activity) if isinstance(activity, str) else None
        except ValueError:
            activity = None
        if activity is None:
            raise InvalidInput("activity_id", "must be a UUID")
    on_ground = item.get("on_ground", False)
    if not isinstance(on_ground, bool):
        raise InvalidInput("on_ground", "must be true or false")
    return Track(
        key=item["key"],
        party=party,
        source=item.get("source", TrackSource.OWN),
        time=_time(item["time"]),
        lat=item["lat"],
        lon=item["lon"],
        altitude_ref=item.get("altitude_ref", AltitudeReference.WGS84),
        track_deg=item.get("track_deg"),
        callsign=item.get("callsign"),
        icao24=item.get("icao24"),
        activity_id=activity,
        on_ground=on_ground,
        **units,
    )


@dataclass(frozen=True, slots=True)
class _Unreadable:
    """An NDJSON line that is not JSON (refused with its index, like any bad item)."""

    reason: str


def _items(body: bytes, content_type: str) -> list[object]:
    if content_type.split(";")[0].strip().lower() == NDJSON:
        out: list[object] = []
        for n, line in enumerate(body.splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                out.append(_Unreadable(f"line {n}: not JSON"))
        return out
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("body", f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"tracks"} or not isinstance(doc["tracks"], list):
        raise InvalidInput("body", 'must be {"tracks": [...]} (or NDJSON, one report a line)')
    return list(doc["tracks"])


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
    items = _items(body, ctype)
    if len(items) > hotline.policy.tracks.max_batch:
        raise InvalidInput(
            "tracks", f"{len(items)} reports exceed the limit of {hotline.policy.tracks.max_batch}"
        )
    built: list[Track | str] = []
    for item in items:
        if isinstance(item, _Unreadable):
            built.append(item.reason)
            continue
        try:
            built.append(track_from_item(item, caller.party_id))
        except DeconflictionError as exc:
            built.append(str(exc))
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
    stays open. Every message is also a heartbeat of the party's link."""
    hotline: Hotline = ws.app.state.hotline
    await ws.accept()
    p = await authenticate_ws(ws, hotline)
    if p is None:
        await ws.close(code=1008, reason="unauthorized")
        return
    if p.role is Role.OBSERVER:
        await ws.close(code=1008, reason="reporting tracks needs the operator role")
        return
    try:
        while True:
            text = await ws.receive_text()
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
