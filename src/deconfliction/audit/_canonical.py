"""Canonical JSON: the RFC 8785 JSON Canonicalization Scheme (JCS), as UTF-8 bytes.

The ``rfc8785`` package (Trail of Bits; pure Python, typed) is the reference
implementation. Most ledger values are plain — ASCII keys, strings, safe integers, booleans,
null, floats that are integral (written as integers) or non-integral between 1e-4 and 1e16
— and for those ``orjson`` with sorted keys writes exactly the same bytes (no whitespace;
strings with only ``"``, ``\\`` and controls escaped, as JCS does; such floats in their
shortest round-trip digits, as ECMAScript writes them) many times faster, so
:func:`canonical` takes that path when a quick walk shows the value is plain (making
integral floats ints on the way), and hands everything else (other floats, non-ASCII keys,
which JCS sorts by UTF-16 code units, strings with lone surrogates) to ``rfc8785``. A
property test checks the two agree.

Reading goes the other way: :func:`loads_canonical` parses bytes and, for plain values,
proves with one C parse and one C write that they are already canonical (what a verifier must know of every
entry body), or says it cannot tell and leaves the full check to
``canonical(loads(data)) == data``.

>>> canonical({"b": [1, True, None], "a": "é\\n"}).decode()
'{"a":"é\\\\n","b":[1,true,null]}'
>>> canonical({"n": 100.0, "m": 1e21, "s": 1e-7}).decode()
'{"m":1e+21,"n":100,"s":1e-7}'
>>> canonical({"x": float("nan")})
Traceback (most recent call last):
...
deconfliction.errors.InvalidInput: value: not representable in canonical JSON: nan is not representable in JCS
"""

from __future__ import annotations

import json
from json.scanner import make_scanner
from typing import Any

import orjson
import rfc8785

from deconfliction.errors import InvalidInput

__all__ = ["MAX_SAFE_INTEGER", "JsonValue", "canonical", "loads", "loads_canonical"]

JsonValue = Any
"""A JSON value built from dict (str keys), list, str, int, float, bool and None."""

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer JSON numbers (IEEE 754 doubles) hold exactly; JCS refuses larger."""


class _NotPlain(Exception):
    """A value the fast path cannot write exactly as JCS does."""


_SCALARS = frozenset((str, bool, type(None)))
"""Types :func:`_plain` keeps as they are without a look (checked inline: most values)."""


def _plain(value: object) -> object:
    """``value`` made ready for ``orjson`` to write exactly what JCS writes, or raise
    :class:`_NotPlain`. Integral floats within ±(2⁵³−1) become ints (JCS writes ``100.0``
    and ``-0.0`` as ``100`` and ``0``, like the int); other floats must be non-integral in
    [1e-4, 1e16), where repr() and ECMAScript give the same shortest round-trip digits."""
    kind = type(value)
    if kind is dict:
        try:  # every key a string, all of them ASCII (one C call)
            if not "".join(value).isascii():  # type: ignore[arg-type]
                raise _NotPlain
        except TypeError:
            raise _NotPlain from None
        return {
            k: v if type(v) in _SCALARS else _plain(v)
            for k, v in value.items()  # type: ignore[attr-defined]
        }
    if kind is list:
        return [v if type(v) in _SCALARS else _plain(v) for v in value]  # type: ignore[attr-defined]
    if kind is int:
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:  # type: ignore[operator]
            raise _NotPlain
        return value
    if kind is float:
        magnitude: float = abs(value)  # type: ignore[arg-type]
        if magnitude.is_integer():
            if magnitude > MAX_SAFE_INTEGER:
                raise _NotPlain
            return int(value)  # type: ignore[call-overload]
        if not 1e-4 <= magnitude < 1e16:
            raise _NotPlain
        return value
    if kind in _SCALARS:
        return value
    raise _NotPlain


_NOT_PLAIN = object()


def canonical(value: JsonValue, field: str = "value") -> bytes:
    """``value`` as RFC 8785 canonical JSON (UTF-8 bytes).

    Raises :class:`~deconfliction.errors.InvalidInput` naming ``field`` for what JSON
    cannot hold exactly: NaN or infinite floats, integers beyond ±(2⁵³−1), strings with
    lone surrogates, non-string keys, other types.
    """
    try:
        try:
            ready = _plain(value)
        except (_NotPlain, RecursionError):
            ready = _NOT_PLAIN
        if ready is not _NOT_PLAIN:
            try:
                return orjson.dumps(ready, option=orjson.OPT_SORT_KEYS)
            except orjson.JSONEncodeError:
                pass  # a lone surrogate, or nested too deep for orjson: let rfc8785 decide
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, RecursionError) as exc:
        raise InvalidInput(field, f"not representable in canonical JSON: {exc}") from exc


def _number(text: str) -> int | float:
    value = int(text)
    return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else float(text)


def loads(data: bytes | str) -> JsonValue:
    """Parse JSON as JCS reads numbers: an integer beyond ±(2⁵³−1) is the double it
    denotes (canonical JSON writes the float 1e20 as ``100000000000000000000``).

    >>> loads("[100000000000000000000, 7]")
    [1e+20, 7]
    >>> canonical(loads(canonical(1e20))) == canonical(1e20)
    True
    """
    return _DECODER.decode(data.decode("utf-8") if isinstance(data, bytes) else data)


_DECODER = json.JSONDecoder(parse_int=_number)


def _plain_float(text: str) -> float:
    """``parse_float`` of :data:`_PLAIN_DECODER`: only floats :func:`json.dumps` writes as JCS."""
    value = float(text)
    magnitude = abs(value)
    if magnitude.is_integer() or not 1e-4 <= magnitude < 1e16:
        raise _NotPlain
    return value


def _no_constant(text: str) -> object:
    raise _NotPlain  # NaN, Infinity, -Infinity: not JSON


_PLAIN_SCAN = make_scanner(
    json.JSONDecoder(parse_int=_number, parse_float=_plain_float, parse_constant=_no_constant)  # type: ignore[arg-type]
)
"""Parses one JSON value at an index: (value, end), StopIteration if there is none."""

_ENCODE = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), check_circular=False
).encode
"""The standard library's writer with JCS's separators and key order, built once (parsed
JSON has no cycles): for plain values it writes what :func:`canonical` writes, as text."""


def loads_canonical(data: bytes) -> JsonValue | None:
    """``data`` parsed, when it is provably RFC 8785 canonical JSON; None when this quick
    check cannot tell (``data`` may still be canonical: decide with
    ``canonical(loads(data)) == data``).

    The proof: ``data`` is UTF-8 with no character beyond the BMP (so key order by code
    point, :func:`json.dumps`'s, is JCS's order by UTF-16 code units), every number in it
    is one that JCS and ``json.dumps`` write alike (a safe integer, or a non-integral
    float in [1e-4, 1e16)), and ``json.dumps`` writes the parsed value back character for
    character. Whitespace, key order, duplicate keys, escapes (JCS escapes only ``"``,
    ``\\`` and controls, as ``json.dumps`` does) and number spellings that JCS would
    write otherwise all change the text.

    >>> loads_canonical(b'{"a":[1,2.5,"x"],"b":null}')
    {'a': [1, 2.5, 'x'], 'b': None}
    >>> loads_canonical(b'{"b":1,"a":2}') is None  # keys out of order: not canonical
    True
    >>> loads_canonical(b'{"x":1e-7}') is None  # canonical, but not provably so here
    True
    """
    try:
        text = data.decode("ascii") if data.isascii() else data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text.isascii() and max(text) > "\uffff":
        return None
    try:
        doc, end = _PLAIN_SCAN(text, 0)
    except (StopIteration, ValueError, _NotPlain, RecursionError):
        return None
    if end != len(text):
        return None
    try:
        again = _ENCODE(doc)
    except (ValueError, RecursionError):
        return None
    return doc if again == text else None
