"""/v1/sites: protected sites (their owner sees them; others only through a conflict)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status

from deconfliction.api._convert import site_from
from deconfliction.api._deps import (
    Caller,
    HotlineDep,
    IdemKey,
    IfMatch,
    etag,
    idempotency,
    if_match,
)
from deconfliction.api._schemas import SiteIn, SiteOut, SiteResultOut
from deconfliction.hotline import SiteResult, conflict_json, notice_json, site_json

__all__ = ["router"]

router = APIRouter(prefix="/v1/sites", tags=["protected sites"])


def _result(r: SiteResult) -> dict[str, Any]:
    return {
        "site": site_json(r.site, full=True),
        "conflicts": [conflict_json(c) for c in r.conflicts],
        "notices": [notice_json(n) for n in r.notices],
        "replayed": r.replayed,
        "receipt": None if r.receipt is None else r.receipt.to_json(),
    }


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SiteResultOut,
    summary="Register a protected site",
)
def register_site(
    body: SiteIn,
    caller: Caller,
    hotline: HotlineDep,
    response: Response,
    idempotency_key: IdemKey = None,
) -> dict[str, Any]:
    idem = idempotency(idempotency_key, "site", body.model_dump(mode="json"))
    r = hotline.register_site(caller, site_from(body, hotline.clock.now()), idempotency=idem)
    response.headers.update(etag(r.site.version))
    response.headers["Location"] = f"/v1/sites/{r.site.id}"
    return _result(r)


@router.get("", response_model=list[SiteOut], summary="My protected sites")
def list_sites(caller: Caller, hotline: HotlineDep, active: bool = False) -> list[dict[str, Any]]:
    return [site_json(s, full=True) for s in hotline.list_sites(caller, active_only=active)]


@router.get(
    "/{site_id}",
    response_model=SiteOut,
    summary="A site: mine in full; another party's only while it conflicts with mine",
)
def get_site(
    site_id: UUID, caller: Caller, hotline: HotlineDep, response: Response
) -> dict[str, Any]:
    s, full = hotline.get_site(caller, site_id)
    response.headers.update(etag(s.version))
    return site_json(s, full=full)


@router.put("/{site_id}", response_model=SiteResultOut, summary="Amend (If-Match)")
def amend_site(
    site_id: UUID,
    body: SiteIn,
    caller: Caller,
    hotline: HotlineDep,
    response: Response,
    if_match_: IfMatch = None,
    idempotency_key: IdemKey = None,
) -> dict[str, Any]:
    version = if_match(if_match_)
    idem = idempotency(idempotency_key, f"site {site_id} {version}", body.model_dump(mode="json"))
    r = hotline.amend_site(
        caller, site_id, version, site_from(body, hotline.clock.now()), idempotency=idem
    )
    response.headers.update(etag(r.site.version))
    return _result(r)


@router.delete("/{site_id}", response_model=SiteResultOut, summary="Withdraw (If-Match)")
def withdraw_site(
    site_id: UUID,
    caller: Caller,
    hotline: HotlineDep,
    response: Response,
    if_match_: IfMatch = None,
    idempotency_key: IdemKey = None,
) -> dict[str, Any]:
    version = if_match(if_match_)
    idem = idempotency(idempotency_key, f"withdraw {site_id} {version}", None)
    r = hotline.withdraw_site(caller, site_id, version, idempotency=idem)
    response.headers.update(etag(r.site.version))
    return _result(r)
