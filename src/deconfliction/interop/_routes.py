"""The exchange formats over HTTP: an activity as an ICAO NOTAM draft, activities and
sites as KML / KMZ (the same need-to-know as their JSON: what the caller may see of them)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse

from deconfliction.api import Caller, HotlineDep
from deconfliction.hotline import activity_json, site_json
from deconfliction.interop._kml import activity_kml, kmz, site_kml
from deconfliction.interop._notam import notam_text

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["exchange formats"])

KML_TYPE = "application/vnd.google-earth.kml+xml"
KMZ_TYPE = "application/vnd.google-earth.kmz"


def _file(media_type: str, what: str, binary: bool = False) -> dict[str, Any]:
    """The route arguments documenting a file download of ``media_type`` (not JSON)."""
    schema = {"type": "string", "format": "binary"} if binary else {"type": "string"}
    return {
        "response_class": Response,
        "responses": {200: {"description": what, "content": {media_type: {"schema": schema}}}},
    }


def _download(body: str | bytes, media_type: str, name: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/activities/{activity_id}/notam",
    response_class=PlainTextResponse,
    summary="The activity as an ICAO NOTAM draft (for the NOTAM office to number and issue)",
)
def activity_notam(
    activity_id: UUID,
    caller: Caller,
    hotline: HotlineDep,
    request: Request,
    fir: Annotated[str | None, Query(description="ICAO FIR (default: the hub's notam_fir)")] = None,
    code: Annotated[
        str | None, Query(description="NOTAM code, e.g. QRTCA (default: per kind)")
    ] = None,
    series: Annotated[str, Query(pattern="^[A-Z]$")] = "X",
    number: Annotated[int, Query(ge=0, le=9999, description="0: a draft")] = 0,
) -> PlainTextResponse:
    a, full = hotline.get_activity(caller, activity_id)
    text = notam_text(
        activity_json(a, full=full),
        fir=(fir or request.app.state.settings.notam_fir).upper(),
        code=code.upper() if code else None,
        series=series,
        number=number,
    )
    return PlainTextResponse(text)


@router.get(
    "/activities/{activity_id}/kml",
    summary="The activity as KML",
    **_file(KML_TYPE, "the activity as KML"),
)
def activity_as_kml(activity_id: UUID, caller: Caller, hotline: HotlineDep) -> Response:
    a, full = hotline.get_activity(caller, activity_id)
    return _download(activity_kml(activity_json(a, full=full)), KML_TYPE, f"activity-{a.id}.kml")


@router.get(
    "/activities/{activity_id}/kmz",
    summary="The activity as KMZ (zipped KML)",
    **_file(KMZ_TYPE, "the activity as KMZ", binary=True),
)
def activity_as_kmz(activity_id: UUID, caller: Caller, hotline: HotlineDep) -> Response:
    a, full = hotline.get_activity(caller, activity_id)
    body = kmz(activity_kml(activity_json(a, full=full)))
    return _download(body, KMZ_TYPE, f"activity-{a.id}.kmz")


@router.get(
    "/sites/{site_id}/kml",
    summary="A site as KML (as much of it as I may see)",
    **_file(KML_TYPE, "the site as KML"),
)
def site_as_kml(site_id: UUID, caller: Caller, hotline: HotlineDep) -> Response:
    s, full = hotline.get_site(caller, site_id)
    return _download(site_kml(site_json(s, full=full)), KML_TYPE, f"site-{s.id}.kml")


@router.get(
    "/sites/{site_id}/kmz",
    summary="A site as KMZ (zipped KML)",
    **_file(KMZ_TYPE, "the site as KMZ", binary=True),
)
def site_as_kmz(site_id: UUID, caller: Caller, hotline: HotlineDep) -> Response:
    s, full = hotline.get_site(caller, site_id)
    return _download(kmz(site_kml(site_json(s, full=full))), KMZ_TYPE, f"site-{s.id}.kmz")
