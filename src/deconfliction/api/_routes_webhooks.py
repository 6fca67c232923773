"""/v1/parties/{id}/webhooks: a party's webhooks, one per escalation level (admin).

The delivery itself is the worker's (:mod:`deconfliction.api._webhooks`); these routes set
what it delivers, where, and show how far it got.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response, status

from deconfliction.api._deps import Caller, HotlineDep
from deconfliction.api._schemas import WebhookIn, WebhookOut, WebhookSecretOut
from deconfliction.hotline import WebhookStatus, webhook_json
from deconfliction.model import MAX_LEVELS

__all__ = ["router"]

router = APIRouter(prefix="/v1/parties/{party_id}/webhooks", tags=["webhooks"])

Level = Annotated[
    int,
    Path(ge=0, le=MAX_LEVELS, description="0: the duty desk; 1…: its escalation levels"),
]


def _out(s: WebhookStatus) -> dict[str, Any]:
    return webhook_json(s.hook) | {"backlog": s.backlog, "last_seq": s.last_seq}


def _wake(request: Request) -> None:
    worker = getattr(request.app.state, "webhooks", None)
    if worker is not None:
        worker.wake()


@router.put(
    "/{level}",
    response_model=WebhookSecretOut,
    responses={201: {"model": WebhookSecretOut, "description": "created"}},
    summary="Set a party's webhook for one level (admin; its secret is shown once)",
)
def put_webhook(
    party_id: UUID,
    level: Level,
    body: WebhookIn,
    caller: Caller,
    hotline: HotlineDep,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    """Level 0 receives every event of the party's stream; level k ≥ 1 the events about the
    party's notices once escalated to level k or above. A new webhook starts after the
    party's latest event; replacing one keeps its cursor and issues a new secret. Events
    are POSTed in seq order, signed (`Deconfliction-Signature`), retried with backoff."""
    current, secret, created = hotline.set_webhook(
        caller, party_id, level, body.url, enabled=body.enabled
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    _wake(request)
    return _out(current) | {"secret": secret}


@router.get(
    "",
    response_model=list[WebhookOut],
    summary="A party's webhooks: cursor, backlog, last attempt (admin; never the secret)",
)
def list_webhooks(party_id: UUID, caller: Caller, hotline: HotlineDep) -> list[dict[str, Any]]:
    return [_out(s) for s in hotline.list_webhooks(caller, party_id)]


@router.delete(
    "/{level}",
    response_model=WebhookOut,
    summary="Remove a party's webhook for one level (admin)",
)
def delete_webhook(
    party_id: UUID, level: Level, caller: Caller, hotline: HotlineDep
) -> dict[str, Any]:
    """Returns the webhook as it was; its backlog is what it will not send."""
    return _out(hotline.delete_webhook(caller, party_id, level))
