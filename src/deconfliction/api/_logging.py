"""Logging: readable lines in development, JSON lines in production; no secret in any log.

Tokens travel only in the ``Authorization`` header (never in URLs), and no handler logs
headers or bodies. The access log records method, path (without the query string), status
and duration.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLog", "JsonFormatter", "configure_logging"]


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
    handler.setFormatter(_formatter(fmt))
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
