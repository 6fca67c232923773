"""GeoJSON in and out for footprints and 4D volumes.

A volume is a GeoJSON ``Feature``:

* ``geometry``: a ``Polygon`` (one exterior ring of ``[lon, lat]`` positions, closed as
  RFC 7946 requires on output, closing optional on input; no holes) or a ``Point`` for a
  circle. Unlike RFC 7946's straight lines, **edges are geodesics** on WGS84, and a ring may
  cross the antimeridian without being split (179.9 followed by -179.9 is a short edge).
* ``properties``:

  ``radius_m``
      circle radius in metres (Point geometries only).
  ``altitude_lower_m`` / ``altitude_upper_m``
      metres above the WGS84 ellipsoid (``altitude_reference`` is ``"WGS84"`` on output).
      On input ``altitude_lower_ft`` / ``altitude_upper_ft`` (feet) or
      ``altitude_lower_fl`` / ``altitude_upper_fl`` (flight levels) are accepted instead,
      converted as :class:`~deconfliction.geo.AltitudeBand` documents.
  ``time_start`` / ``time_end``
      ISO 8601 timestamps with a UTC offset (``Z`` allowed); output is UTC with ``Z``.

>>> f = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
...      "properties": {"radius_m": 500, "altitude_lower_fl": 0, "altitude_upper_fl": 50,
...                     "time_start": "2026-11-25T12:00Z", "time_end": "2026-11-25T13:00:00+00:00"}}
>>> v = volume_from_geojson(f)
>>> v.altitude.upper_m, volume_to_geojson(v)["properties"]["time_end"]
(1524.0, '2026-11-25T13:00:00Z')
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from deconfliction.errors import InvalidGeoJSON, InvalidVolume
from deconfliction.geo._altitude import AltitudeBand
from deconfliction.geo._footprint import Circle, Footprint, Polygon
from deconfliction.geo._time import TimeWindow
from deconfliction.geo._volume import Volume4D

__all__ = [
    "footprint_from_geojson",
    "footprint_to_geojson",
    "volume_from_geojson",
    "volume_to_geojson",
]


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def _geometry(feature: object) -> Mapping[str, Any]:
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise InvalidGeoJSON("type", 'must be "Feature"')
    geom = feature.get("geometry")
    if not isinstance(geom, Mapping):
        raise InvalidGeoJSON("geometry", "must be a GeoJSON geometry object")
    return geom


def _properties(feature: Mapping[str, Any]) -> Mapping[str, Any]:
    props = feature.get("properties")
    if props is None:
        return {}
    if not isinstance(props, Mapping):
        raise InvalidGeoJSON("properties", "must be an object")
    return props


def footprint_from_geojson(feature: Mapping[str, Any]) -> Footprint:
    """A :class:`Polygon` or :class:`Circle` from a GeoJSON Feature (see module doc)."""
    geom = _geometry(feature)
    props = _properties(feature)
    kind = geom.get("type")
    coords = geom.get("coordinates")
    if kind == "Polygon":
        if not isinstance(coords, list) or not coords:
            raise InvalidGeoJSON("geometry.coordinates", "must be a list of rings")
        if len(coords) > 1:
            raise InvalidGeoJSON("geometry.coordinates", "polygons with holes are not supported")
        ring = coords[0]
        if not isinstance(ring, list):
            raise InvalidGeoJSON(
                "geometry.coordinates[0]", "must be a list of [lon, lat] positions"
            )
        try:
            return Polygon(ring)
        except InvalidVolume as exc:
            field = exc.field.replace("footprint.vertices", "geometry.coordinates[0]")
            raise InvalidGeoJSON(field, exc.reason) from None
    if kind == "Point":
        if not isinstance(coords, list) or len(coords) not in (2, 3):
            raise InvalidGeoJSON("geometry.coordinates", "must be a [lon, lat] position")
        if "radius_m" not in props:
            raise InvalidGeoJSON(
                "properties.radius_m", "is required for a Point (circle) footprint"
            )
        try:
            return Circle((coords[0], coords[1]), props["radius_m"])
        except InvalidVolume as exc:
            field = exc.field.replace("footprint.centre", "geometry.coordinates").replace(
                "footprint.radius_m", "properties.radius_m"
            )
            raise InvalidGeoJSON(field, exc.reason) from None
    raise InvalidGeoJSON("geometry.type", f'must be "Polygon" or "Point", got {kind!r}')


def footprint_to_geojson(footprint: Footprint) -> dict[str, Any]:
    """A GeoJSON Feature for a footprint (a circle carries ``properties.radius_m``)."""
    if isinstance(footprint, Circle):
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(footprint.centre)},
            "properties": {"radius_m": footprint.radius_m},
        }
    ring = [list(v) for v in footprint.vertices]
    ring.append(ring[0])
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {},
    }


def _altitude(props: Mapping[str, Any]) -> AltitudeBand:
    try:
        for unit, make in (
            ("m", AltitudeBand.from_metres),
            ("ft", AltitudeBand.from_feet),
            ("fl", AltitudeBand.from_flight_levels),
        ):
            lo, hi = f"altitude_lower_{unit}", f"altitude_upper_{unit}"
            if lo in props or hi in props:
                if lo not in props:
                    raise InvalidGeoJSON(f"properties.{lo}", "is required")
                if hi not in props:
                    raise InvalidGeoJSON(f"properties.{hi}", "is required")
                return make(props[lo], props[hi])
    except InvalidGeoJSON:
        raise
    except InvalidVolume as exc:
        name = exc.field.split(".")[-1]  # lower_m, upper_ft, ...
        raise InvalidGeoJSON(f"properties.altitude_{name}", exc.reason) from None
    raise InvalidGeoJSON("properties.altitude_lower_m", "is required (or _ft / _fl)")


def _time(props: Mapping[str, Any], name: str) -> datetime:
    raw = props.get(name)
    if raw is None:
        raise InvalidGeoJSON(f"properties.{name}", "is required (ISO 8601 with a UTC offset)")
    if not isinstance(raw, str):
        raise InvalidGeoJSON(f"properties.{name}", "must be an ISO 8601 string")
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidGeoJSON(
            f"properties.{name}", f"{raw!r} is not an ISO 8601 timestamp"
        ) from None
    if dt.tzinfo is None:
        raise InvalidGeoJSON(
            f"properties.{name}", "naive timestamp: a UTC offset (e.g. Z) is required"
        )
    return dt


def volume_from_geojson(feature: Mapping[str, Any]) -> Volume4D:
    """A :class:`Volume4D` from a GeoJSON Feature (see module doc for the properties)."""
    footprint = footprint_from_geojson(feature)
    props = _properties(feature)
    altitude = _altitude(props)
    start, end = _time(props, "time_start"), _time(props, "time_end")
    try:
        window = TimeWindow(start, end)
    except InvalidVolume as exc:
        raise InvalidGeoJSON("properties.time_" + exc.field.split(".")[-1], exc.reason) from None
    return Volume4D(footprint, altitude, window)


def volume_to_geojson(volume: Volume4D) -> dict[str, Any]:
    """A GeoJSON Feature for a volume; :func:`volume_from_geojson` reads it back equal."""
    feature = footprint_to_geojson(volume.footprint)
    feature["properties"].update(
        {
            "altitude_lower_m": volume.altitude.lower_m,
            "altitude_upper_m": volume.altitude.upper_m,
            "altitude_reference": "WGS84",
            "time_start": _iso(volume.time.start),
            "time_end": _iso(volume.time.end),
        }
    )
    return feature
