"""Errors of the F3548 discovery service, as its interface words them: ``ErrorResponse``
(``{"message": ...}``), or ``AirspaceConflictResponse`` for a key that misses entities.

The hub's own errors map here too (a bad volume is 400, not the hub's 422), so every
answer under ``/dss/v1`` has the interface's shape.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from deconfliction.errors import (
    DeconflictionError,
    InvalidInput,
    InvalidTransition,
    TooManyRequests,
)

__all__ = ["DssError", "install_dss_handlers"]

_log = logging.getLogger("deconfliction.interop.dss")


class DssError(Exception):
    """An answer other than success: the status, the message and any further fields of
    the body (``missing_operational_intents``…)."""

    def __init__(
        self,
        status: int,
        message: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = body or {}
        self.headers = headers or {}


def _answer(status: int, message: str, **more: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="dss"'} if status == 401 else None
    return JSONResponse({"message": message, **more}, status_code=status, headers=headers)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "path", "query", "header")]
    return ".".join(parts) or "request"


def install_dss_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with an F3548 error body."""

    @app.exception_handler(DssError)
    async def _dss(_: Request, exc: DssError) -> JSONResponse:
        r = _answer(exc.status, exc.message, **exc.body)
        r.headers.update(exc.headers)
        return r

    @app.exception_handler(DeconflictionError)
    async def _domain(_: Request, exc: DeconflictionError) -> JSONResponse:
        if isinstance(exc, InvalidInput | InvalidTransition):
            return _answer(400, str(exc))
        r = _answer(exc.status, str(exc))
        if isinstance(exc, TooManyRequests):
            r.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
        return r

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()[:10]
        text = "; ".join(
            f"{_location(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors
        )
        return _answer(400, f"malformed request: {text}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _answer(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _answer(500, "internal error (logged by the hub)")
