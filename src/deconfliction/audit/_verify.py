"""Verify a run of ledger entries — full, redacted, or a mix — and name the first bad one.

:class:`Verifier` takes entries one at a time, in order (it streams: a million-entry export
needs no more memory than one entry), and stops at the first problem. For each entry it
checks, in this order:

1. its seq is the next one (a deleted or reordered entry breaks this);
2. for a full entry: the body hashes to its digest, is canonical JSON (so what a reader
   parses is exactly what was hashed), is a body this code understands, and states the
   same seq; its ``prev_hash`` is the previous entry's hash;
3. its hash is SHA-256(seq ‖ previous hash ‖ digest) — this is what ties a redacted entry
   into the chain;
4. the hub's Ed25519 signature over the hash (``signatures="all"``, the default); with
   ``signatures="last"`` only the last entry's signature is checked, which still
   authenticates every earlier entry through the chain, but not each stored signature
   (the ones receipts repeat) — Ed25519 verification costs far more than the rest;
5. for a full entry that carries a party signature: the party's key (looked up by party
   and key id; the id is the key's fingerprint, so a swapped key is caught) verifies it
   over the canonical JSON of the submission.

:meth:`Verifier.finish` can also compare the last entry with an expected head (seq and
hash, from the database's head row or a bundle's trailer), which catches entries cut off
the end.

**Why checking the last signature authenticates the rest.** The hub signs every entry's
hash, and every hash commits to the hash before it: the last entry's hash is a signed head
over the whole run. Changing any byte of any earlier entry's body (or digest, seq or
order) changes its hash — caught at once as a ``hash`` fault, since each entry's stated
hash is recomputed — or, if the forger restates the hashes from there on, changes the head,
whose signature then fails. Forging past that needs a SHA-256 second preimage or the hub's
key. What ``"last"`` does not check is that each *earlier stored signature* is good (the
one that entry's receipt repeats); ``"all"`` does, at the cost of one Ed25519 verification
(~50-150 µs) per entry against ~15-30 µs for all the rest.

**Runs verified apart.** Every check on an entry needs only the running state — the next
seq and the previous hash — so a run can be checked by a verifier of its own anchored at
that state, and :meth:`Verifier.join` adds its :class:`Segment` (counts, end state, first
problem) to the verifier standing at the anchor, as if it had been fed the entries itself
(see :mod:`deconfliction.audit._parallel`). :meth:`Verifier.feed_body` and
:meth:`Verifier.feed_redacted` take an entry as its parts, as a bundle line holds it,
without building an :class:`Entry`; the checks are the same.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from hashlib import sha256
from typing import Literal
from uuid import UUID

from deconfliction.audit._canonical import canonical, loads, loads_canonical
from deconfliction.audit._chain import (
    BODY_VERSION,
    GENESIS,
    Entry,
    Redacted,
    hub_message,
)
from deconfliction.audit._keys import PublicKey, b64decode
from deconfliction.errors import DeconflictionError

__all__ = [
    "Fault",
    "PartyKeys",
    "Problem",
    "Segment",
    "Signatures",
    "VerifyResult",
    "Verifier",
    "verify",
]

Signatures = Literal["all", "last"]
"""Which hub signatures to check: every entry's, or the last entry's only."""

PartyKeys = Mapping[tuple[UUID, str], PublicKey]
"""Party public keys by (party id, key id)."""


class Fault(enum.StrEnum):
    """What is wrong with the first bad entry."""

    SEQUENCE = "sequence"
    """Not the seq expected next: an entry is missing, duplicated or out of order."""
    DIGEST = "digest"
    """The body does not hash to the entry's digest (the body or the digest was changed)."""
    BODY = "body"
    """The body is not canonical JSON, not a ledger body, or states another seq."""
    LINK = "link"
    """The entry's ``prev_hash`` is not the previous entry's hash."""
    HASH = "hash"
    """The entry's hash is not SHA-256(seq ‖ previous hash ‖ digest)."""
    HUB_SIGNATURE = "hub_signature"
    """The hub's signature over the hash does not verify with the hub's public key."""
    PARTY_SIGNATURE = "party_signature"
    """The party's signature over its submission does not verify, or its key is unknown."""
    TRUNCATED = "truncated"
    """The run ends before the expected head (entries cut off the end) or differs from it."""
    FORMAT = "format"
    """A bundle line or header is malformed (``seq`` is then the one expected there)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """The first bad entry: its seq, what is wrong, and details in words."""

    seq: int
    fault: Fault
    detail: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.fault.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome: ``problem`` is None when every check passed."""

    problem: Problem | None
    count: int
    """Entries that passed every check (all of them when ``ok``)."""
    first_seq: int | None
    last_seq: int | None
    head: bytes | None
    """The hash of the last entry that passed."""
    full: int
    redacted: int
    hub_signatures: int
    """Hub signatures checked."""
    party_signatures: int
    """Party signatures checked."""

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return self.problem is None

    def summary(self) -> str:
        """One line for people."""
        if self.problem is not None:
            return f"FAILED at {self.problem} ({self.count} entries verified before it)"
        span = "no entries" if self.first_seq is None else f"{self.first_seq}..{self.last_seq}"
        return (
            f"OK: {self.count} entries ({span}; {self.full} full, {self.redacted} redacted), "
            f"{self.hub_signatures} hub and {self.party_signatures} party signatures checked"
        )


_UNPARSED = object()


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of entries checked by a :class:`Verifier` of its own, from an anchor (the
    seq it started at and the hash before it): what :meth:`Verifier.join` adds to the
    verifier whose state is that anchor. Runs of one file verified in parallel join into
    exactly the result of verifying the file in one go."""

    start_seq: int
    start_hash: bytes
    problem: Problem | None
    next_seq: int
    prev_hash: bytes
    first_seq: int | None
    count: int
    full: int
    redacted: int
    hub_signatures: int
    party_signatures: int
    pending: tuple[bytes, bytes, int] | None
    """The last entry's (hash, hub signature, seq), its signature not yet checked
    (``signatures="last"``)."""


class _Bad(Exception):
    def __init__(self, fault: Fault, detail: str) -> None:
        self.fault = fault
        self.detail = detail


class Verifier:
    """Checks entries fed in order; keeps only the running chain state.

    ``start_seq`` and ``prev_hash`` anchor a run that does not begin at seq 1 (an export
    of a range: the hash of the entry before it). ``party_keys`` verifies party signatures
    on full entries; an entry signed with a key not in it fails.
    """

    def __init__(
        self,
        public_key: PublicKey,
        *,
        start_seq: int = 1,
        prev_hash: bytes = GENESIS,
        party_keys: PartyKeys | None = None,
        signatures: Signatures = "all",
    ) -> None:
        if signatures not in ("all", "last"):
            raise ValueError(f"signatures must be 'all' or 'last', got {signatures!r}")
        self._key = public_key
        self._party_keys: PartyKeys = party_keys or {}
        self._all = signatures == "all"
        self._anchor = (start_seq, prev_hash)
        self._next = start_seq
        self._prev = prev_hash
        self._first: int | None = None
        self._pending_sig: tuple[bytes, bytes, int] | None = None
        self._problem: Problem | None = None
        self._count = self._full = self._redacted = self._hub = self._party = 0

    @property
    def next_seq(self) -> int:
        """The seq the next entry must have."""
        return self._next

    @property
    def prev_hash(self) -> bytes:
        """The hash of the last entry accepted (the anchor before any)."""
        return self._prev

    @property
    def problem(self) -> Problem | None:
        """The first problem found, if any (feeding stops there)."""
        return self._problem

    def fail(self, seq: int, fault: Fault, detail: str) -> Problem:
        """Record a problem found outside the entries (a bundle's format, say)."""
        if self._problem is None:
            self._problem = Problem(seq, fault, detail)
        return self._problem

    def _failed(self, bad: _Bad, seq: int) -> Problem:
        return self.fail(self._next if bad.fault is Fault.SEQUENCE else seq, bad.fault, bad.detail)

    def feed(self, item: Entry | Redacted, parsed: object = _UNPARSED) -> Problem | None:
        """Check the next entry; returns the problem (also kept) if it is bad.

        ``parsed``: the full entry's body already parsed with
        :func:`~deconfliction.audit._canonical.loads` (a bundle reader has it), used if
        the body is not provably canonical at a glance.
        """
        if self._problem is not None:
            return self._problem
        seq = item.seq
        try:
            self._check_seq(seq)
            if isinstance(item, Entry):
                if sha256(item.body).digest() != item.digest:
                    raise _Bad(Fault.DIGEST, "the body does not hash to the entry's digest")
                self._check_content(seq, self._body_doc(item.body, parsed))
                if item.prev_hash != self._prev:
                    raise _Bad(Fault.LINK, "prev_hash is not the hash of the entry before it")
            self._accept(seq, item.digest, item.hash, item.hub_sig, isinstance(item, Entry))
        except _Bad as bad:
            return self._failed(bad, seq)
        return None

    def feed_body(
        self, seq: int, body: bytes, entry_hash: bytes, hub_sig: bytes, doc: object
    ) -> Problem | None:
        """Check the next entry given as parts, as a bundle line holds a full entry: its
        digest is SHA-256(``body``) and its ``prev_hash`` the previous entry's hash by
        definition (the line states neither).

        ``doc``: the body as :func:`~deconfliction.audit._canonical.loads_canonical`
        returned it, which proved the body canonical. Checks what :meth:`feed` checks,
        without building an :class:`Entry`.
        """
        if self._problem is not None:
            return self._problem
        try:
            self._check_seq(seq)
            self._check_content(seq, doc)
            self._accept(seq, sha256(body).digest(), entry_hash, hub_sig, True)
        except _Bad as bad:
            return self._failed(bad, seq)
        return None

    def feed_redacted(
        self, seq: int, digest: bytes, entry_hash: bytes, hub_sig: bytes
    ) -> Problem | None:
        """:meth:`feed` for a :class:`Redacted` entry given as its parts."""
        if self._problem is not None:
            return self._problem
        try:
            self._check_seq(seq)
            self._accept(seq, digest, entry_hash, hub_sig, False)
        except _Bad as bad:
            return self._failed(bad, seq)
        return None

    def _check_seq(self, seq: int) -> None:
        if seq != self._next:
            raise _Bad(
                Fault.SEQUENCE,
                f"expected entry {self._next} here, found entry {seq} "
                f"({'a missing entry' if seq > self._next else 'a duplicate or reordered entry'})",
            )

    def _accept(
        self, seq: int, digest: bytes, entry_hash: bytes, hub_sig: bytes, full: bool
    ) -> None:
        """Check the chain hash and the hub signature, then move the chain on."""
        if (
            entry_hash != sha256(seq.to_bytes(8, "big") + self._prev + digest).digest()
        ):  # chain_hash
            raise _Bad(
                Fault.HASH,
                "the hash is not SHA-256(seq ‖ previous hash ‖ digest): "
                "the entry's content or its hash was changed",
            )
        if self._all:
            self._check_hub_signature(entry_hash, hub_sig)
        else:
            self._pending_sig = (entry_hash, hub_sig, seq)
        if self._first is None:
            self._first = seq
        self._next = seq + 1
        self._prev = entry_hash
        self._count += 1
        if full:
            self._full += 1
        else:
            self._redacted += 1

    def _check_hub_signature(self, entry_hash: bytes, hub_sig: bytes) -> None:
        self._hub += 1
        if not self._key.verify(hub_sig, hub_message(entry_hash)):
            raise _Bad(
                Fault.HUB_SIGNATURE,
                f"the hub signature does not verify with key {self._key.key_id}",
            )

    @staticmethod
    def _body_doc(body: bytes, parsed: object) -> object:
        """The body parsed, after checking it is canonical JSON (what was hashed is then
        exactly what a reader parses)."""
        doc = loads_canonical(body)
        if doc is not None:
            return doc
        try:
            doc = loads(body) if parsed is _UNPARSED else parsed
            if canonical(doc) != body:
                raise _Bad(Fault.BODY, "the body is not canonical JSON (RFC 8785)")
        except (ValueError, UnicodeDecodeError, DeconflictionError) as exc:
            raise _Bad(Fault.BODY, f"the body is not JSON: {exc}") from None
        return doc

    def _check_content(self, seq: int, doc: object) -> None:
        if not isinstance(doc, dict) or doc.get("v") != BODY_VERSION:
            raise _Bad(Fault.BODY, f"not a version {BODY_VERSION} entry body")
        if doc.get("seq") != seq:
            raise _Bad(Fault.BODY, f"the body states seq {doc.get('seq')!r}")
        sig = doc.get("party_sig")
        if sig is not None:
            self._check_party_signature(doc, sig)

    def _check_party_signature(self, doc: dict[str, object], sig: object) -> None:
        try:
            actor = doc["actor"]
            party = UUID(actor["party"])  # type: ignore[index]
            key_id = sig["key"]  # type: ignore[index]
            signature = b64decode(sig["sig"], "party_sig.sig")  # type: ignore[index]
            message = canonical(doc["submission"])
        except (KeyError, TypeError, ValueError, AttributeError, DeconflictionError) as exc:
            raise _Bad(Fault.BODY, f"malformed party signature: {exc}") from None
        key = self._party_keys.get((party, key_id))
        if key is None or key.key_id != key_id:
            raise _Bad(Fault.PARTY_SIGNATURE, f"party {party} has no known key {key_id}")
        self._party += 1
        if not key.verify(signature, message):
            raise _Bad(
                Fault.PARTY_SIGNATURE,
                f"the signature of party {party} does not verify with its key {key_id}",
            )

    def segment(self) -> Segment:
        """What this verifier found since its anchor (see :meth:`join`)."""
        return Segment(
            start_seq=self._anchor[0],
            start_hash=self._anchor[1],
            problem=self._problem,
            next_seq=self._next,
            prev_hash=self._prev,
            first_seq=self._first,
            count=self._count,
            full=self._full,
            redacted=self._redacted,
            hub_signatures=self._hub,
            party_signatures=self._party,
            pending=self._pending_sig,
        )

    def joins(self, segment: Segment) -> bool:
        """Whether ``segment`` starts where this verifier stands, with no problem found yet."""
        return self._problem is None and (segment.start_seq, segment.start_hash) == (
            self._next,
            self._prev,
        )

    def join(self, segment: Segment) -> Problem | None:
        """Take in a run that another verifier, anchored at this one's state, checked:
        afterwards this verifier stands as if it had been fed the run's entries itself.
        Raises ``ValueError`` unless :meth:`joins`."""
        if not self.joins(segment):
            raise ValueError("the segment does not start where this verifier stands")
        if self._first is None:
            self._first = segment.first_seq
        self._next, self._prev = segment.next_seq, segment.prev_hash
        self._count += segment.count
        self._full += segment.full
        self._redacted += segment.redacted
        self._hub += segment.hub_signatures
        self._party += segment.party_signatures
        if segment.pending is not None:
            self._pending_sig = segment.pending
        self._problem = segment.problem
        return self._problem

    def finish(
        self, *, expected_last: int | None = None, expected_head: bytes | None = None
    ) -> VerifyResult:
        """End the run: check the pending last signature and the expected head, if given."""
        if self._problem is None and self._pending_sig is not None:
            (entry_hash, hub_sig, seq), self._pending_sig = self._pending_sig, None
            try:
                self._check_hub_signature(entry_hash, hub_sig)
            except _Bad as bad:
                self.fail(seq, bad.fault, bad.detail)
        last = self._next - 1
        if self._problem is None and expected_last is not None and expected_last != last:
            self.fail(
                last + 1 if expected_last > last else last,
                Fault.TRUNCATED,
                f"the ledger's head is entry {expected_last}, the entries end at {last}",
            )
        if self._problem is None and expected_head is not None and expected_head != self._prev:
            self.fail(last, Fault.TRUNCATED, "the last entry's hash is not the ledger's head hash")
        return VerifyResult(
            problem=self._problem,
            count=self._count,
            first_seq=self._first,
            last_seq=None if self._first is None else last,
            head=None if self._first is None else self._prev,
            full=self._full,
            redacted=self._redacted,
            hub_signatures=self._hub,
            party_signatures=self._party,
        )


def verify(
    items: Iterable[Entry | Redacted],
    public_key: PublicKey,
    *,
    start_seq: int = 1,
    prev_hash: bytes = GENESIS,
    party_keys: PartyKeys | None = None,
    signatures: Signatures = "all",
    expected_last: int | None = None,
    expected_head: bytes | None = None,
) -> VerifyResult:
    """Verify ``items`` in order (see the module docs); stops at the first bad entry.

    >>> from datetime import datetime, timezone
    >>> from deconfliction.audit._chain import Actor, Draft, seal
    >>> from deconfliction.audit._keys import HubKey
    >>> hub = HubKey.generate()
    >>> at = datetime(2026, 12, 1, tzinfo=timezone.utc)
    >>> chain, prev = [], GENESIS
    >>> for seq in (1, 2, 3):
    ...     chain.append(seal(Draft(at, Actor(None), "tick", (), {"n": seq}), seq, prev, hub))
    ...     prev = chain[-1].hash
    >>> verify([chain[0], chain[1].redacted(), chain[2]], hub.public_key).summary()
    'OK: 3 entries (1..3; 2 full, 1 redacted), 3 hub and 0 party signatures checked'
    >>> print(verify([chain[0], chain[2]], hub.public_key).problem)
    entry 2: sequence: expected entry 2 here, found entry 3 (a missing entry)
    """
    verifier = Verifier(
        public_key,
        start_seq=start_seq,
        prev_hash=prev_hash,
        party_keys=party_keys,
        signatures=signatures,
    )
    for item in items:
        if verifier.feed(item) is not None:
            break
    return verifier.finish(expected_last=expected_last, expected_head=expected_head)
