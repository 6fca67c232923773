"""Request bodies → domain values, with field paths that point into the request."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from deconfliction.api._schemas import ActivityIn, SiteIn
from deconfliction.errors import InvalidInput
from deconfliction.geo import AltitudeBand, TimeWindow, footprint_from_geojson, volume_from_geojson
from deconfliction.hotline import ActivityDraft
from deconfliction.model import SITE_DEFAULT_ALTITUDE, ProtectedSite

__all__ = ["draft_from", "site_from"]


def draft_from(body: ActivityIn) -> ActivityDraft:
    vols = []
    for i, f in enumerate(body.volumes.features):
        try:
            vols.append(volume_from_geojson(f.model_dump(exclude_none=False)))
        except InvalidInput as exc:
            raise type(exc)(f"volumes.features[{i}].{exc.field}", exc.reason) from None
    return ActivityDraft(body.kind, body.title, tuple(vols), body.priority, body.remarks)


def site_from(body: SiteIn, now: datetime) -> ProtectedSite:
    try:
        fp = footprint_from_geojson(body.footprint.model_dump())
    except InvalidInput as exc:
        raise type(exc)(f"footprint.{exc.field}", exc.reason) from None
    try:
        window = TimeWindow(body.valid_from, body.valid_to)
    except InvalidInput as exc:
        raise InvalidInput(
            exc.field.replace("time.start", "valid_from").replace("time.end", "valid_to"),
            exc.reason,
        ) from None
    lo = SITE_DEFAULT_ALTITUDE.lower_m if body.altitude_lower_m is None else body.altitude_lower_m
    hi = SITE_DEFAULT_ALTITUDE.upper_m if body.altitude_upper_m is None else body.altitude_upper_m
    try:
        band = AltitudeBand(lo, hi)
    except InvalidInput as exc:
        raise InvalidInput(exc.field.replace("altitude.", "altitude_"), exc.reason) from None
    # id, owner and times are set by the service.
    return ProtectedSite(
        uuid4(),
        UUID(int=0),
        body.category,
        body.name,
        fp,
        window,
        now,
        now,
        buffer_m=body.buffer_m,
        altitude=band,
        remarks=body.remarks,
    )
