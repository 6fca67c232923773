"""The bundle format, line by line: writing each kind of line, and reading lines into a
:class:`~deconfliction.audit.Verifier` (see :mod:`deconfliction.audit._export` for the layout).

Reading insists on canonical encodings — canonical JSON, lowercase hex, canonical base64 —
so that *any* changed byte of a line is caught, not only those that change a value. Most
lines take a fast road that proves exactly that without parsing the line as JSON: a
regular expression pins the line's frame (``{"body":`` … ``,"hash":"<64 lowercase hex>",
"seq":<integer below 10^15>,"sig":"<canonical base64 of 64 bytes>"}``, or the redacted
line's four fields), and :func:`~deconfliction.audit._canonical.loads_canonical` proves
the body canonical while it parses it. A line the fast road cannot settle takes the general one —
parse the line, check each field, rebuild the canonical line and compare — which names
what is wrong; both accept exactly the same lines.

>>> line = redacted_line(7, "00" * 32, "11" * 32, "A" * 86 + "==")
>>> line[:40]
b'{"digest":"00000000000000000000000000000'
>>> bool(_REDACTED.fullmatch(line))
True
"""

from __future__ import annotations

import binascii
import hashlib
import io
import json
import re
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from deconfliction.audit._canonical import canonical, loads, loads_canonical
from deconfliction.audit._chain import Entry, Redacted
from deconfliction.audit._keys import SIGNATURE_SIZE, PublicKey, b64decode, b64encode
from deconfliction.audit._verify import Fault, PartyKeys, Problem, Verifier, VerifyResult
from deconfliction.errors import DeconflictionError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "FormatError",
    "Header",
    "Trailer",
    "anchor_of",
    "canonical_line",
    "conclude",
    "failed",
    "parse_header",
    "read_lines",
    "redacted_line",
    "scan",
]

FORMAT = "deconfliction-ledger-bundle"
FORMAT_VERSION = 1

Trailer = dict[str, Any]
"""The trailer's ``end`` object, as read."""

_SEQ = rb"([1-9][0-9]{0,14})"  # below 2**53: JSON integers beyond it are not exact
_SIG = rb"([A-Za-z0-9+/]{85}[AQgw]==)"  # canonical base64 of 64 bytes (last 4 bits zero)
_BODY = b'{"body":'
_HASH = b',"hash":"'
_SUFFIX = re.compile(rb',"hash":"([0-9a-f]{64})","seq":' + _SEQ + rb',"sig":"' + _SIG + rb'"\}\n')
"""What follows the body on a full entry's line; ``,"hash":"`` occurs nowhere else in it,
so on a well-formed line it starts at the last occurrence of ``,"hash":"``."""
_REDACTED = re.compile(
    rb'\{"digest":"([0-9a-f]{64})","hash":"([0-9a-f]{64})","seq":'
    + _SEQ
    + rb',"sig":"'
    + _SIG
    + rb'"\}\n'
)


class FormatError(Exception):
    """A malformed bundle line (the message says what is wrong)."""


def canonical_line(doc: dict[str, Any]) -> bytes:
    """``doc`` as a bundle line: canonical JSON and a newline."""
    return canonical(doc) + b"\n"


def redacted_line(seq: int, digest: str, entry_hash: str, sig: str) -> bytes:
    """The line of a redacted entry (hashes in hex, the signature in base64)."""
    return f'{{"digest":"{digest}","hash":"{entry_hash}","seq":{seq},"sig":"{sig}"}}\n'.encode(
        "ascii"
    )


def _hex32(value: object) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise FormatError("a hash must be 64 lowercase hex digits")
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise FormatError("a hash must be 64 lowercase hex digits") from None
    if data.hex() != value:
        raise FormatError("a hash must be 64 lowercase hex digits")
    return data


def _sig(value: object) -> bytes:
    try:
        data = b64decode(value, "sig", SIGNATURE_SIZE)
    except DeconflictionError as exc:
        raise FormatError(f"a signature must be base64 of 64 bytes: {exc}") from None
    if b64encode(data) != value:
        raise FormatError("a signature must be canonical base64")
    return data


def _seq(value: object) -> int:
    if type(value) is not int or value < 1:
        raise FormatError("seq must be a positive integer")
    return value


def parse_line(line: bytes, prev_hash: bytes) -> tuple[Entry | Redacted, object] | Trailer:
    """An entry line (without its newline) as an entry and its parsed body, or the
    trailer's ``end`` object; :class:`FormatError` says what is malformed."""
    try:
        doc = loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise FormatError("not a JSON object")
    keys = doc.keys()
    if keys == {"end"} and isinstance(doc["end"], dict):
        if canonical_line(doc) != line + b"\n":
            raise FormatError("the trailer is not canonical JSON")
        return doc["end"]
    if keys == {"body", "hash", "seq", "sig"}:
        seq, entry_hash, sig = _seq(doc["seq"]), _hex32(doc["hash"]), _sig(doc["sig"])
        suffix = f',"hash":"{doc["hash"]}","seq":{seq},"sig":"{doc["sig"]}"}}'.encode("ascii")
        if not (line.startswith(b'{"body":') and line.endswith(suffix)):
            raise FormatError("the entry line is not canonical JSON")
        body = line[len(b'{"body":') : len(line) - len(suffix)]
        entry = Entry(seq, body, hashlib.sha256(body).digest(), prev_hash, entry_hash, sig)
        return entry, doc["body"]
    if keys == {"digest", "hash", "seq", "sig"}:
        seq = _seq(doc["seq"])
        digest, entry_hash, sig = _hex32(doc["digest"]), _hex32(doc["hash"]), _sig(doc["sig"])
        if redacted_line(seq, doc["digest"], doc["hash"], doc["sig"]) != line + b"\n":
            raise FormatError("the entry line is not canonical JSON")
        return Redacted(seq, digest, entry_hash, sig), None
    raise FormatError(f"unexpected fields {sorted(keys)}")


def anchor_of(line: bytes) -> tuple[int, bytes] | None:
    """The seq and the stated hash of an entry line (with its newline), unchecked: where
    a run verified apart starts from. None if the line is not framed as an entry."""
    if line.startswith(_BODY):
        match = _SUFFIX.fullmatch(line, max(len(_BODY), line.rfind(_HASH)))
        return None if match is None else (int(match[2]), binascii.a2b_hex(match[1]))
    match = _REDACTED.fullmatch(line)
    return None if match is None else (int(match[3]), binascii.a2b_hex(match[2]))


@dataclass(frozen=True, slots=True)
class Header:
    """What a bundle's header line says."""

    hub_key: PublicKey
    party: UUID | None
    start_seq: int
    prev_hash: bytes
    party_keys: PartyKeys


def parse_header(line: bytes) -> Header:
    """The header line (without its newline); :class:`FormatError` if malformed."""
    try:
        doc = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"the header is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise FormatError(f"not a {FORMAT} (no header line)")
    if doc.get("version") != FORMAT_VERSION:
        raise FormatError(f"bundle format version {doc.get('version')!r} is not supported")
    if canonical_line(doc) != line + b"\n":
        raise FormatError("the header is not canonical JSON")
    try:
        hub_key = PublicKey.from_text(doc["hub_key"])
        party = None if doc["party"] is None else UUID(doc["party"])
        start = doc["start"]
        start_seq = 1 if start is None else _seq(start["seq"])
        prev = bytes(32) if start is None else _hex32(start["prev_hash"])
        keys: dict[tuple[UUID, str], PublicKey] = {}
        for item in doc["party_keys"]:
            key = PublicKey.from_text(item["key"])
            keys[UUID(item["party"]), key.key_id] = key
    except (KeyError, TypeError, ValueError, AttributeError, DeconflictionError) as exc:
        raise FormatError(f"malformed header: {exc}") from None
    return Header(hub_key, party, start_seq, prev, keys)


def read_lines(source: bytes | str | Path | IO[bytes]) -> Generator[bytes, None, None]:
    """The lines of a bundle given as bytes, a path or a binary stream (newlines kept)."""
    if isinstance(source, bytes):
        yield from io.BytesIO(source)
    elif isinstance(source, str | Path):
        with open(source, "rb") as f:
            yield from f
    else:
        yield from source


def scan(
    verifier: Verifier, lines: Iterable[bytes], trailer: Trailer | None = None
) -> Trailer | None:
    """Feed entry lines (newlines kept) to ``verifier`` until the first problem, which it
    keeps; returns the trailer if one was read (``trailer``: one read before these lines,
    after which any line is a problem)."""
    feed_body, feed_redacted = verifier.feed_body, verifier.feed_redacted
    suffix, redacted = _SUFFIX.fullmatch, _REDACTED.fullmatch
    unhex, unb64 = binascii.a2b_hex, binascii.a2b_base64
    skip = len(_BODY)
    for raw in lines:
        if trailer is not None:
            verifier.fail(verifier.next_seq, Fault.FORMAT, "lines after the trailer")
            break
        if raw.startswith(_BODY):
            at = raw.rfind(_HASH)
            match = suffix(raw, at) if at >= skip else None
            if match is not None:
                body = raw[skip:at]
                doc = loads_canonical(body)
                if doc is not None:
                    seq, entry_hash, sig = int(match[2]), unhex(match[1]), unb64(match[3])
                    if feed_body(seq, body, entry_hash, sig, doc) is not None:
                        break
                    continue
        else:
            match = redacted(raw)
            if match is not None:
                seq, digest, entry_hash, sig = int(match[3]), match[1], match[2], match[4]
                if feed_redacted(seq, unhex(digest), unhex(entry_hash), unb64(sig)) is not None:
                    break
                continue
        # Not settled by the fast road: the general reader, which names what is wrong.
        try:
            if not raw.endswith(b"\n"):
                raise FormatError("the last line is cut short")
            item = parse_line(raw[:-1], verifier.prev_hash)
        except FormatError as exc:
            verifier.fail(verifier.next_seq, Fault.FORMAT, str(exc))
            break
        if isinstance(item, dict):
            trailer = item
        elif verifier.feed(*item) is not None:
            break
    return trailer


def conclude(verifier: Verifier, trailer: Trailer | None) -> VerifyResult:
    """The result once every line was scanned: the trailer must be there and agree."""
    if verifier.problem is None and trailer is None:
        verifier.fail(verifier.next_seq, Fault.TRUNCATED, "the bundle ends without its trailer")
    if verifier.problem is not None or trailer is None:
        return verifier.finish()
    try:
        last = trailer["last_seq"]
        head = None if trailer["head"] is None else _hex32(trailer["head"])
        if last is not None:
            _seq(last)
    except (KeyError, FormatError) as exc:
        verifier.fail(verifier.next_seq, Fault.FORMAT, f"malformed trailer: {exc}")
        return verifier.finish()
    result = verifier.finish(expected_last=last, expected_head=head)
    if result.ok and trailer.get("count") != result.count:
        verifier.fail(verifier.next_seq, Fault.TRUNCATED, "the trailer's count differs")
        return verifier.finish()
    return result


def failed(seq: int, fault: Fault, detail: str) -> VerifyResult:
    """A result that failed before any entry (a bad header, say)."""
    return VerifyResult(Problem(seq, fault, detail), 0, None, None, None, 0, 0, 0, 0)
