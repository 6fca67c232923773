"""/v1/parties and tokens: the directory (read by all) and its administration (admin)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, status

from deconfliction.api._deps import Caller, HotlineDep
from deconfliction.api._schemas import (
    EscalationIn,
    EscalationOut,
    PartyIn,
    PartyOut,
    TokenIn,
    TokenOut,
    TokenSecretOut,
)
from deconfliction.hotline import party_json, token_json
from deconfliction.model import EscalationLevel, Party

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["parties and tokens"])


@router.get("/me", summary="Who the token belongs to")
def me(caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    party = hotline.get_party(caller, caller.party_id)
    return {"party": party_json(party), "role": caller.role.value, "token_id": str(caller.token_id)}


@router.post(
    "/parties",
    status_code=status.HTTP_201_CREATED,
    response_model=PartyOut,
    summary="Add a party (admin)",
)
def add_party(body: PartyIn, caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    p = hotline.add_party(
        caller, body.name, body.kind, contact=body.contact, languages=tuple(body.languages)
    )
    return party_json(p)


@router.get("/parties", response_model=list[PartyOut], summary="The directory of parties")
def list_parties(caller: Caller, hotline: HotlineDep) -> list[dict[str, Any]]:
    return [party_json(p) for p in hotline.list_parties(caller)]


@router.get("/parties/{party_id}", response_model=PartyOut)
def get_party(party_id: UUID, caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    return party_json(hotline.get_party(caller, party_id))


@router.post(
    "/parties/{party_id}/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenSecretOut,
    summary="Create a token (admin; secret shown once)",
)
def create_token(
    party_id: UUID, body: TokenIn, caller: Caller, hotline: HotlineDep
) -> dict[str, Any]:
    info, secret = hotline.create_token(caller, party_id, body.role, body.label, body.level)
    return token_json(info) | {"secret": secret}


def _ladder_json(p: Party) -> dict[str, Any]:
    return {
        "party_id": str(p.id),
        "levels": [{"name": lv.name, "deadline_min": lv.deadline_s / 60} for lv in p.escalation],
    }


@router.put(
    "/parties/{party_id}/escalation",
    response_model=EscalationOut,
    summary="Set a party's escalation ladder (admin)",
)
def set_escalation(
    party_id: UUID, body: EscalationIn, caller: Caller, hotline: HotlineDep
) -> dict[str, Any]:
    """A notice unanswered at its deadline goes up one level (with that level's deadline);
    past the top level it expires. The activity's owner is told each time."""
    levels = [EscalationLevel(lv.name, lv.deadline_min * 60) for lv in body.levels]
    return _ladder_json(hotline.set_escalation(caller, party_id, levels))


@router.get(
    "/parties/{party_id}/escalation",
    response_model=EscalationOut,
    summary="A party's escalation ladder (admin)",
)
def get_escalation(party_id: UUID, caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    return _ladder_json(hotline.party_ladder(caller, party_id))


@router.get(
    "/parties/{party_id}/tokens",
    response_model=list[TokenOut],
    summary="List a party's tokens (admin; secrets are never shown again)",
)
def list_tokens(party_id: UUID, caller: Caller, hotline: HotlineDep) -> list[dict[str, Any]]:
    return [token_json(t) for t in hotline.list_tokens(caller, party_id)]


@router.delete("/tokens/{token_id}", response_model=TokenOut, summary="Revoke a token (admin)")
def revoke_token(token_id: UUID, caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    return token_json(hotline.revoke_token(caller, token_id))
