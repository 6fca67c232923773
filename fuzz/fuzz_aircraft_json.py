"""atheris: readsb/dump1090 ``aircraft.json`` documents."""

from uuid import UUID

import _harness
import atheris

with atheris.instrument_imports(include=["deconfliction"]):
    from deconfliction.errors import InvalidInput
    from deconfliction.interop import parse_aircraft_json
from tests.fuzz import seeds


def check(data: bytes) -> None:
    _harness.expect((InvalidInput,), lambda: parse_aircraft_json(data, UUID(int=5)))


if __name__ == "__main__":
    _harness.run("aircraft_json", check, [t.encode() for t in seeds.JSON_TEXTS])
