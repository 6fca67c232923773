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
bundle with :class:`~deconfliction.audit.Verifier` (what it checks is in
:mod:`deconfliction.audit._verify`) and insists on canonical encodings (canonical JSON,
lowercase hex, canonical base64), so that *any* changed byte of an entry line is caught,
not only those that change a value (the line reader is :mod:`deconfliction.audit._bundle`).
A large bundle file can be verified by several processes in chunks
(:mod:`deconfliction.audit._parallel`, ``jobs=``), with the same result.

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

import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from deconfliction.audit import _parallel
from deconfliction.audit._bundle import (
    FORMAT,
    FORMAT_VERSION,
    FormatError,
    canonical_line,
    conclude,
    failed,
    parse_header,
    read_lines,
    redacted_line,
    scan,
)
from deconfliction.audit._chain import Entry, iso_utc
from deconfliction.audit._keys import PublicKey, b64encode
from deconfliction.audit._parallel import Progress, verify_file
from deconfliction.audit._verify import Fault, Signatures, Verifier, VerifyResult

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
            out.write(canonical_line(header))
        sig = b64encode(entry.hub_sig)
        if party is None or entry.concerns(party):
            full += 1
            suffix = f',"hash":"{entry.hash.hex()}","seq":{entry.seq},"sig":"{sig}"}}\n'
            out.write(b'{"body":' + entry.body + suffix.encode("ascii"))
        else:
            out.write(redacted_line(entry.seq, entry.digest.hex(), entry.hash.hex(), sig))
        count += 1
        head = entry.hash
    if first is None:
        out.write(canonical_line(header))
    last = None if first is None else first + count - 1
    trailer = {"count": count, "last_seq": last, "head": None if head is None else head.hex()}
    out.write(canonical_line({"end": trailer}))
    return BundleSummary(count, full, first, last, head)


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


def verify_bundle(
    source: bytes | str | Path | IO[bytes],
    public_key: PublicKey | str | None = None,
    *,
    signatures: Signatures = "all",
    jobs: int = 1,
    chunk_bytes: int | None = None,
    progress: Progress | None = None,
) -> BundleReport:
    """Verify a bundle offline: from bytes, a file path, or a binary stream.

    ``public_key`` is the hub's key (a :class:`PublicKey`, or its base64 or PEM text).
    Without it the bundle's own key is used and the report says so: that proves the
    bundle is intact and self-consistent, not that the hub you know signed it.

    ``jobs``: processes verifying a bundle given as a file path, in chunks of about
    ``chunk_bytes`` (default: 1 to 8 MiB, see
    :func:`~deconfliction.audit._parallel.chunk_size`; a file of one chunk or less is read
    here); the result is the same whatever ``jobs``. ``progress`` is told the bytes of
    entry lines verified so far and in all (not for a stream).
    """
    key = PublicKey.from_text(public_key) if isinstance(public_key, str) else public_key
    reader = read_lines(source)
    lines: Iterator[bytes] = reader
    first = next(reader, None)
    try:
        if first is None or not first.endswith(b"\n"):
            raise FormatError("the bundle has no header line")
        header = parse_header(first[:-1])
    except FormatError as exc:
        return BundleReport(failed(1, Fault.FORMAT, str(exc)), key, key is None, None)
    if key is not None and key != header.hub_key:
        detail = f"the bundle is signed by hub key {header.hub_key.key_id}, not {key.key_id}"
        result = failed(header.start_seq, Fault.HUB_SIGNATURE, detail)
        return BundleReport(result, key, False, header.party)
    used = key or header.hub_key
    if jobs > 1 and isinstance(source, str | Path):
        path = Path(source)
        size = path.stat().st_size - len(first)
        chunk_bytes = _parallel.chunk_size(size, jobs) if chunk_bytes is None else chunk_bytes
        if size > chunk_bytes:
            reader.close()
            result = verify_file(
                path,
                header,
                len(first),
                used,
                signatures=signatures,
                jobs=jobs,
                chunk_bytes=chunk_bytes,
                progress=progress,
            )
            return BundleReport(result, used, key is None, header.party)
    verifier = Verifier(
        used,
        start_seq=header.start_seq,
        prev_hash=header.prev_hash,
        party_keys=header.party_keys,
        signatures=signatures,
    )
    if progress is not None and isinstance(source, bytes | str | Path):
        total = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
        lines = _reporting(lines, len(first), total, progress)
    result = conclude(verifier, scan(verifier, lines))
    return BundleReport(result, used, key is None, header.party)


def _reporting(
    lines: Iterator[bytes], header_end: int, total: int, progress: Progress
) -> Iterator[bytes]:
    """``lines``, telling ``progress`` every megabyte or so."""
    done, told = 0, 0
    for line in lines:
        yield line
        done += len(line)
        if done - told >= 1 << 20:
            progress(done, total - header_end)
            told = done
    progress(done, total - header_end)
