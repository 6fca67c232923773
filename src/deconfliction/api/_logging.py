"""Logging: readable lines in development, JSON lines in production; no secret in any log.

Tokens travel only in the ``Authorization`` header (never in URLs), and no handler logs
headers or bodies. The access log records method, path (without the query string), status
and duration. As a last line, every line written is redacted (:func:`redact`): WebSocket
frame contents (which uvicorn's websockets logs at DEBUG, a stream's ``{"token"}`` message
among them) are dropped, and anything shaped like a hub token, a webhook secret, a JWT or a
``Bearer`` credential is masked.
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLog", "JsonFormatter", "RedactingFormatter", "configure_logging", "redact"]

_FRAME = re.compile(r"([<>] (?:TEXT|BINARY|CONT)) .*?(\[\d+ bytes\])", re.S)
_SECRETS = (
    (re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+"), r"\1 [redacted]"),
    (re.compile(r"\b(dh|whsec)_[A-Za-z0-9_\-]{8,}"), r"\1_[redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), "[redacted JWT]"),
)


def redact(line: str) -> str:
    """``line`` without WebSocket frame contents and secrets.

    >>> redact("< TEXT {'token': 'abc'} [16 bytes]")
    '< TEXT [content not logged] [16 bytes]'
    >>> redact("Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2ln; dh_0123456789abcdef whsec_Zz09_-aaaaaaaa")
    'Authorization: Bearer [redacted]; dh_[redacted] whsec_[redacted]'
    """
    line = _FRAME.sub(r"\1 [content not logged] \2", line)
    for pattern, mask in _SECRETS:
        line = pattern.sub(mask, line)
    return line


class RedactingFormatter(logging.Formatter):
    """Formats with ``inner``, then :func:`redact` s the result."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any ``extra`` fields."""

    _std: ClassVar[set[str]] = set(vars(logging.makeLogRecord({})))

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        out |= {k: v for k, v in vars(record).items() if k not in self._std and k != "message"}
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def _formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter()
    return logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")


def configure_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """Send the package's and uvicorn's logs to standard error in ``fmt`` (text or json)."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(_formatter(fmt)))
    for name in ("deconfliction", "uvicorn", "uvicorn.error"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(level)
        log.propagate = False
    # Our own access log replaces uvicorn's (which prints query strings).
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs each request with its full URL at INFO: a webhook's path and query may
    # hold the receiver's own key (the webhook worker logs the URL's origin only).
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))


class AccessLog:
    """ASGI middleware: one log line per HTTP request (method, path, status, duration)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger("deconfliction.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500

        async def send_wrapper(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
            await send(msg)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            ms = (time.perf_counter() - t0) * 1000
            self.log.info(
                "%s %s %d %.1f ms",
                scope["method"],
                scope["path"],
                status,
                ms,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(ms, 2),
                },
            )
