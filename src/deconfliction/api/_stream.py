"""WebSocket ``/v1/stream``: the caller's party's events, in order, resumable.

* Authenticate with ``Authorization: Bearer <token>`` on the upgrade request, or — for
  browsers, which cannot set headers — by sending ``{"token": "..."}`` as the first message
  within 10 s.
* ``?since=SEQ`` replays every stored event after SEQ, then goes live; each message is
  ``{"seq", "type", "at", "data"}`` and seqs are 1, 2, 3… per party with no gaps, so a
  client that reconnects with the last seq it saw misses nothing.
* ``{"type": "heartbeat", "at", "last_seq"}`` is sent every ``heartbeat_s`` seconds.
* The client confirms receipt by sending ``{"type": "delivered", "seq": N}``: every
  notice sent with an event up to N is then *delivered* (hub-stamped, on the ledger, and
  its sender told). A confirmation that cannot be taken (a seq ahead of the stream, bad
  JSON) is answered with ``{"type": "error", "detail"}``; the stream stays open.
* A client message larger than 64 KiB closes the stream (1009); messages count against the
  party's request rate (one over it is answered with an error and dropped).
* Every client message (and connecting) is a heartbeat of the party's link; a client with
  nothing to confirm sends ``{"type": "heartbeat"}`` (e.g. in reply to the hub's).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from deconfliction.bus import Bus, Subscription
from deconfliction.errors import DeconflictionError, TooManyRequests
from deconfliction.hotline import Event, Hotline, Principal, event_json, iso

__all__ = ["authenticate_ws", "receive_limited", "router"]

router = APIRouter()

_POLICY_VIOLATION = 1008
_TOO_BIG = 1009
CLIENT_MESSAGE_MAX = 64 * 1024
"""The largest message a client sends on ``/v1/stream`` (confirmations are a few bytes)."""
_TOKEN_MESSAGE_MAX = 4096


async def authenticate_ws(ws: WebSocket, hotline: Hotline) -> Principal | None:
    """The caller of a WebSocket: its ``Authorization`` header or a first ``{"token"}``
    message (None when neither names a valid token)."""
    header = ws.headers.get("authorization", "")
    secret = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not secret:
        try:
            first = await asyncio.wait_for(ws.receive_text(), timeout=10.0)
            msg = json.loads(first) if len(first) <= _TOKEN_MESSAGE_MAX else None
            token = msg.get("token", "") if isinstance(msg, dict) else ""
            secret = token if isinstance(token, str) else ""
        except (TimeoutError, ValueError, WebSocketDisconnect, KeyError):
            secret = ""
    if not secret:
        return None
    try:
        return await run_in_threadpool(hotline.authenticate, secret)
    except DeconflictionError:
        return None


async def receive_limited(ws: WebSocket, p: Principal, cap: int) -> str | None:
    """The client's next message, spent from the party's rate limit: None (after telling the
    client) when the party is over its rate; over ``cap`` bytes the socket is closed (1009)
    and :class:`WebSocketDisconnect` raised."""
    text = await ws.receive_text()
    if len(text) > cap or len(text.encode()) > cap:
        await ws.close(code=_TOO_BIG, reason=f"a message is limited to {cap} bytes")
        raise WebSocketDisconnect(_TOO_BIG)
    try:
        ws.app.state.rate_limiter.take(p.party_id)
    except TooManyRequests as exc:
        await ws.send_text(json.dumps({"type": "error", "detail": str(exc)}))
        return None
    return text


async def _send_stored(ws: WebSocket, hotline: Hotline, p: Principal, after: int) -> int:
    """Send stored events after ``after``; return the last seq sent."""
    while True:
        batch = await run_in_threadpool(hotline.events_since, p, after, limit=500)
        for e in batch:
            await ws.send_text(json.dumps(event_json(e)))
            after = e.seq
        if len(batch) < 500:
            return after


async def _pump(
    ws: WebSocket, hotline: Hotline, p: Principal, sub: Subscription, last: int, heartbeat_s: float
) -> None:
    last = await _send_stored(ws, hotline, p, last)
    while True:
        try:
            await asyncio.wait_for(sub.wake.wait(), timeout=heartbeat_s)
        except TimeoutError:
            await ws.send_text(
                json.dumps({"type": "heartbeat", "at": iso(datetime.now(UTC)), "last_seq": last})
            )
            continue
        sub.wake.clear()
        if sub.lagging:
            sub.lagging = False
            while not sub.queue.empty():
                sub.queue.get_nowait()
            last = await _send_stored(ws, hotline, p, last)
            continue
        while not sub.queue.empty():
            e: Event = sub.queue.get_nowait()
            if e.seq <= last:
                continue
            if e.seq != last + 1:  # a gap: read it back from the store
                last = await _send_stored(ws, hotline, p, last)
                continue
            await ws.send_text(json.dumps(event_json(e)))
            last = e.seq


async def _read_client(ws: WebSocket, hotline: Hotline, p: Principal) -> None:
    """Take the client's delivery confirmations (and notice a disconnect at once)."""
    while True:
        text = await receive_limited(ws, p, CLIENT_MESSAGE_MAX)
        if text is None:
            continue
        try:
            msg = json.loads(text)
        except ValueError:
            msg = None
        await run_in_threadpool(hotline.heartbeat, p)  # any message: the client is alive
        if isinstance(msg, dict) and msg.get("type") == "heartbeat":
            continue
        if not isinstance(msg, dict) or msg.get("type") != "delivered":
            detail = 'expected {"type": "delivered", "seq": N} or {"type": "heartbeat"}'
            await ws.send_text(json.dumps({"type": "error", "detail": detail}))
            continue
        seq = msg.get("seq")
        if isinstance(seq, bool) or not isinstance(seq, int):
            await ws.send_text(json.dumps({"type": "error", "detail": "seq must be an integer"}))
            continue
        try:
            await run_in_threadpool(hotline.confirm_delivery, p, seq)
        except DeconflictionError as exc:
            await ws.send_text(json.dumps({"type": "error", "detail": str(exc)}))


@router.websocket("/v1/stream")
async def stream(ws: WebSocket, since: int = 0) -> None:
    hotline: Hotline = ws.app.state.hotline
    bus: Bus = ws.app.state.bus
    heartbeat_s: float = ws.app.state.settings.heartbeat_s
    await ws.accept()
    p = await authenticate_ws(ws, hotline)
    if p is None:
        await ws.close(code=_POLICY_VIOLATION, reason="unauthorized")
        return
    if since < 0:
        await ws.close(code=_POLICY_VIOLATION, reason="since must be ≥ 0")
        return
    if since > await run_in_threadpool(hotline.last_seq, p):
        # A seq from another hub or a corrupted client state: say so rather than stay silent.
        await ws.close(code=_POLICY_VIOLATION, reason="since is ahead of this party's stream")
        return
    await run_in_threadpool(hotline.heartbeat, p)  # a client connected: the link is up
    sub = bus.subscribe(p.party_id)  # before reading the store: nothing falls in between
    pump = asyncio.create_task(_pump(ws, hotline, p, sub, since, heartbeat_s))
    reader = asyncio.create_task(_read_client(ws, hotline, p))
    try:
        done, _ = await asyncio.wait({pump, reader}, return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            exc = t.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect | RuntimeError):
                raise exc
    finally:
        bus.unsubscribe(sub)
        for t in (pump, reader):
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        with contextlib.suppress(Exception):
            await ws.close()
