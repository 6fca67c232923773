"""Every error leaves the API as RFC 9457 problem details, mapped here in one place.

``{"type", "title", "status", "detail", "instance", "errors": [{"field", "reason"}]}``
with media type ``application/problem+json``. A bad input never yields a 500: request
validation, JSON syntax, unknown routes, wrong methods and oversized bodies are all mapped.
An unexpected exception is a 500 that names no internals (the traceback goes to the log).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from deconfliction.api._problem_schema import declare_problems
from deconfliction.errors import DeconflictionError, InvalidInput, TooManyRequests, VersionConflict

__all__ = ["PROBLEM_TYPE_BASE", "install_problem_handlers", "problem"]

PROBLEM_TYPE_BASE = "https://deconfliction.invalid/problems/"
"""Problem ``type`` URIs: this base + a slug (documented in the README)."""

_log = logging.getLogger("deconfliction.api")

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


def _slug(title: str) -> str:
    return title.lower().replace(" ", "-")


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: Sequence[dict[str, Any]] = (),
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem-details response."""
    t = title or _TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + _slug(t),
        "title": t,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    if extra:
        body |= extra
    h = dict(headers or {})
    if status == 401:
        h.setdefault("WWW-Authenticate", 'Bearer realm="deconfliction"')
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=h)


def _loc(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or (str(loc[0]) if loc else "request")


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app`` and declare the problem responses in its OpenAPI
    document (:func:`declare_problems`; routers included later are covered too)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_problems(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(DeconflictionError)
    async def _domain(request: Request, exc: DeconflictionError) -> JSONResponse:
        errors: list[dict[str, Any]] = []
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidInput):
            errors = [{"field": exc.field, "reason": exc.reason}]
        headers: dict[str, str] = {}
        if isinstance(exc, VersionConflict):
            extra = {"current_version": exc.current}
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
        return problem(
            exc.status,
            str(exc),
            title=exc.title,
            errors=errors,
            instance=request.url.path,
            extra=extra,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": "body", "reason": f"{e.get('msg', 'invalid')} at character {e['loc'][-1]}"}
            if e.get("type") == "json_invalid"
            else {"field": _loc(e.get("loc", ())), "reason": str(e.get("msg", "invalid"))}
            for e in exc.errors()
        ]
        json_error = any(e.get("type") == "json_invalid" for e in exc.errors())
        status = 400 if json_error else 422
        detail = (
            "the body is not valid JSON" if json_error else "the request does not match its schema"
        )
        return problem(status, detail, errors=errors[:50], instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = str(exc.detail) if exc.detail else _TITLES.get(exc.status_code, "Error")
        return problem(
            exc.status_code, detail, instance=request.url.path, headers=dict(exc.headers or {})
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(
            500, "an unexpected error occurred; it has been logged", instance=request.url.path
        )
