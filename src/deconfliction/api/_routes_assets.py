"""/v1/assets: where my assets are and how fast they can move (for time-to-clear)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from deconfliction.api._deps import Caller, HotlineDep
from deconfliction.api._schemas import AssetOut, AssetsIn
from deconfliction.hotline import AssetReport, asset_json

__all__ = ["router"]

router = APIRouter(prefix="/v1/assets", tags=["assets"])


@router.post(
    "",
    response_model=list[AssetOut],
    summary="Report my assets' positions and speeds (all or nothing)",
)
def report_assets(body: AssetsIn, caller: Caller, hotline: HotlineDep) -> list[dict[str, Any]]:
    """Each report replaces the asset's last one (an older report is ignored). When an
    activity is declared over an asset, the notice says how long it needs to get clear at
    its max speed, and flags *insufficient notice* if the lead time left is shorter."""
    reports = [AssetReport(**a.si()) for a in body.assets]
    return [asset_json(a) for a in hotline.report_assets(caller, reports)]


@router.get("", response_model=list[AssetOut], summary="My assets, as last reported")
def list_assets(caller: Caller, hotline: HotlineDep) -> list[dict[str, Any]]:
    return [asset_json(a) for a in hotline.list_assets(caller)]
