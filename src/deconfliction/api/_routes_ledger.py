"""/v1/ledger: the hub's public key and each party's verifiable view of the ledger."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from deconfliction.api._deps import Caller, HotlineDep
from deconfliction.audit import Actor, Ledger, PublicKey
from deconfliction.errors import DeconflictionError, Forbidden, InvalidInput
from deconfliction.hotline import Hotline
from deconfliction.model import Role
from deconfliction.store import IntegrityViolation, SqlTransaction, list_party_keys

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["ledger"])

MAX_ENTRIES = 10_000


class LedgerUnavailable(DeconflictionError):
    """The hub runs without a ledger."""

    status = 503
    title = "Ledger unavailable"


def _ledger(hotline: Hotline) -> Ledger:
    if not isinstance(hotline.recorder, Ledger):
        raise LedgerUnavailable("this hub runs without a ledger")
    return hotline.recorder


@router.get(
    "/ledger/key", summary="The hub's Ed25519 public key (verifies every receipt and entry)"
)
def ledger_key(request: Request) -> dict[str, Any]:
    key = _ledger(request.app.state.hotline).public_key
    return {"algorithm": "Ed25519", "key_id": key.key_id, "public_key": key.b64, "pem": key.pem}


@router.get(
    "/ledger",
    summary="My view of the ledger: my entries in full, the others' hashes only",
    response_class=Response,
    responses={
        200: {
            "content": {"application/x-ndjson": {}},
            "description": "a ledger bundle (JSON lines: header, entries, trailer) that "
            "`deconfliction ledger verify --bundle` checks offline with the hub key",
        }
    },
)
def ledger_view(
    caller: Caller,
    hotline: HotlineDep,
    since: Annotated[int, Query(ge=0, description="entries after this seq")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES)] = 1000,
) -> Response:
    ledger = _ledger(hotline)
    buffer = io.BytesIO()
    with hotline.store.read() as t:
        tx = cast(SqlTransaction, t)
        head, _ = ledger.head(tx)
        last = min(head, since + limit)
        if since >= last:
            ledger.export(tx, buffer, party=caller.party_id, from_=head + 1, to=head)
        else:
            ledger.export(tx, buffer, party=caller.party_id, from_=since + 1, to=last)
    return Response(
        buffer.getvalue(),
        media_type="application/x-ndjson",
        headers={"Ledger-Head": str(head)},
    )


# ------------------------------------------------------------------ party signing keys


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_key: str = Field(
        min_length=40, max_length=2000, description="Ed25519: base64 of 32 bytes, or PEM"
    )


class KeyOut(BaseModel):
    key_id: str
    public_key: str
    created_at: datetime
    revoked_at: datetime | None = None
    receipt: dict[str, Any] | None = Field(None, description="the ledger receipt of this change")


def _key_json(k: Any, receipt: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "key_id": k.key_id,
        "public_key": PublicKey(k.public_key).b64,
        "created_at": k.created_at,
        "revoked_at": k.revoked_at,
        "receipt": receipt,
    }


def _writer(caller: Any) -> None:
    if caller.role not in (Role.OPERATOR, Role.ADMIN):
        raise Forbidden("registering or revoking signing keys needs the operator role")


@router.post(
    "/keys",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyOut,
    summary="Register a signing key of my party (Ed25519)",
)
def register_key(body: KeyIn, caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    """Then sign what you submit (``Party-Signature`` header): the signature is kept on the
    ledger with the submission, so neither side can later deny a filing or an answer."""
    _writer(caller)
    ledger = _ledger(hotline)
    now = hotline.clock.now()  # the hub's clock stamps everything
    try:
        with hotline.store.transaction() as t:
            tx = cast(SqlTransaction, t)
            key, entry = ledger.register_party_key(
                tx,
                caller.party_id,
                body.public_key,
                at=now,
                actor=Actor(caller.party_id, caller.token_id),
            )
    except IntegrityViolation:
        raise InvalidInput("public_key", "this key is already registered") from None
    with hotline.store.read() as t:
        tx = cast(SqlTransaction, t)
        (row,) = [k for k in list_party_keys(tx, caller.party_id) if k.key_id == key.key_id]
    return _key_json(row, entry.receipt.to_json())


@router.get("/keys", response_model=list[KeyOut], summary="My party's signing keys")
def list_keys(caller: Caller, hotline: HotlineDep) -> list[dict[str, Any]]:
    _ledger(hotline)
    with hotline.store.read() as t:
        return [_key_json(k) for k in list_party_keys(cast(SqlTransaction, t), caller.party_id)]


@router.delete("/keys/{key_id}", response_model=KeyOut, summary="Revoke a signing key")
def revoke_key(key_id: str, caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    """Signatures it made stay verifiable; new ones are refused."""
    _writer(caller)
    ledger = _ledger(hotline)
    with hotline.store.transaction() as t:
        tx = cast(SqlTransaction, t)
        entry = ledger.revoke_party_key(
            tx,
            caller.party_id,
            key_id,
            at=hotline.clock.now(),
            actor=Actor(caller.party_id, caller.token_id),
        )
    with hotline.store.read() as t:
        tx = cast(SqlTransaction, t)
        (row,) = [k for k in list_party_keys(tx, caller.party_id) if k.key_id == key_id]
    return _key_json(row, entry.receipt.to_json())
