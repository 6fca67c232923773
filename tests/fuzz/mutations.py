"""Hypothesis strategies that get *near* valid input: mutations of valid documents.

:func:`mutated_text` and :func:`mutated_bytes` cut, repeat, insert and replace pieces of a
valid document (with the kind of pieces that break parsers: odd numbers, quotes, angle
brackets, control and non-ASCII characters); :func:`mutated_json` changes a valid JSON value
at one or more places (a value replaced by a value of another type or an extreme number, a
key dropped or added). Also used by the atheris harnesses' seeds (``fuzz/``).
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

__all__ = ["NASTY_TEXT", "NASTY_VALUES", "mutated_bytes", "mutated_json", "mutated_text"]

NASTY_TEXT = [
    "", " ", "0", "-0", "-1", "1e999", "-1e999", "nan", "NaN", "inf", "-inf", "1e-320",
    "99999999999999999999999", "0x10", "1_0", "\x00", "\n", "\r\n", "\t", "\\", '"', "'",
    "<", ">", "&", "&amp;", "&#0;", "]]>", "<!--", "-->", "<?xml", "<!DOCTYPE x>",
    "<event>", "</event>", ",", ",,", ";", ":", "=", "[", "]", "{", "}", "[[", "]]",
    "é", "\u202e", "\ud7ff", "\U0001f6e9", "\ufffd", "\xff", "Z", "T", "+25:00", "24:00",
    "2026-13-45T99:99:99Z", "true", "null",
]  # fmt: skip
NASTY_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 2**63, -(2**63) - 1, 10**400, 0.5, -0.0, 1e308, -1e308,
    5e-324, float("inf"), float("-inf"), float("nan"), "", "x", "nan", "1e999", [], {},
    [0, 0], [[0, 0]], {"type": "Feature"}, {"lon": 0, "lat": 0}, "2026-11-25T12:00:00", "2026-11-25T12:00:00Z",
]  # fmt: skip


@st.composite
def mutated_text(draw: st.DrawFn, seeds: list[str], max_edits: int = 4) -> str:
    """One of ``seeds`` with up to ``max_edits`` edits."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, max_edits))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 40)))
        piece = draw(
            st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=6), st.just(text[i:j]))
        )
        op = draw(st.sampled_from(["replace", "insert", "delete", "repeat", "truncate"]))
        if op == "replace":
            text = text[:i] + piece + text[j:]
        elif op == "insert":
            text = text[:i] + piece + text[i:]
        elif op == "delete":
            text = text[:i] + text[j:]
        elif op == "repeat":
            text = text[:j] + text[i:j] * draw(st.integers(2, 5)) + text[j:]
        else:
            text = text[:i]
    return text


@st.composite
def mutated_bytes(draw: st.DrawFn, seeds: list[bytes], max_edits: int = 4) -> bytes:
    """Like :func:`mutated_text` on bytes (latin-1 round trip), or a random byte flip."""
    text = draw(mutated_text([s.decode("latin-1") for s in seeds], max_edits))
    data = bytearray(text.encode("latin-1", errors="replace"))
    if data and draw(st.booleans()):
        k = draw(st.integers(0, len(data) - 1))
        data[k] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        value = value[p]
    return value


@st.composite
def mutated_json(draw: st.DrawFn, seeds: list[Any], max_edits: int = 3) -> Any:
    """One of ``seeds`` (JSON values) with up to ``max_edits`` edits at random places."""
    doc = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, max_edits))):
        path = draw(st.sampled_from(_paths(doc)))
        new = draw(
            st.one_of(
                st.sampled_from(NASTY_VALUES),
                st.floats(-1e6, 1e6),
                st.integers(-(10**6), 10**6),
                st.text(max_size=8),
            )
        )
        new = copy.deepcopy(new)  # never share a mutable value between examples
        if not path:
            doc = new
            continue
        parent = _get(doc, path[:-1])
        op = draw(st.sampled_from(["set", "set", "delete", "duplicate", "add"]))
        key = path[-1]
        if op == "set":
            parent[key] = new
        elif op == "delete":
            del parent[key]
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = new
        else:
            parent[key] = copy.deepcopy(_get(doc, path[:-1]))  # nest the parent in itself
    return doc
