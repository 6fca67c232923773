"""Property tests: whatever a feed sends, a parser answers with reports, reasons, or the
project's InvalidInput — never another exception."""

from __future__ import annotations

import contextlib
import json
from io import StringIO
from typing import Any
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from deconfliction.errors import InvalidInput
from deconfliction.interop import (
    SbsDecoder,
    iter_json_array,
    parse_aircraft_json,
    parse_opensky_states,
    track_from_sample,
)
from deconfliction.model import Track

PARTY = UUID(int=11)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
#: values a field may plausibly hold, and ways it may be wrong
field_values = st.one_of(
    json_scalars,
    st.floats(-200, 200),
    st.integers(-5_000, 200_000),
    st.sampled_from(["ground", "4ca1f3", "~1a2b3c", "RYR12AB ", "", "1e999", "-1", "0"]),
)


def outcome_ok(out: object) -> bool:
    return out is None or isinstance(out, Track | str)


# --- SBS ------------------------------------------------------------------------------------

sbs_fields = st.one_of(
    st.sampled_from(["", "0", "-1", "1", "3", "4CA1F3", "~AB12CD", "2021/10/07", "12:00:00.000",
                     "36000", "450", "90", "48.85", "2.35", "-1280", "nan", "inf", "-inf", "x"]),
    st.text(alphabet=st.characters(blacklist_characters=",\n"), max_size=8),
    st.floats(allow_nan=True).map(str),
)  # fmt: skip


@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_sbs_arbitrary_lines_never_raise(line: str | bytes) -> None:
    assert outcome_ok(SbsDecoder(PARTY).feed(line))


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["MSG", "SEL", "CLK", "MSG", "MSG", "BAD"]),
            st.lists(sbs_fields, min_size=0, max_size=24),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_sbs_structured_noise_never_raises(lines: list[tuple[str, list[str]]]) -> None:
    d = SbsDecoder(PARTY)
    for kind, fields in lines:
        assert outcome_ok(d.feed(",".join([kind, *fields])))


# --- JSON documents -------------------------------------------------------------------------


@given(st.one_of(st.binary(max_size=300), st.text(max_size=300), json_values.map(json.dumps)))
def test_json_feeds_arbitrary_documents_raise_only_invalid_input(data: str | bytes) -> None:
    for parse in (parse_aircraft_json, parse_opensky_states):
        try:
            result = parse(data, PARTY)
        except InvalidInput:
            continue
        assert all(isinstance(r, Track) for r in result.accepted)


aircraft_keys = st.sampled_from(
    ["hex", "flight", "lat", "lon", "alt_baro", "alt_geom", "gs", "track", "baro_rate",
     "geom_rate", "seen_pos", "seen", "altitude", "speed", "vert_rate"]
)  # fmt: skip


@given(
    st.one_of(field_values, st.floats(0, 2e9)),
    st.lists(st.one_of(json_values, st.dictionaries(aircraft_keys, field_values)), max_size=8),
)
def test_aircraft_json_items_are_taken_or_rejected_one_by_one(now: Any, items: list[Any]) -> None:
    doc = json.dumps({"now": now, "aircraft": items})
    try:
        result = parse_aircraft_json(doc, PARTY)
    except InvalidInput:
        return
    seen = {r.index for r in result.rejected}
    assert len(seen) == len(result.rejected)
    assert len(result.accepted) + len(result.rejected) + result.skipped == len(items)


@given(
    st.lists(st.one_of(json_values, st.lists(field_values, min_size=16, max_size=18)), max_size=8)
)
def test_opensky_states_are_taken_or_rejected_one_by_one(states: list[Any]) -> None:
    result = parse_opensky_states(json.dumps({"time": 1, "states": states}), PARTY)
    assert len(result.accepted) + len(result.rejected) + result.skipped == len(states)


sample_keys = st.sampled_from(
    ["timestamp", "icao24", "callsign", "latitude", "longitude", "altitude", "groundspeed",
     "track", "vertical_rate", "onground"]
)  # fmt: skip


@given(
    st.one_of(
        json_values,
        st.dictionaries(sample_keys, st.one_of(field_values, st.integers(0, 4 * 10**12))),
    )
)
def test_sample_records_never_raise(record: Any) -> None:
    out = track_from_sample(record, PARTY)
    assert isinstance(out, Track | str)


@given(st.text(max_size=200), st.integers(1, 16))
def test_the_streaming_reader_raises_only_invalid_input(text: str, chunk: int) -> None:
    with contextlib.suppress(InvalidInput):
        list(iter_json_array(StringIO(text), chunk=chunk))


@given(st.lists(json_values, max_size=10), st.integers(1, 16), st.integers(0, 3))
def test_the_streaming_reader_equals_json_loads(items: list[Any], chunk: int, indent: int) -> None:
    text = json.dumps(items, indent=indent or None)
    got = list(iter_json_array(StringIO(text), chunk=chunk))
    assert json.dumps(got) == json.dumps(json.loads(text))  # NaN-safe comparison
