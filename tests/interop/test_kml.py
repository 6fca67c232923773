"""KML/KMZ in and out: round trips (property-tested), documents as other tools write them,
and hostile or malformed input refused with the reason."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.errors import InvalidInput
from deconfliction.geo import volume_from_geojson
from deconfliction.interop import MAX_KML_BYTES, activity_kml, kmz, read_kml, site_kml

T0, T1 = "2026-11-26T10:00:00Z", "2026-11-26T11:00:00Z"


def _activity(*features: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "a1",
        "owner": "o1",
        "kind": "hazard",
        "title": "Range <day> & night",
        "priority": "priority",
        "state": "notified",
        "version": 2,
        "volumes": {"type": "FeatureCollection", "features": list(features)},
    }


def _polygon(ring: list[list[float]], lower: float = 0.0, upper: float = 1500.0) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "altitude_lower_m": lower,
            "altitude_upper_m": upper,
            "time_start": T0,
            "time_end": T1,
        },
    }


def _circle(lon: float, lat: float, r: float) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "radius_m": r,
            "altitude_lower_m": 100.0,
            "altitude_upper_m": 900.0,
            "time_start": T0,
            "time_end": T1,
        },
    }


SQUARE = [[2.0, 49.0], [2.1, 49.0], [2.1, 49.1], [2.0, 49.1], [2.0, 49.0]]


def test_an_activity_round_trips_through_kml_and_kmz() -> None:
    a = _activity(_polygon(SQUARE), _circle(2.5, 49.5, 5000.0))
    for data in (activity_kml(a).encode(), kmz(activity_kml(a))):
        doc = read_kml(data)
        assert doc["title"] == "Range <day> & night"
        assert (doc["kind"], doc["priority"]) == ("hazard", "priority")
        assert [f["geometry"] for f in doc["features"]] == [
            f["geometry"] for f in a["volumes"]["features"]
        ]
        for got, want in zip(doc["features"], a["volumes"]["features"], strict=True):
            assert volume_from_geojson(got) == volume_from_geojson(want)


def test_a_site_round_trips() -> None:
    site = {
        "id": "s1",
        "owner": "o1",
        "name": "Field hospital",
        "category": "medical",
        "version": 1,
        "footprint": {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [2.3, 49.9]},
            "properties": {"radius_m": 400},
        },
        "altitude_lower_m": 0.0,
        "altitude_upper_m": 100000.0,
        "buffer_m": 0.0,
        "valid_from": T0,
        "valid_to": T1,
    }
    doc = read_kml(site_kml(site).encode())
    (f,) = doc["features"]
    assert f["geometry"] == {"type": "Point", "coordinates": [2.3, 49.9]}
    assert f["properties"]["radius_m"] == 400
    assert doc["title"] == "Field hospital"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-179.9, 179.9), st.floats(-89.9, 89.9)),
        min_size=3,
        max_size=12,
        unique=True,
    ),
    st.floats(0, 20_000),
)
def test_coordinates_and_altitudes_survive_exactly(
    points: list[tuple[float, float]], upper: float
) -> None:
    ring = [[x, y] for x, y in points] + [[points[0][0], points[0][1]]]
    doc = read_kml(activity_kml(_activity(_polygon(ring, 0.0, upper))).encode())
    (f,) = doc["features"]
    assert f["geometry"]["coordinates"] == [ring]
    assert f["properties"]["altitude_upper_m"] == upper


GOOGLE_EARTH = b"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Exercise areas</name>
<Folder><name>North</name>
<Placemark><name>Box A</name>
<TimeSpan><begin>2026-11-26T10:00:00Z</begin><end>2026-11-26T12:00:00Z</end></TimeSpan>
<Polygon><outerBoundaryIs><LinearRing><coordinates>
2.0,49.0,0 2.1,49.0,0 2.1,49.1,0 2.0,49.1,0 2.0,49.0,0
</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
<Placemark><name>Box B</name>
<ExtendedData><Data name="altitude_lower_fl"><value>50</value></Data>
<Data name="altitude_upper_fl"><value>95</value></Data></ExtendedData>
<TimeSpan><begin>2026-11-26T10:00:00Z</begin><end>2026-11-26T12:00:00Z</end></TimeSpan>
<MultiGeometry><Polygon><outerBoundaryIs><LinearRing><coordinates>
3.0,49.0 3.1,49.0 3.1,49.1 3.0,49.0</coordinates></LinearRing></outerBoundaryIs></Polygon>
<Polygon><outerBoundaryIs><LinearRing><coordinates>
4.0,49.0 4.1,49.0 4.1,49.1 4.0,49.0</coordinates></LinearRing></outerBoundaryIs></Polygon>
</MultiGeometry></Placemark>
</Folder></Document></kml>"""


def test_a_document_as_drawing_tools_write_it_needs_altitudes_from_somewhere() -> None:
    with pytest.raises(InvalidInput) as err:
        volume_from_geojson(read_kml(GOOGLE_EARTH)["features"][0])
    assert "altitude" in err.value.field
    doc = read_kml(GOOGLE_EARTH, defaults={"altitude_lower_ft": 0, "altitude_upper_ft": 5000})
    assert doc["title"] == "Exercise areas"
    assert len(doc["features"]) == 3  # Box A, and Box B's two polygons
    a, b1, b2 = (volume_from_geojson(f) for f in doc["features"])
    assert round(a.altitude.upper_m) == 1524  # the default
    assert round(b1.altitude.lower_m) == round(b2.altitude.lower_m) == 1524  # FL50: its own
    assert round(b1.altitude.upper_m) == 2896


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&c;</name></Placemark></kml>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name></Placemark></kml>"""


def _zip(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BOMB, "refused XML"),
        (XXE, "refused XML"),
        (b"<kml><Placemark>", "not well-formed"),
        (b"<gpx xmlns='x'/>", "not a KML document"),
        (b"<kml xmlns='http://www.opengis.net/kml/2.2'><Document/></kml>", "no Placemark"),
        (b"PK\x03\x04 not really a zip", "not a KMZ"),
        (_zip("readme.txt", b"hello"), "no .kml document"),
        (_zip("doc.kml", b" " * (MAX_KML_BYTES + 1)), "over"),
        (b" " * (MAX_KML_BYTES + 1), "over"),
    ],
)
def test_hostile_or_malformed_input_is_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        read_kml(data, source="upload.kml")


def _damaged(offset: int, value: int) -> bytes:
    """A valid KMZ with one byte set to ``value`` (``offset`` from the end if negative)."""
    data = bytearray(
        _zip("doc.kml", b"<kml xmlns='http://www.opengis.net/kml/2.2'>" + b" " * 200 + b"</kml>")
    )
    data[offset] = value
    return bytes(data)


@pytest.mark.regression
@pytest.mark.parametrize(
    "data",
    [
        _damaged(-6, 0xFF),  # central directory offset past the start: "negative seek value"
        _damaged(-3, 0x7F),
        _damaged(45, 0xFF),  # the deflate stream: zlib.error
    ],
)
def test_a_damaged_kmz_is_refused_not_crashed(data: bytes) -> None:
    """Found by fuzzing (tests/fuzz): a damaged archive raised ValueError or zlib.error."""
    with pytest.raises(InvalidInput, match="not a KMZ"):
        read_kml(data, source="upload.kmz")


@pytest.mark.regression
@pytest.mark.parametrize("encoding", ["UTF-9", "hex", "EUC-JP", "idna"])
def test_an_unreadable_xml_declaration_is_refused_not_crashed(encoding: str) -> None:
    """Found by fuzzing (fuzz/fuzz_cot.py): LookupError or ValueError from the codec."""
    doc = f'<?xml version="1.0" encoding="{encoding}"?><kml xmlns="x"/>'.encode()
    with pytest.raises(InvalidInput, match="unreadable XML declaration"):
        read_kml(doc)


def test_shapes_the_hub_cannot_declare_are_refused_by_placemark() -> None:
    holes = GOOGLE_EARTH.replace(
        b"</outerBoundaryIs></Polygon></Placemark>",
        b"</outerBoundaryIs><innerBoundaryIs><LinearRing><coordinates>2.02,49.02 2.05,49.02 "
        b"2.05,49.05 2.02,49.02</coordinates></LinearRing></innerBoundaryIs></Polygon></Placemark>",
        1,
    )
    with pytest.raises(InvalidInput, match="holes"):
        read_kml(holes)
    line = b"<kml xmlns='http://www.opengis.net/kml/2.2'><Placemark><name>Road</name><LineString><coordinates>1,2 3,4</coordinates></LineString></Placemark></kml>"
    with pytest.raises(InvalidInput, match=r"placemark 'Road'.*no Polygon"):
        read_kml(line)
    radius_only = b"<kml xmlns='http://www.opengis.net/kml/2.2'><Placemark><ExtendedData><Data name='radius_m'><value>x</value></Data></ExtendedData><Point><coordinates>1,2</coordinates></Point></Placemark></kml>"
    with pytest.raises(InvalidInput, match="not a number"):
        read_kml(radius_only)
