"""A compact, fast-to-reload form of volumes for the hub's own storage.

GeoJSON is the exchange format; a *record* is what the store keeps: the same values plus
what the geometry core derived when it first validated the footprint, so that reloading
100,000 volumes at start needs no revalidation (see :meth:`Polygon.restore`). Records come
only from :func:`volume_to_record`; they are not an input format.

>>> from datetime import datetime, timezone, timedelta
>>> t = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
>>> v = Volume4D(Polygon([(2, 49), (2.1, 49), (2.1, 49.1)]), AltitudeBand(0, 500),
...              TimeWindow(t, t + timedelta(hours=1)))
>>> volume_from_record(volume_to_record(v)) == v
True
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from deconfliction.geo._altitude import AltitudeBand
from deconfliction.geo._footprint import Circle, Polygon
from deconfliction.geo._time import TimeWindow
from deconfliction.geo._volume import Volume4D

__all__ = ["volume_from_record", "volume_to_record"]


def _iso(dt: datetime) -> str:
    return dt.isoformat()


def volume_to_record(volume: Volume4D) -> dict[str, Any]:
    """A JSON-serialisable record of ``volume`` (for :func:`volume_from_record`)."""
    fp = volume.footprint
    rec: dict[str, Any] = {
        "alt": [volume.altitude.lower_m, volume.altitude.upper_m],
        "time": [_iso(volume.time.start), _iso(volume.time.end)],
    }
    if isinstance(fp, Circle):
        rec["circle"] = [fp.centre[0], fp.centre[1], fp.radius_m]
    else:
        rec["polygon"] = fp.lonlat.tolist()
        rec["derived"] = fp.derived()
    return rec


def volume_from_record(rec: dict[str, Any]) -> Volume4D:
    """The volume a record was made from (equal to it)."""
    if "circle" in rec:
        lon, lat, r = rec["circle"]
        fp: Circle | Polygon = Circle((lon, lat), r)
    else:
        d = rec["derived"]
        fp = Polygon.restore(
            np.asarray(rec["polygon"], dtype=np.float64),
            (d["centre"][0], d["centre"][1]),
            d["radius_m"],
            d["sagitta_m"],
            d.get("inner"),
        )
    lo, hi = rec["alt"]
    start, end = rec["time"]
    return Volume4D(
        fp,
        AltitudeBand(lo, hi),
        TimeWindow(datetime.fromisoformat(start), datetime.fromisoformat(end)),
    )
