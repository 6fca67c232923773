"""The public names of each layer are pinned: changing them is a deliberate act."""

from __future__ import annotations

import deconfliction
import deconfliction.detect
import deconfliction.errors
import deconfliction.geo


def test_geo_exports():
    assert deconfliction.geo.__all__ == [
        "DEFAULT_LIMITS",
        "FEET_TO_METRES",
        "FRAME_MAX_RADIUS_M",
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
        "footprint_distance",
        "footprint_from_geojson",
        "footprint_to_geojson",
        "intersection_geojson",
        "overlap",
        "volume_from_geojson",
        "volume_to_geojson",
    ]
    for name in deconfliction.geo.__all__:
        assert hasattr(deconfliction.geo, name), name


def test_detect_errors_and_root_exports():
    assert deconfliction.detect.__all__ == [
        "Conflict",
        "Subject",
        "SubjectKind",
        "detect_conflicts",
        "index_subject",
    ]
    assert deconfliction.errors.__all__ == ["DeconflictionError", "InvalidVolume", "InvalidGeoJSON"]
    assert deconfliction.__all__ == ["__version__"]
    assert issubclass(deconfliction.errors.InvalidGeoJSON, deconfliction.errors.DeconflictionError)
