"""atheris: SBS-1 (BaseStation) lines, one decoder over all the lines of an input."""

from uuid import UUID

import _harness
import atheris

with atheris.instrument_imports(include=["deconfliction"]):
    from deconfliction.interop import SbsDecoder
    from deconfliction.model import Track
from tests.fuzz import seeds


def check(data: bytes) -> None:
    d = SbsDecoder(UUID(int=5))
    for line in data.split(b"\n"):
        out = d.feed(line)  # a report, a reason or None: it never raises
        assert out is None or isinstance(out, Track | str), out


if __name__ == "__main__":
    _harness.run("sbs", check, ["\n".join(seeds.SBS_LINES).encode()])
