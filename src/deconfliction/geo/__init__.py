"""Pure geometry: exact 4D volumes on WGS84 and a conflict index that never misses.

No I/O and no module-level state: every function works on its arguments alone.

>>> from datetime import datetime, timezone, timedelta
>>> t = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
>>> v = Volume4D(Circle((2.35, 48.85), 2_000.0), AltitudeBand.from_feet(0, 1_000),
...              TimeWindow(t, t + timedelta(hours=2)))
>>> volume_from_geojson(volume_to_geojson(v)) == v
True
"""

from deconfliction.geo._altitude import FEET_TO_METRES, AltitudeBand
from deconfliction.geo._clearance import MAX_EXIT_M, exit_distance_m
from deconfliction.geo._footprint import MAX_VERTICES, Circle, Footprint, Polygon
from deconfliction.geo._geodesy import FRAME_MAX_RADIUS_M
from deconfliction.geo._geojson import (
    footprint_from_geojson,
    footprint_to_geojson,
    volume_from_geojson,
    volume_to_geojson,
)
from deconfliction.geo._index import Hit, VolumeIndex
from deconfliction.geo._overlap import Overlap, intersection_geojson, overlap
from deconfliction.geo._record import volume_from_record, volume_to_record
from deconfliction.geo._spatial import footprint_distance
from deconfliction.geo._time import TimeWindow
from deconfliction.geo._volume import DEFAULT_LIMITS, Buffers, Limits, Volume4D, check_limits

__all__ = [
    "DEFAULT_LIMITS",
    "FEET_TO_METRES",
    "FRAME_MAX_RADIUS_M",
    "MAX_EXIT_M",
    "MAX_VERTICES",
    "AltitudeBand",
    "Buffers",
    "Circle",
    "Footprint",
    "Hit",
    "Limits",
    "Overlap",
    "Polygon",
    "TimeWindow",
    "Volume4D",
    "VolumeIndex",
    "check_limits",
    "exit_distance_m",
    "footprint_distance",
    "footprint_from_geojson",
    "footprint_to_geojson",
    "intersection_geojson",
    "overlap",
    "volume_from_geojson",
    "volume_from_record",
    "volume_to_geojson",
    "volume_to_record",
]
