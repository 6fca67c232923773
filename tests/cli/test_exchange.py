"""``activity file X.kml``, ``activity export`` and ``activity notam`` against a real hub,
and the KML routes' need-to-know."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deconfliction.geo import volume_from_geojson
from deconfliction.interop import read_kml

# Far from every other CLI test's places (the demo files are over northern France).
KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Island survey</name>
<Placemark><name>Survey box</name>
<TimeSpan><begin>2026-01-01T10:00:00Z</begin><end>2026-01-01T12:00:00Z</end></TimeSpan>
<Polygon><outerBoundaryIs><LinearRing><coordinates>
140.0,-30.0 140.1,-30.0 140.1,-29.9 140.0,-29.9 140.0,-30.0
</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
</Document></kml>
"""


def test_a_kml_file_is_filed_exported_and_drafted_as_a_notam(as_party: Any, tmp_path: Path) -> None:
    src = tmp_path / "survey.kml"
    src.write_text(KML, encoding="utf-8")
    # Its placemark gives no altitudes: a one-line error says so, nothing is sent.
    r = as_party("Green", "activity", "file", str(src), "--kind", "flight", "--start-in", "3h")
    assert r.code != 0
    assert "altitude" in r.err
    assert len(r.err.strip().splitlines()) == 1
    r = as_party(
        "Green",
        "activity",
        "file",
        str(src),
        "--kind",
        "flight",
        "--start-in",
        "3h",
        "--lower",
        "SFC",
        "--upper",
        "FL95",
        "--json",
    )
    assert r.code == 0, r.err
    filed = json.loads(r.out)["activity"]
    assert filed["title"] == "Island survey"
    (vol,) = filed["volumes"]["features"]
    assert round(vol["properties"]["altitude_upper_m"]) == 2896  # FL95

    # Export as KMZ and GeoJSON: both read back to the same volume.
    for name in ("out.kmz", "out.geojson"):
        r = as_party("Green", "activity", "export", filed["id"], "--out", str(tmp_path / name))
        assert r.code == 0, r.err
        data = (tmp_path / name).read_bytes()
        doc = read_kml(data) if name.endswith(".kmz") else json.loads(data)
        assert volume_from_geojson(doc["features"][0]) == volume_from_geojson(vol)
    r = as_party("Green", "activity", "file", str(tmp_path / "out.geojson"), "--dry-run")
    assert r.code == 0, r.err
    r = as_party("Green", "activity", "export", filed["id"], "--out", str(tmp_path / "x.txt"))
    assert r.code != 0
    assert "suffix" in r.err

    r = as_party("Green", "activity", "notam", filed["id"], "--fir", "YMMM")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith("(X0000/")
    assert lines[1].startswith("Q) YMMM/QWELW/IV/BO/W/000/095/")
    assert "(ISLAND SURVEY) WI AREA 300000S1400000E-300000S1400600E-" in r.out
    assert lines[-1] == "F) SFC G) 9500FT AMSL)"
    r = as_party("Green", "activity", "notam", filed["id"], "--fir", "YM")
    assert r.code != 0
    assert "fir" in r.err


def test_kml_routes_keep_need_to_know(hub: Any, as_party: Any) -> None:
    with hub.http(hub.tokens["Green"]) as green, hub.http(hub.tokens["Red"]) as red:
        site = {
            "name": "Island clinic",
            "category": "medical",
            "footprint": {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [141.0, -31.0]},
                "properties": {"radius_m": 300},
            },
            "valid_from": "2026-01-01T00:00:00Z",
            "valid_to": "2030-01-01T00:00:00Z",
        }
        r = green.post("/v1/sites", json=site)
        assert r.status_code == 201, r.text
        sid = r.json()["site"]["id"]
        kml = green.get(f"/v1/sites/{sid}/kml")
        assert kml.status_code == 200
        assert kml.headers["content-type"].startswith("application/vnd.google-earth.kml+xml")
        assert read_kml(kml.content)["features"][0]["properties"]["radius_m"] == 300
        assert green.get(f"/v1/sites/{sid}/kmz").content[:2] == b"PK"
        assert red.get(f"/v1/sites/{sid}/kml").status_code == 404  # not Red's to know
        assert red.get(f"/v1/sites/{sid}/kmz").status_code == 404
