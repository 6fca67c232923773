"""atheris: KML documents and KMZ archives (``interop.read_kml``)."""

import _harness
import atheris

with atheris.instrument_imports(include=["deconfliction"]):
    from deconfliction.errors import InvalidInput
    from deconfliction.interop import read_kml
from tests.fuzz import seeds


def check(data: bytes) -> None:
    _harness.expect((InvalidInput,), lambda: read_kml(data))


if __name__ == "__main__":
    _harness.run("kml", check, seeds.KML)
