"""atheris: GeoJSON volumes and footprints (``geo``), and the API's conversion of a
filing (pydantic ``ActivityIn`` then ``draft_from``)."""

import json

import _harness
import atheris

with atheris.instrument_imports(include=["deconfliction"]):
    from pydantic import ValidationError

    from deconfliction.api._convert import draft_from
    from deconfliction.api._schemas import ActivityIn
    from deconfliction.errors import DeconflictionError
    from deconfliction.geo import footprint_from_geojson, volume_from_geojson
from tests.fuzz import seeds


def check(data: bytes) -> None:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return
    _harness.expect((DeconflictionError,), lambda: volume_from_geojson(doc))
    _harness.expect((DeconflictionError,), lambda: footprint_from_geojson(doc))
    body = {**seeds.activity_body(), "volumes": {"type": "FeatureCollection", "features": [doc]}}
    parsed = _harness.expect((ValidationError,), lambda: ActivityIn.model_validate(body))
    if isinstance(parsed, ActivityIn):
        _harness.expect((DeconflictionError,), lambda: draft_from(parsed))


if __name__ == "__main__":
    _harness.run("geojson", check, [json.dumps(f).encode() for f in seeds.FEATURES])
