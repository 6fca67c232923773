"""Response hardening headers, CORS (closed unless origins are listed) and the per-address
rate limit of requests that name no party.

Every HTTP response gets ``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
no-referrer``, ``X-Frame-Options: DENY`` and, unless the response set its own policy (the
console does), ``Content-Security-Policy: frame-ancestors 'none'``; a response that says
nothing of caching gets ``Cache-Control: no-store`` (the API's JSON is per caller: no shared
cache may keep it) — static files and tiles excepted; over TLS, ``Strict-Transport-Security``.

CORS: a browser page from another origin gets no ``Access-Control-Allow-Origin`` unless its
origin is listed in ``cors_origins`` (tokens travel in the ``Authorization`` header, never in
cookies, so credentials are never allowed).

Requests and WebSocket connections without an ``Authorization`` header (public routes,
the console's files, streams that send their token as a first message) and requests whose
token is refused are limited per client address; requests of a party are
limited per party (:class:`~deconfliction.api._ratelimit.RateLimiter`).
"""

from __future__ import annotations

import math

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deconfliction.api._problems import problem
from deconfliction.api._ratelimit import RateLimiter
from deconfliction.api._settings import Settings
from deconfliction.errors import TooManyRequests

__all__ = ["AnonymousRateLimit", "SecurityHeaders", "client_key", "install_security"]

HSTS = b"max-age=31536000"
_CACHEABLE_PREFIXES = ("/static/", "/tiles/")
CORS_HEADERS = ["Authorization", "Content-Type", "If-Match", "Idempotency-Key", "Party-Signature"]
CORS_EXPOSED = ["ETag", "Location", "Retry-After"]


class SecurityHeaders:
    """ASGI middleware adding the hardening headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {bytes(n).lower() for n, _ in headers}
                add = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", b"frame-ancestors 'none'"),
                ]
                if not path.startswith(_CACHEABLE_PREFIXES):
                    add.append((b"cache-control", b"no-store"))
                if tls:
                    add.append((b"strict-transport-security", HSTS))
                message["headers"] = headers + [(n, v) for n, v in add if n not in have]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def client_key(scope: Scope) -> str:
    """The rate-limit key of a request that names no party: its client address."""
    client = scope.get("client")
    return f"addr:{client[0] if client else '?'}"


class AnonymousRateLimit:
    """ASGI middleware: HTTP requests and WebSocket connections without an
    ``Authorization`` header spend from their client address's bucket (when it is empty:
    429 with ``Retry-After``; a WebSocket is refused before its handshake completes)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"} and not any(
            n == b"authorization" for n, _ in scope.get("headers", ())
        ):
            try:
                self.limiter.take(client_key(scope))
            except TooManyRequests as exc:
                if scope["type"] == "websocket":  # refused before the handshake completes
                    await send({"type": "websocket.close", "code": 1013})
                    return
                retry = str(max(1, math.ceil(exc.retry_after_s)))
                refusal = problem(429, str(exc), headers={"Retry-After": retry})
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add the per-address rate limit, CORS (when origins are listed) and the headers."""
    limiter = RateLimiter(settings.rate_limit_anonymous_per_s, settings.rate_limit_anonymous_burst)
    app.state.anonymous_limiter = limiter
    app.add_middleware(AnonymousRateLimit, limiter=limiter)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(SecurityHeaders)
