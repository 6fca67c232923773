"""/v1/activities/{id}/timeline and /v1/figures: what happened, and how well notice is given.

The hotline assembles both (pure data); the routes only serialise.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from deconfliction.api._deps import Caller, HotlineDep
from deconfliction.api._schemas import FiguresOut, TimelineOut
from deconfliction.hotline import figures_json, timeline_json

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["timeline and figures"])


@router.get(
    "/activities/{activity_id}/timeline",
    response_model=TimelineOut,
    summary="My activity's whole story, for a report (owner only)",
)
def activity_timeline(activity_id: UUID, caller: Caller, hotline: HotlineDep) -> dict[str, Any]:
    """Every version (with the change that made it), every conflict, every notice of every
    version with each step's hub time, flags, clearance numbers and ledger receipt, and one
    chronological list of events. Another party's activity is 404, as if it did not exist."""
    return timeline_json(hotline.timeline(caller, activity_id))


@router.get(
    "/figures",
    response_model=FiguresOut,
    response_model_by_alias=True,
    summary="How well notice is given and answered, per party pair",
)
def figures(
    caller: Caller,
    hotline: HotlineDep,
    since: Annotated[
        AwareDatetime | None, Query(description="notices sent at or after (with a timezone)")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="notices sent before (with a timezone)")
    ] = None,
    all_pairs: Annotated[
        bool, Query(alias="all", description="every pair of the hub (admin tokens only)")
    ] = False,
) -> dict[str, Any]:
    """For my party, per counterpart and direction (notices I gave, notices I got): notices
    sent, median lead time, share late, share insufficient, median time to acknowledge,
    unanswered now, share expired. Only pairs I am part of, unless an admin asks for all."""
    return figures_json(hotline.figures(caller, since=since, until=until, all_pairs=all_pairs))
