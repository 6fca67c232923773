"""Request plumbing shared by the routes: the hotline, the caller, If-Match, Idempotency-Key."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from deconfliction.api._security import client_key
from deconfliction.errors import InvalidInput, PreconditionRequired, Unauthorized
from deconfliction.hotline import Hotline, Idempotency, Principal, Signed

__all__ = [
    "Caller",
    "HotlineDep",
    "RawJson",
    "SigHeader",
    "idempotency",
    "if_match",
    "parse_signature",
]

_bearer = HTTPBearer(auto_error=False, description="a party's API token")


def get_hotline(request: Request) -> Hotline:
    hotline: Hotline = request.app.state.hotline
    return hotline


HotlineDep = Annotated[Hotline, Depends(get_hotline)]


def get_caller(
    request: Request,
    hotline: HotlineDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    try:
        if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
            raise Unauthorized("send 'Authorization: Bearer <token>'")
        principal = hotline.authenticate(creds.credentials)
    except Unauthorized:  # a refused token spends from its client address's bucket
        request.app.state.anonymous_limiter.take(client_key(request.scope))
        raise
    request.app.state.rate_limiter.take(principal.party_id)
    return principal


Caller = Annotated[Principal, Depends(get_caller)]


def if_match(value: str | None) -> int:
    """The version stated in an ``If-Match`` header (``"3"``, ``W/"3"`` or ``3``)."""
    if value is None:
        raise PreconditionRequired(
            "state the version you are changing in an If-Match header (the ETag you read)"
        )
    v = value.strip()
    if v.startswith("W/"):
        v = v[2:]
    v = v.strip('"')
    if not v.isdigit() or len(v) > 12:
        raise InvalidInput("If-Match", 'must be the object\'s version, as in its ETag (e.g. "3")')
    return int(v)


IfMatch = Annotated[
    str | None, Header(alias="If-Match", description='the version you read, e.g. "3"')
]
IdemKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="retry safely: same key + same body → same result"),
]


def idempotency(key: str | None, operation: str, body: Any) -> Idempotency | None:
    """An :class:`Idempotency` for ``key`` over ``operation`` and the request ``body``."""
    if key is None:
        return None
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise InvalidInput("Idempotency-Key", "must be 1–200 printable characters")
    canonical = json.dumps([operation, body], sort_keys=True, separators=(",", ":"), default=str)
    return Idempotency(key, hashlib.sha256(canonical.encode()).hexdigest())


SigHeader = Annotated[
    str | None,
    Header(
        alias="Party-Signature",
        description="optional: `sig=<base64 Ed25519 over the RFC 8785 canonical JSON of the "
        "body>; key=<key id>` with a key registered at /v1/keys — kept on the ledger, so the "
        "party cannot later deny it (and nobody can claim it said otherwise)",
    ),
]


def parse_signature(header: str | None, submission: Any) -> Signed | None:
    """The :class:`Signed` of a ``Party-Signature`` header (None without one)."""
    if header is None:
        return None
    fields: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if not sep or name.strip() not in ("sig", "key") or name.strip() in fields:
            raise InvalidInput(
                "Party-Signature", "must be 'sig=<base64>; key=<key id>' (key optional)"
            )
        fields[name.strip()] = value.strip().strip('"')
    if not fields.get("sig"):
        raise InvalidInput("Party-Signature", "needs sig=<base64 signature>")
    return Signed(submission, fields["sig"], fields.get("key") or None)


async def raw_json(request: Request) -> Any:
    """The request body as the client sent it (parsed JSON), for signature checks."""
    try:
        return await request.json()
    except ValueError:
        return None  # the body model reports malformed JSON


RawJson = Annotated[Any, Depends(raw_json)]


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}
