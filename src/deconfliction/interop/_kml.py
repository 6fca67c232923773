"""KML and KMZ: activities' volumes and sites' footprints in and out, beside GeoJSON.

**Out** (:func:`activity_kml`, :func:`site_kml`, :func:`kmz`): a Document named after the
activity, one Placemark per volume with its ``TimeSpan``, its altitudes as an extruded
polygon (``absolute``: metres above the WGS84 ellipsoid, as the hub keeps them) and the
exact figures in ``ExtendedData`` (``altitude_lower_m``, ``altitude_upper_m``, and for a
circle ``radius_m`` beside its centre ``Point``: KML has no circles, so the polygon drawn is
a 72-gon for the eye and the read-back uses the centre and radius).

**In** (:func:`read_kml`): a ``.kml`` document or a ``.kmz`` archive (its first ``.kml``)
becomes a GeoJSON FeatureCollection the hub takes: each Polygon (or MultiGeometry of
Polygons) Placemark is a volume; a Point with ``radius_m`` a circle. Altitudes and times
come from ``ExtendedData`` (``altitude_lower_m|_ft|_fl``, ``altitude_upper_*``,
``time_start``, ``time_end``) or the ``TimeSpan``; what is missing is taken from
``defaults`` (e.g. the CLI's flags) or refused with the placemark's name and the reason.
The XML goes through defusedxml first (no DTD, no entities, no external references) and the
archive through a size cap, so a hostile file is an :class:`InvalidInput`, nothing more.
"""

from __future__ import annotations

import io
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, cast
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

with warnings.catch_warnings():  # "lxml missing": by design, the standard library's etree is used
    warnings.simplefilter("ignore", UserWarning)
    from fastkml import KML, Data, Document, ExtendedData, Placemark, TimeSpan
    from fastkml.containers import Folder
    from fastkml.enums import AltitudeMode
    from fastkml.geometry import MultiGeometry, Point, Polygon
    from fastkml.times import KmlDateTime
from pygeoif import geometry as geo
from pyproj import Geod

from deconfliction.errors import InvalidInput
from deconfliction.interop._units import METRES_PER

__all__ = ["MAX_KML_BYTES", "activity_kml", "kmz", "read_kml", "site_kml"]

MAX_KML_BYTES = 16 * 1024 * 1024
"""The largest KML document (or uncompressed KMZ member) read."""
_CIRCLE_SIDES = 72

_GEOD = Geod(ellps="WGS84")
_KEYS = (
    "altitude_lower_m",
    "altitude_upper_m",
    "altitude_lower_ft",
    "altitude_upper_ft",
    "altitude_lower_fl",
    "altitude_upper_fl",
    "radius_m",
    "time_start",
    "time_end",
)


# ------------------------------------------------------------------------------- out


def _data(values: Mapping[str, object]) -> ExtendedData:
    return ExtendedData(
        elements=[Data(name=k, value=str(v)) for k, v in values.items() if v is not None]
    )


def circle_ring(lon: float, lat: float, radius_m: float) -> list[tuple[float, float]]:
    az = [360.0 * i / _CIRCLE_SIDES for i in range(_CIRCLE_SIDES)]
    lons, lats, _ = _GEOD.fwd([lon] * len(az), [lat] * len(az), az, [radius_m] * len(az))
    ring = list(zip(lons, lats, strict=True))
    return [*ring, ring[0]]


def _time(iso: str | None) -> KmlDateTime | None:
    return None if not iso else KmlDateTime(datetime.fromisoformat(iso))


def _placemark(name: str, feature: Mapping[str, Any], extra: Mapping[str, object]) -> Placemark:
    """One volume (or a site's footprint) as a Placemark."""
    geometry = feature.get("geometry") or {}
    props: Mapping[str, Any] = feature.get("properties") or {}
    upper = props.get("altitude_upper_m")
    z = float(upper) if upper is not None else 0.0
    mode = AltitudeMode.absolute if upper is not None else AltitudeMode.clamp_to_ground
    if geometry.get("type") == "Point":
        lon, lat = (float(c) for c in geometry["coordinates"][:2])
        radius = float(props.get("radius_m", 0.0))
        ring = [(x, y, z) for x, y in circle_ring(lon, lat, radius)]
        kml_geometry: Any = MultiGeometry(
            kml_geometries=[
                Point(geometry=geo.Point(lon, lat)),
                Polygon(geometry=geo.Polygon(ring), altitude_mode=mode, extrude=True),
            ]
        )
    elif geometry.get("type") == "Polygon":
        outer = [(float(p[0]), float(p[1]), z) for p in geometry["coordinates"][0]]
        kml_geometry = Polygon(geometry=geo.Polygon(outer), altitude_mode=mode, extrude=True)
    else:
        raise InvalidInput("geometry.type", f"{geometry.get('type')!r} cannot be written as KML")
    values = {k: props.get(k) for k in ("altitude_lower_m", "altitude_upper_m", "radius_m")}
    values |= {k: props.get(k) for k in ("time_start", "time_end")}
    span = TimeSpan(begin=_time(props.get("time_start")), end=_time(props.get("time_end")))
    return Placemark(
        name=name,
        times=span if props.get("time_start") else None,
        extended_data=_data(values | dict(extra)),
        kml_geometry=kml_geometry,
    )


def _document(
    name: str, description: str, info: Mapping[str, object], marks: list[Placemark]
) -> str:
    doc = Document(name=name, description=description, extended_data=_data(info), features=marks)
    return KML(features=[doc]).to_string(prettyprint=False)


def activity_kml(activity: Mapping[str, Any]) -> str:
    """An activity (as the API shows it) as a KML document."""
    features = activity["volumes"]["features"]
    marks = [_placemark(f"volume {i + 1}", f, {}) for i, f in enumerate(features)]
    info = {
        k: activity.get(k) for k in ("id", "owner", "kind", "title", "priority", "state", "version")
    }
    text = f"{activity['kind']} by {activity['owner']}, state {activity['state']}"
    return _document(str(activity["title"]), text, info, marks)


def site_kml(site: Mapping[str, Any]) -> str:
    """A protected site (as the API shows it) as a KML document."""
    fp = site["footprint"]
    feature = fp if fp.get("type") == "Feature" else {"type": "Feature", "geometry": fp}
    props = dict(feature.get("properties") or {})
    props |= {
        "altitude_lower_m": site.get("altitude_lower_m"),
        "altitude_upper_m": site.get("altitude_upper_m"),
    }
    extra = {k: site.get(k) for k in ("valid_from", "valid_to", "category", "buffer_m")}
    mark = _placemark(str(site.get("name", "site")), {**feature, "properties": props}, extra)
    info = {k: site.get(k) for k in ("id", "owner", "name", "category", "version")}
    return _document(str(site.get("name", "site")), "protected site", info, [mark])


def kmz(kml_text: str) -> bytes:
    """A KMZ archive holding ``doc.kml``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("doc.kml", kml_text)
    return out.getvalue()


# ------------------------------------------------------------------------------- in


def _unzip(data: bytes, source: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = [i for i in z.infolist() if i.filename.lower().endswith(".kml")]
            if not members:
                raise InvalidInput(source, "the KMZ archive holds no .kml document")
            pick = next((i for i in members if i.filename.lower() == "doc.kml"), members[0])
            if pick.file_size > MAX_KML_BYTES:
                raise InvalidInput(source, f"{pick.filename} is over {MAX_KML_BYTES} bytes")
            with z.open(pick) as f:
                text = f.read(MAX_KML_BYTES + 1)  # the header's size may lie
    except InvalidInput:
        raise
    # A damaged archive fails in many ways besides BadZipFile: a negative seek (ValueError),
    # a broken deflate stream (zlib.error), a cut member (EOFError), an unknown compression
    # method (NotImplementedError), an encrypted member (RuntimeError).
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError,
            RuntimeError, OSError) as exc:  # fmt: skip
        raise InvalidInput(source, f"not a KMZ (zip) archive, or a damaged one: {exc}") from None
    if len(text) > MAX_KML_BYTES:
        raise InvalidInput(source, f"the KML document is over {MAX_KML_BYTES} bytes")
    return text


def _parse(data: bytes, source: str) -> Any:
    if len(data) > MAX_KML_BYTES:
        raise InvalidInput(source, f"over {MAX_KML_BYTES} bytes")
    if data[:2] == b"PK":
        data = _unzip(data, source)
    try:
        root: Element = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InvalidInput(source, f"refused XML: {type(exc).__name__}") from None
    except SafeET.ParseError as exc:
        raise InvalidInput(source, f"not well-formed XML: {exc}") from None
    # The XML declaration's encoding is looked up by Python: an unknown one raises
    # LookupError, a multi-byte one (EUC-JP…) or a broken codec ValueError.
    except (LookupError, ValueError) as exc:
        raise InvalidInput(source, f"unreadable XML declaration: {exc}") from None
    if not root.tag.endswith("kml"):
        raise InvalidInput(source, f"not a KML document (root element {root.tag!r})")
    ns = root.tag[:-3]
    try:
        return KML.class_from_element(
            ns=ns,
            name_spaces={"kml": ns} if ns else {},
            strict=False,
            element=cast(Any, root),  # a standard-library Element, as fastkml uses without lxml
        )
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise InvalidInput(source, f"not readable as KML: {exc}") from None


def _placemarks(container: Any) -> Iterator[Placemark]:
    for f in getattr(container, "features", None) or []:
        if isinstance(f, Placemark):
            yield f
        elif isinstance(f, Document | Folder):
            yield from _placemarks(f)


def _values(mark: Placemark) -> dict[str, str]:
    ed = mark.extended_data
    out: dict[str, str] = {}
    for d in getattr(ed, "elements", None) or []:
        if isinstance(d, Data) and d.name in _KEYS and d.value is not None:
            out[d.name] = d.value.strip()
    return out


def _number(name: str, key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{name}.{key}", f"{text!r} is not a number") from None


def _geometries(kml_geometry: Any) -> list[Any]:
    if isinstance(kml_geometry, MultiGeometry):
        return list(kml_geometry.kml_geometries)
    return [] if kml_geometry is None else [kml_geometry]


def _lonlat(coords: Any) -> list[list[float]]:
    return [[float(c[0]), float(c[1])] for c in coords]


def _features_of(mark: Placemark, index: int, defaults: Mapping[str, Any]) -> list[dict[str, Any]]:
    name = f"placemark {mark.name!r}" if mark.name else f"placemark {index}"
    values = _values(mark)
    props: dict[str, Any] = {}
    for key in _KEYS[:6]:
        if key in values:
            props[key] = _number(name, key, values[key])
    span = mark.times if isinstance(mark.times, TimeSpan) else None
    for key, kml_time in (("time_start", span and span.begin), ("time_end", span and span.end)):
        if key in values:
            props[key] = values[key]
        elif isinstance(kml_time, KmlDateTime):
            props[key] = kml_time.dt.isoformat()
    has_lower = any(k.startswith("altitude_lower") for k in props)
    has_upper = any(k.startswith("altitude_upper") for k in props)
    for key, value in defaults.items():
        if value is None:
            continue
        if (key.startswith("altitude_lower") and has_lower) or (
            key.startswith("altitude_upper") and has_upper
        ):
            continue
        props.setdefault(key, value)
    # One unit for both bounds whichever gave them (the placemark, the defaults): metres.
    for key in [k for k in props if k.startswith("altitude_") and not k.endswith("_m")]:
        bound, unit = key.rsplit("_", 1)
        props[f"{bound}_m"] = float(props.pop(key)) * METRES_PER[unit]
    parts = _geometries(mark.kml_geometry)
    points = [g for g in parts if isinstance(g, Point) and g.geometry is not None]
    polygons = [g for g in parts if isinstance(g, Polygon) and g.geometry is not None]
    if "radius_m" in values:
        if not points:
            raise InvalidInput(name, "has radius_m but no centre Point")
        radius = _number(name, "radius_m", values["radius_m"])
        centre = cast(geo.Point, points[0].geometry)
        geometry = {"type": "Point", "coordinates": [float(centre.x), float(centre.y)]}
        return [
            {"type": "Feature", "geometry": geometry, "properties": props | {"radius_m": radius}}
        ]
    if not polygons:
        raise InvalidInput(name, "has no Polygon (nor a Point with radius_m): nothing to declare")
    out = []
    for g in polygons:
        shape = cast(geo.Polygon, g.geometry)
        if list(shape.interiors):
            raise InvalidInput(name, "a polygon with holes cannot be declared: split it")
        ring = _lonlat(shape.exterior.coords)
        out.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": dict(props),
            }
        )
    return out


def read_kml(
    data: bytes, *, source: str = "kml", defaults: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A KML document or KMZ archive as a GeoJSON FeatureCollection of volumes, with the
    document's ``title`` (its name) and, when it says so, its ``kind`` and ``priority``."""
    kml = _parse(data, source)
    marks = list(_placemarks(kml))
    if not marks:
        raise InvalidInput(source, "no Placemark in the document")
    features: list[dict[str, Any]] = []
    for i, mark in enumerate(marks):
        features += _features_of(mark, i, defaults or {})
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    top = next((f for f in kml.features or [] if isinstance(f, Document | Folder)), None)
    if top is not None:
        if top.name:
            doc["title"] = top.name
        for d in getattr(top.extended_data, "elements", None) or []:
            if isinstance(d, Data) and d.name in ("kind", "priority") and d.value:
                doc[d.name] = d.value
    return doc
