"""The OpenAPI document declares the problem-details responses the API gives.

FastAPI documents only the success status and its own 422 shape (``HTTPValidationError``,
``application/json``), which the API never sends. :func:`declare_problems` replaces that
with a ``Problem`` schema (``application/problem+json``) under each status an operation can
answer with, derived from what the operation takes: a token (401, 403, 429), path
parameters (404), parameters or a body (422), a body (400, 413, 415), ``If-Match`` or
``Idempotency-Key`` (409, 428).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PROBLEM_SCHEMA", "declare_problems"]

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
        "current_version": {"type": "integer", "description": "on 409: the current version"},
    },
}

_DESCRIPTIONS = {
    "400": "The body is not valid JSON, or the request is malformed",
    "401": "No token, or an unknown or revoked one",
    "403": "The token's role or party may not do this",
    "404": "No such object, or not visible to the caller",
    "409": "The object changed (If-Match), or the Idempotency-Key was used for another request",
    "413": "The body is too large",
    "415": "The body's media type is not accepted",
    "422": "The input does not match its schema or the rules",
    "428": "If-Match is required",
    "429": "Too many requests (see Retry-After)",
}
_REF = {"$ref": "#/components/schemas/Problem"}


def _statuses(operation: dict[str, Any]) -> set[str]:
    params = operation.get("parameters", [])
    names = {p["name"].lower() for p in params if p.get("in") == "header"}
    out: set[str] = set()
    if operation.get("security"):
        out |= {"401", "403", "429"}
    if any(p.get("in") == "path" for p in params):
        out.add("404")
    if params or "requestBody" in operation:
        out.add("422")
    if "requestBody" in operation:
        out |= {"400", "413", "415"}
    if "if-match" in names:
        out |= {"409", "428"}
    if "idempotency-key" in names:
        out.add("409")
    return out


def declare_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add the ``Problem`` schema and each operation's problem responses to ``openapi``
    (in place; returned). Responses a route declares itself are kept, except FastAPI's
    422, which is replaced."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for key in ("HTTPValidationError", "ValidationError"):
        schemas.pop(key, None)
    for item in openapi.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status in sorted(_statuses(operation)):
                responses.setdefault(
                    status,
                    {
                        "description": _DESCRIPTIONS[status],
                        "content": {"application/problem+json": {"schema": _REF}},
                    },
                )
    return openapi
