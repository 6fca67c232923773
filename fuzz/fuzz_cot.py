"""atheris: Cursor-on-Target events (``parse_event``, ``track_of``, ``shape_of``) and the
stream splitter (the input cut in pieces)."""

from uuid import UUID

import _harness
import atheris

with atheris.instrument_imports(include=["deconfliction"]):
    from deconfliction.errors import InvalidInput
    from deconfliction.interop import CotEvent, CotSplitter, parse_event, shape_of, track_of
from tests.fuzz import seeds

PARTY = UUID(int=5)


def check(data: bytes) -> None:
    event = _harness.expect((InvalidInput,), lambda: parse_event(data))
    if isinstance(event, CotEvent):
        _harness.expect((InvalidInput,), lambda: track_of(event, PARTY))
        _harness.expect((InvalidInput,), lambda: shape_of(event))
    splitter = CotSplitter(max_event=512)
    step = 1 + (data[0] if data else 0)
    for i in range(0, len(data), step):
        for chunk in splitter.feed(data[i : i + step]):
            assert 0 < len(chunk) <= 512, chunk
            assert chunk.endswith(b"</event>"), chunk


if __name__ == "__main__":
    _harness.run("cot", check, [*seeds.COT_EVENTS, b"\n".join(seeds.COT_EVENTS)])
