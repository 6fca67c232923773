"""/v1/ledger: the hub's public key and each party's verifiable view of the ledger."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from deconfliction.api._deps import Caller, HotlineDep
from deconfliction.audit import Ledger
from deconfliction.errors import DeconflictionError
from deconfliction.hotline import Hotline

__all__ = ["router"]

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])

MAX_ENTRIES = 10_000


class LedgerUnavailable(DeconflictionError):
    """The hub runs without a ledger."""

    status = 503
    title = "Ledger unavailable"


def _ledger(hotline: Hotline) -> Ledger:
    if not isinstance(hotline.recorder, Ledger):
        raise LedgerUnavailable("this hub runs without a ledger")
    return hotline.recorder


@router.get("/key", summary="The hub's Ed25519 public key (verifies every receipt and entry)")
def ledger_key(request: Request) -> dict[str, Any]:
    key = _ledger(request.app.state.hotline).public_key
    return {"algorithm": "Ed25519", "key_id": key.key_id, "public_key": key.b64, "pem": key.pem}


@router.get(
    "",
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
    with hotline.store.read() as tx:
        head, _ = ledger.head(tx)  # type: ignore[arg-type]
        last = min(head, since + limit)
        if since >= last:
            ledger.export(tx, buffer, party=caller.party_id, from_=head + 1, to=head)  # type: ignore[arg-type]
        else:
            ledger.export(tx, buffer, party=caller.party_id, from_=since + 1, to=last)  # type: ignore[arg-type]
    return Response(
        buffer.getvalue(),
        media_type="application/x-ndjson",
        headers={"Ledger-Head": str(head)},
    )
