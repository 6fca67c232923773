"""RFC 8785 canonical JSON: the RFC's own examples, and agreement with the rfc8785 package."""

from __future__ import annotations

import json
import math
import random
import struct

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.audit import canonical
from deconfliction.audit._canonical import _NotPlain, _plain, loads, loads_canonical
from deconfliction.errors import InvalidInput
from tests.audit.strategies import json_values


def test_rfc8785_section_3_2_2_example() -> None:
    value = json.loads(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical(value) == expected.encode("utf-8")


def test_rfc8785_section_3_2_3_sorting_by_utf16_code_units() -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    order = list(json.loads(canonical(value)))
    # U+1F600 is the surrogate pair D83D DE00, so it sorts before U+FB33 (a code-point
    # sort would put it last)
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert sorted(value) != order


# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text
NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "text"), NUMBERS)
def test_rfc8785_appendix_b_numbers(bits: str, text: str) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(bits))
    assert canonical(number) == text.encode()
    assert canonical([number]) == f"[{text}]".encode()


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        -math.inf,
        2**53,
        -(2**53),
        "\ud800",
        {1: "x"},
        {"a": {1, 2}},
        b"bytes",
    ],
)
def test_values_json_cannot_hold_exactly_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput, match="payload: not representable"):
        canonical(value, "payload")


def test_deep_nesting_is_refused_not_crashing() -> None:
    value: list[object] = []
    for _ in range(5000):
        value = [value]
    with pytest.raises(InvalidInput):
        canonical(value)


def test_escapes_control_characters_only() -> None:
    assert canonical('\x00\x1f\x7f\u2028é"\\') == '"\\u0000\\u001f\x7f\u2028é\\"\\\\"'.encode()


def test_fast_path_is_taken_for_plain_values() -> None:
    plain = {"a": [1, "x", True, None, 2.5, {"b": -(2**53 - 1)}]}
    assert _plain(plain) == plain
    ints = _plain({"a": 1.0, "b": -0.0, "c": [3000.0]})  # integral floats: JCS writes "1"
    assert ints == {"a": 1, "b": 0, "c": [3000]}
    assert all(type(v) is int for v in (ints["a"], ints["b"], ints["c"][0]))  # type: ignore[index]
    for odd in (
        {"a": 1e-5},  # repr uses an exponent JCS does not
        {"a": 2.0**53},  # integral beyond the safe integers
        {"é": 1},  # non-ASCII key: JCS sorts by UTF-16 code units
        {"a": (1, 2)},
    ):
        with pytest.raises(_NotPlain):
            _plain(odd)


def test_fast_path_floats_agree_with_the_reference_implementation() -> None:
    # the fast path writes non-integral floats in [1e-4, 1e16) with orjson: its digits
    # must be ECMAScript's at every magnitude of that range, from every bit pattern
    rng = random.Random(8785)
    values = []
    while len(values) < 20_000:
        (x,) = struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))
        if not math.isfinite(x) or x.is_integer() or not 1e-4 <= abs(x) < 1e16:
            x = rng.uniform(-10, 10) * 10.0 ** rng.randint(-4, 15)
        if not x.is_integer() and 1e-4 <= abs(x) < 1e16:
            values.append(x)
    assert _plain(values) == values  # all of them take the fast path
    assert canonical(values) == rfc8785.dumps(values)


@given(json_values)
def test_agrees_with_the_reference_implementation(value: object) -> None:
    assert canonical(value) == rfc8785.dumps(value)


@given(json_values)
def test_round_trips(value: object) -> None:
    text = canonical(value)
    assert loads(text) == value
    assert canonical(loads(text)) == text


def test_large_integral_floats_read_back_as_floats() -> None:
    text = canonical({"big": 1e20, "edge": float(2**53), "small": 2**53 - 1})
    assert text == b'{"big":100000000000000000000,"edge":9007199254740992,"small":9007199254740991}'
    assert loads(text) == {"big": 1e20, "edge": float(2**53), "small": 2**53 - 1}
    assert canonical(loads(text)) == text


# -- loads_canonical: proves bytes canonical, or leaves it to the full check -------------------


def _is_canonical(text: bytes) -> bool:
    try:
        return canonical(loads(text)) == text
    except (ValueError, UnicodeDecodeError, InvalidInput):
        return False


@pytest.mark.parametrize(
    "text",
    [
        b'{"a":[1,2.5,"x",true,null],"b":{"c":-3}}',
        b'"tab\\there, quote \\" and backslash \\\\"',
        b'"\\u001f"',
        '{"z":"\u2028","é":"Zürich"}'.encode(),
        b"0.0001",
        b"9007199254740991",
    ],
)
def test_loads_canonical_proves_plain_canonical_text(text: bytes) -> None:
    assert _is_canonical(text)
    assert loads_canonical(text) == loads(text)


@pytest.mark.parametrize(
    "text",
    [
        b"1e-05",  # repr's spelling; JCS writes 0.00001
        b"1e-7",  # canonical, but outside the range json.dumps writes as JCS does
        b"100.0",  # JCS writes 100
        b"-0",
        b"-0.0",
        b"1.50",
        b"1E+2",
        b"NaN",
        b"Infinity",
        b"9007199254740993",  # beyond 2**53: the double is ...992
        b"100000000000000000000",  # canonical (the double 1e20), not provably so here
        b'{"a":1,"a":1}',
        b'{"b":1,"a":1}',
        b' {"a":1}',
        b'{"a":1} ',
        b'{"a": 1}',
        b'"\\u00e9"',
        b'"\\u0041"',
        b'"\\/"',
        b'"\\u0009"',
        b'"\\ud800"',
        b'"\xed\xa0\x80"',  # a surrogate in UTF-8: not UTF-8
        b'"\xff"',
        '{"\ue000":1,"\U0001f600":2}'.encode(),  # code point order, not UTF-16's
        '{"\U0001f600":2,"\ue000":1}'.encode(),  # UTF-16 order: canonical, left to rfc8785
        b"[1,2",
        b"",
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_loads_canonical_never_proves_what_it_cannot(text: bytes) -> None:
    doc = loads_canonical(text)
    assert doc is None, text
    # what it leaves undecided, the full check decides (some of these are canonical)


@given(
    json_values,
    st.booleans(),
    st.booleans(),
    st.sampled_from([(",", ":"), (", ", ": "), (",", ": ")]),
)
def test_loads_canonical_proves_only_canonical_text(
    value: object, sort_keys: bool, ensure_ascii: bool, separators: tuple[str, str]
) -> None:
    """Whatever JSON text it is given, a proof means canonical(loads(text)) == text."""
    text = json.dumps(
        value, sort_keys=sort_keys, ensure_ascii=ensure_ascii, separators=separators
    ).encode("utf-8")
    doc = loads_canonical(text)
    if doc is not None:
        assert _is_canonical(text)
        assert doc == loads(text)


@given(json_values)
def test_loads_canonical_reads_back_what_canonical_writes(value: object) -> None:
    text = canonical(value)
    doc = loads_canonical(text)
    assert doc is None or doc == loads(text)
    if isinstance(value, dict | list) and _plain_text(text):
        assert doc is not None  # plain values take the fast road


def _plain_text(text: bytes) -> bool:
    """ASCII text with no float and no integer beyond what JCS holds exactly."""
    try:
        return text.isascii() and _plain(loads(text)) == loads(text) and b"." not in text
    except _NotPlain:
        return False
