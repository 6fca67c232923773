"""Ledger bundles: a self-contained export that verifies offline with the hub's public key.

A bundle is JSON lines, each line RFC 8785 canonical JSON, UTF-8, ``\\n``-terminated:

1. a **header**: ``{"format": "deconfliction-ledger-bundle", "version": 1, "hub_key":
   base64, "hub_key_id", "party": uuid | null, "requested": {"from", "to"}, "start":
   {"seq", "prev_hash": hex} | null, "party_keys": [{"party", "key"}], "created_at"}``;
2. one line per entry, in seq order: in full ``{"body": {...}, "hash", "seq", "sig"}`` or
   redacted ``{"digest", "hash", "seq", "sig"}`` (hashes in lowercase hex, signatures in
   base64);
3. a **trailer**: ``{"end": {"count", "last_seq", "head"}}`` — a bundle cut short lacks
   it and fails.

A party's export shows the entries that concern it in full and every other entry
redacted; the hub's (``party=None``) shows everything. :func:`verify_bundle` checks the
bundle with :class:`~deconfliction.audit.Verifier` and insists on canonical encodings
(canonical JSON, lowercase hex, canonical base64), so that *any* changed byte of an entry
line is caught, not only those that change a value.

>>> from datetime import datetime, timezone
>>> from uuid import UUID
>>> from deconfliction.audit._chain import GENESIS, Actor, Draft, seal
>>> from deconfliction.audit._keys import HubKey
>>> hub, blue = HubKey.generate(), UUID(int=1)
>>> at = datetime(2026, 12, 1, tzinfo=timezone.utc)
>>> a = seal(Draft(at, Actor(blue), "activity.filed", (), {"title": "survey"}), 1, GENESIS, hub)
>>> b = seal(Draft(at, Actor(UUID(int=2)), "activity.filed", (), {"title": "x"}), 2, a.hash, hub)
>>> bundle = export([a, b], hub.public_key, party=blue)
>>> report = verify_bundle(bundle, hub.public_key)
>>> report.ok, report.result.full, report.result.redacted
(True, 1, 1)
>>> print(verify_bundle(bundle.replace(b"survey", b"surges"), hub.public_key).summary())
FAILED at entry 1: hash: ... (0 entries verified before it)
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from deconfliction.audit._canonical import canonical, loads
from deconfliction.audit._chain import Entry, Redacted, iso_utc
from deconfliction.audit._keys import SIGNATURE_SIZE, PublicKey, b64decode, b64encode
from deconfliction.audit._verify import (
    Fault,
    PartyKeys,
    Problem,
    Signatures,
    Verifier,
    VerifyResult,
)
from deconfliction.errors import DeconflictionError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "BundleReport",
    "BundleSummary",
    "Bound",
    "export",
    "verify_bundle",
    "write_bundle",
]

FORMAT = "deconfliction-ledger-bundle"
FORMAT_VERSION = 1

Bound = int | datetime | None
"""A range bound: a seq, a hub time, or none."""


@dataclass(frozen=True, slots=True)
class BundleSummary:
    """What :func:`write_bundle` wrote."""

    count: int
    full: int
    first_seq: int | None
    last_seq: int | None
    head: bytes | None


def _bound_json(bound: Bound) -> int | str | None:
    if isinstance(bound, datetime):
        return iso_utc(bound)
    return bound


def _at(entry: Entry) -> datetime:
    return datetime.fromisoformat(json.loads(entry.body)["at"])


def _in_range(entries: Iterable[Entry], from_: Bound, to: Bound) -> Iterator[Entry]:
    """A contiguous run: from the first entry at or after ``from_`` up to the last one
    before the first entry past ``to`` (times are hub times, seqs inclusive)."""
    started = from_ is None
    for entry in entries:
        if not started:
            started = (
                _at(entry) >= from_ if isinstance(from_, datetime) else entry.seq >= from_  # type: ignore[operator]
            )
            if not started:
                continue
        if to is not None:
            past = _at(entry) > to if isinstance(to, datetime) else entry.seq > to
            if past:
                return
        yield entry


def _line(doc: dict[str, Any]) -> bytes:
    return canonical(doc) + b"\n"


def write_bundle(
    out: IO[bytes],
    entries: Iterable[Entry],
    public_key: PublicKey,
    *,
    party: UUID | None = None,
    from_: Bound = None,
    to: Bound = None,
    party_keys: Iterable[tuple[UUID, PublicKey]] = (),
    created_at: datetime | None = None,
) -> BundleSummary:
    """Write a bundle of ``entries`` (a contiguous run in seq order) to ``out``.

    ``party``: whose view (None: everything in full). ``from_``/``to``: seqs or hub times
    bounding the run. ``party_keys``: the keys that verify party signatures in it.
    """
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "hub_key": public_key.b64,
        "hub_key_id": public_key.key_id,
        "party": None if party is None else str(party),
        "requested": {"from": _bound_json(from_), "to": _bound_json(to)},
        "party_keys": [
            {"party": str(p), "key": k.b64} for p, k in sorted(party_keys, key=lambda x: str(x))
        ],
        "created_at": iso_utc(created_at or datetime.now(UTC)),
        "start": None,
    }
    count = full = 0
    first: int | None = None
    head: bytes | None = None
    for entry in _in_range(entries, from_, to):
        if first is None:
            first = entry.seq
            header["start"] = {"seq": entry.seq, "prev_hash": entry.prev_hash.hex()}
            out.write(_line(header))
        sig = b64encode(entry.hub_sig)
        if party is None or entry.concerns(party):
            full += 1
            suffix = f',"hash":"{entry.hash.hex()}","seq":{entry.seq},"sig":"{sig}"}}\n'
            out.write(b'{"body":' + entry.body + suffix.encode("ascii"))
        else:
            out.write(_redacted_line(entry.seq, entry.digest.hex(), entry.hash.hex(), sig))
        count += 1
        head = entry.hash
    if first is None:
        out.write(_line(header))
    last = None if first is None else first + count - 1
    trailer = {"count": count, "last_seq": last, "head": None if head is None else head.hex()}
    out.write(_line({"end": trailer}))
    return BundleSummary(count, full, first, last, head)


def _redacted_line(seq: int, digest: str, entry_hash: str, sig: str) -> bytes:
    return f'{{"digest":"{digest}","hash":"{entry_hash}","seq":{seq},"sig":"{sig}"}}\n'.encode(
        "ascii"
    )


def export(
    entries: Iterable[Entry],
    public_key: PublicKey,
    party: UUID | None = None,
    from_: Bound = None,
    to: Bound = None,
    *,
    party_keys: Iterable[tuple[UUID, PublicKey]] = (),
    created_at: datetime | None = None,
) -> bytes:
    """:func:`write_bundle` into bytes."""
    buffer = io.BytesIO()
    write_bundle(
        buffer,
        entries,
        public_key,
        party=party,
        from_=from_,
        to=to,
        party_keys=party_keys,
        created_at=created_at,
    )
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class BundleReport:
    """The outcome of :func:`verify_bundle`."""

    result: VerifyResult
    hub_key: PublicKey | None
    """The key the signatures were checked with."""
    key_from_bundle: bool
    """True when no key was given and the bundle's own key was used: then compare
    ``hub_key.key_id`` with the hub's published key before trusting the result."""
    party: UUID | None
    """Whose view the bundle is (None: the hub's full view)."""

    @property
    def ok(self) -> bool:
        """Whether the bundle verified."""
        return self.result.ok

    def summary(self) -> str:
        """One line for people."""
        text = self.result.summary()
        if self.ok and self.key_from_bundle and self.hub_key is not None:
            text += (
                f" — with the key the bundle names ({self.hub_key.key_id}): "
                "check it is the hub's published key"
            )
        return text


class _FormatError(Exception):
    pass


def _hex32(value: object) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise _FormatError("a hash must be 64 lowercase hex digits")
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise _FormatError("a hash must be 64 lowercase hex digits") from None
    if data.hex() != value:
        raise _FormatError("a hash must be 64 lowercase hex digits")
    return data


def _sig(value: object) -> bytes:
    try:
        data = b64decode(value, "sig", SIGNATURE_SIZE)
    except DeconflictionError as exc:
        raise _FormatError(f"a signature must be base64 of 64 bytes: {exc}") from None
    if b64encode(data) != value:
        raise _FormatError("a signature must be canonical base64")
    return data


def _seq(value: object) -> int:
    if type(value) is not int or value < 1:
        raise _FormatError("seq must be a positive integer")
    return value


def _parse_line(line: bytes, prev_hash: bytes) -> tuple[Entry | Redacted, object] | dict[str, Any]:
    """An entry line as an entry (and its parsed body), or the trailer's ``end`` object."""
    try:
        doc = loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _FormatError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise _FormatError("not a JSON object")
    keys = doc.keys()
    if keys == {"end"} and isinstance(doc["end"], dict):
        if _line(doc) != line + b"\n":
            raise _FormatError("the trailer is not canonical JSON")
        return doc["end"]
    if keys == {"body", "hash", "seq", "sig"}:
        seq, entry_hash, sig = _seq(doc["seq"]), _hex32(doc["hash"]), _sig(doc["sig"])
        suffix = f',"hash":"{doc["hash"]}","seq":{seq},"sig":"{doc["sig"]}"}}'.encode("ascii")
        if not (line.startswith(b'{"body":') and line.endswith(suffix)):
            raise _FormatError("the entry line is not canonical JSON")
        body = line[len(b'{"body":') : len(line) - len(suffix)]
        entry = Entry(seq, body, hashlib.sha256(body).digest(), prev_hash, entry_hash, sig)
        return entry, doc["body"]
    if keys == {"digest", "hash", "seq", "sig"}:
        seq = _seq(doc["seq"])
        digest, entry_hash, sig = _hex32(doc["digest"]), _hex32(doc["hash"]), _sig(doc["sig"])
        if _redacted_line(seq, doc["digest"], doc["hash"], doc["sig"]) != line + b"\n":
            raise _FormatError("the entry line is not canonical JSON")
        return Redacted(seq, digest, entry_hash, sig), None
    raise _FormatError(f"unexpected fields {sorted(keys)}")


@dataclass(frozen=True, slots=True)
class _Header:
    hub_key: PublicKey
    party: UUID | None
    start_seq: int
    prev_hash: bytes
    party_keys: PartyKeys


def _parse_header(line: bytes) -> _Header:
    try:
        doc = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _FormatError(f"the header is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _FormatError(f"not a {FORMAT} (no header line)")
    if doc.get("version") != FORMAT_VERSION:
        raise _FormatError(f"bundle format version {doc.get('version')!r} is not supported")
    if _line(doc) != line + b"\n":
        raise _FormatError("the header is not canonical JSON")
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
        raise _FormatError(f"malformed header: {exc}") from None
    return _Header(hub_key, party, start_seq, prev, keys)


def _lines(source: bytes | str | Path | IO[bytes]) -> Iterator[bytes]:
    if isinstance(source, bytes):
        yield from io.BytesIO(source)
    elif isinstance(source, str | Path):
        with open(source, "rb") as f:
            yield from f
    else:
        yield from source


def verify_bundle(
    source: bytes | str | Path | IO[bytes],
    public_key: PublicKey | str | None = None,
    *,
    signatures: Signatures = "all",
) -> BundleReport:
    """Verify a bundle offline: from bytes, a file path, or a binary stream.

    ``public_key`` is the hub's key (a :class:`PublicKey`, or its base64 or PEM text).
    Without it the bundle's own key is used and the report says so: that proves the
    bundle is intact and self-consistent, not that the hub you know signed it.
    """
    key = PublicKey.from_text(public_key) if isinstance(public_key, str) else public_key
    lines = _lines(source)
    first = next(lines, None)
    try:
        if first is None or not first.endswith(b"\n"):
            raise _FormatError("the bundle has no header line")
        header = _parse_header(first[:-1])
    except _FormatError as exc:
        return BundleReport(_failed(1, Fault.FORMAT, str(exc)), key, key is None, None)
    if key is not None and key != header.hub_key:
        detail = f"the bundle is signed by hub key {header.hub_key.key_id}, not {key.key_id}"
        failed = _failed(header.start_seq, Fault.HUB_SIGNATURE, detail)
        return BundleReport(failed, key, False, header.party)
    used = key or header.hub_key
    verifier = Verifier(
        used,
        start_seq=header.start_seq,
        prev_hash=header.prev_hash,
        party_keys=header.party_keys,
        signatures=signatures,
    )
    result = _verify_lines(verifier, lines)
    return BundleReport(result, used, key is None, header.party)


def _failed(seq: int, fault: Fault, detail: str) -> VerifyResult:
    return VerifyResult(Problem(seq, fault, detail), 0, None, None, None, 0, 0, 0, 0)


def _verify_lines(verifier: Verifier, lines: Iterator[bytes]) -> VerifyResult:
    trailer: dict[str, Any] | None = None
    for raw in lines:
        if trailer is not None:
            verifier.fail(verifier.next_seq, Fault.FORMAT, "lines after the trailer")
            break
        try:
            if not raw.endswith(b"\n"):
                raise _FormatError("the last line is cut short")
            item = _parse_line(raw[:-1], verifier.prev_hash)
        except _FormatError as exc:
            verifier.fail(verifier.next_seq, Fault.FORMAT, str(exc))
            break
        if isinstance(item, dict):
            trailer = item
        elif verifier.feed(*item) is not None:
            break
    if verifier.problem is None and trailer is None:
        verifier.fail(verifier.next_seq, Fault.TRUNCATED, "the bundle ends without its trailer")
    if verifier.problem is not None or trailer is None:
        return verifier.finish()
    try:
        last = trailer["last_seq"]
        head = None if trailer["head"] is None else _hex32(trailer["head"])
        if last is not None:
            _seq(last)
    except (KeyError, _FormatError) as exc:
        verifier.fail(verifier.next_seq, Fault.FORMAT, f"malformed trailer: {exc}")
        return verifier.finish()
    result = verifier.finish(expected_last=last, expected_head=head)
    if result.ok and trailer.get("count") != result.count:
        verifier.fail(verifier.next_seq, Fault.TRUNCATED, "the trailer's count differs")
        return verifier.finish()
    return result
