"""Ledger entries: what one entry holds, how it is sealed into the chain, and receipts.

An entry's **body** is the RFC 8785 canonical JSON of everything it says::

    {"v": 1, "seq": 7, "at": "2026-12-01T10:00:00.000000Z",
     "actor": {"party": "<uuid>" | null, "token": "<uuid>" | null},
     "type": "notice.acknowledged", "parties": ["<uuid>", ...],   # sorted
     "payload": {...},                                            # what happened
     "submission": <the party's submitted JSON> | null,
     "party_sig": {"key": "<key id>", "sig": "<base64>"} | null}

and three SHA-256 values chain it::

    digest = SHA-256(body)
    hash   = SHA-256(seq as 8 bytes big-endian ‖ prev_hash ‖ digest)     (prev_hash of seq 1: 32 zero bytes)
    hub_sig = Ed25519(hub key, "deconfliction-ledger-v1" ‖ 0x00 ‖ hash)

``hash`` binds the position (seq), everything before (prev_hash) and the body (digest),
so a party that sees only ``seq, digest, hash, hub_sig`` of another party's entry (a
:class:`Redacted` entry) can still check every link of the chain and every hub signature,
and checks the digest itself for its own entries, whose bodies it sees. The party's
signature, when it signed its submission, is over the canonical JSON of ``submission`` and
sits inside the body: the hub's signature covers it, so it cannot be dropped later.

A :class:`Receipt` (seq, hash, hub signature) is what a response carries: verifiable with
the hub's public key alone, and later matched against the chain.

>>> from datetime import datetime, timezone
>>> from deconfliction.audit._keys import HubKey
>>> hub = HubKey.generate()
>>> draft = Draft(datetime(2026, 12, 1, tzinfo=timezone.utc), Actor(None), "hub.started", (), {})
>>> first = seal(draft, 1, GENESIS, hub)
>>> second = seal(draft, 2, first.hash, hub)
>>> second.prev_hash == first.hash, second.receipt.verify(hub.public_key)
(True, True)
>>> first.body.decode()[:60]
'{"actor":{"party":null,"token":null},"at":"2026-12-01T00:00:'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from deconfliction.audit._canonical import JsonValue, canonical, loads
from deconfliction.audit._keys import SIGNATURE_SIZE, HubKey, PublicKey, b64decode, b64encode
from deconfliction.errors import InvalidInput

__all__ = [
    "BODY_VERSION",
    "GENESIS",
    "HUB_CONTEXT",
    "Actor",
    "Content",
    "Draft",
    "Entry",
    "PartySignature",
    "Receipt",
    "Redacted",
    "chain_hash",
    "hub_message",
    "iso_utc",
    "seal",
]

BODY_VERSION = 1
"""The ``v`` of the bodies this code writes."""

GENESIS = bytes(32)
"""The ``prev_hash`` of the first entry (seq 1)."""

HUB_CONTEXT = b"deconfliction-ledger-v1\x00"
"""Prefix of every message the hub signs: its ledger signatures are good for nothing else."""

MAX_TYPE_LENGTH = 100


def chain_hash(seq: int, prev_hash: bytes, digest: bytes) -> bytes:
    """SHA-256(seq as 8 bytes big-endian ‖ prev_hash ‖ digest)."""
    return hashlib.sha256(seq.to_bytes(8, "big") + prev_hash + digest).digest()


def hub_message(entry_hash: bytes) -> bytes:
    """What the hub signs for the entry whose hash is ``entry_hash``."""
    return HUB_CONTEXT + entry_hash


def iso_utc(at: datetime) -> str:
    """Hub time as written in a body: UTC, microseconds, ``Z``.

    >>> iso_utc(datetime(2026, 12, 1, 10, 0, 1, 5, tzinfo=UTC))
    '2026-12-01T10:00:01.000005Z'
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("at", "naive datetime: a timezone (UTC) is required")
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _uuid_text(value: UUID | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who caused an entry: a party and the token it used (both None for the hub itself)."""

    party: UUID | None
    token: UUID | None = None


@dataclass(frozen=True, slots=True)
class PartySignature:
    """A party's Ed25519 signature over the canonical JSON of its submission."""

    key_id: str
    signature: bytes

    def to_json(self) -> dict[str, str]:
        """``{"key": key id, "sig": base64}``."""
        return {"key": self.key_id, "sig": b64encode(self.signature)}


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry before it has a place in the chain: what the hotline hands the ledger.

    ``parties`` are the parties the entry concerns (they, and the actor's party, see its
    body; every other party sees it redacted). ``payload`` must be JSON-ready (strings,
    numbers, booleans, null, lists, dicts with string keys).
    """

    at: datetime
    actor: Actor
    type: str
    parties: Iterable[UUID]
    payload: Mapping[str, JsonValue]
    submission: JsonValue = None
    party_signature: PartySignature | None = None

    def __post_init__(self) -> None:
        if not self.type or len(self.type) > MAX_TYPE_LENGTH:
            raise InvalidInput("type", f"must have 1 to {MAX_TYPE_LENGTH} characters")
        iso_utc(self.at)
        object.__setattr__(self, "parties", tuple(sorted(set(self.parties), key=str)))
        if self.party_signature is not None and (
            self.actor.party is None or self.submission is None
        ):
            raise InvalidInput(
                "party_signature", "a party signature needs the actor's party and a submission"
            )

    def body(self, seq: int) -> bytes:
        """The canonical body of this draft sealed at ``seq``."""
        sig = self.party_signature
        doc = {
            "v": BODY_VERSION,
            "seq": seq,
            "at": iso_utc(self.at),
            "actor": {"party": _uuid_text(self.actor.party), "token": _uuid_text(self.actor.token)},
            "type": self.type,
            "parties": [str(p) for p in self.parties],
            "payload": dict(self.payload),
            "submission": self.submission,
            "party_sig": None if sig is None else sig.to_json(),
        }
        return canonical(doc, "entry")


@dataclass(frozen=True, slots=True)
class Content:
    """A body read back: :meth:`from_body` raises ``ValueError`` naming what is malformed."""

    seq: int
    at: datetime
    actor: Actor
    type: str
    parties: tuple[UUID, ...]
    payload: dict[str, Any]
    submission: JsonValue
    party_signature: PartySignature | None

    def concerns(self, party: UUID) -> bool:
        """Whether ``party`` may see this entry in full (the actor's party or a named one)."""
        return party == self.actor.party or party in self.parties

    @classmethod
    def from_json(cls, doc: object) -> Content:
        """Read a parsed body (``ValueError`` if it is not one this code understands)."""
        try:
            if not isinstance(doc, dict) or doc.get("v") != BODY_VERSION:
                raise ValueError(f"not a version {BODY_VERSION} entry body")
            actor, sig, payload = doc["actor"], doc["party_sig"], doc["payload"]
            seq = doc["seq"]
            if type(seq) is not int or not isinstance(payload, dict):
                raise ValueError("seq must be an integer and payload an object")
            at = datetime.fromisoformat(doc["at"])
            if at.tzinfo is None:
                raise ValueError("at has no time zone")
            party_sig = None
            if sig is not None:
                party_sig = PartySignature(
                    str(sig["key"]), b64decode(sig["sig"], "party_sig.sig", SIGNATURE_SIZE)
                )
            return cls(
                seq=seq,
                at=at.astimezone(UTC),
                actor=Actor(_opt_uuid(actor["party"]), _opt_uuid(actor["token"])),
                type=str(doc["type"]),
                parties=tuple(UUID(p) for p in doc["parties"]),
                payload=payload,
                submission=doc["submission"],
                party_signature=party_sig,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"malformed entry body: {exc}") from exc

    @classmethod
    def from_body(cls, body: bytes) -> Content:
        """Parse canonical body bytes."""
        try:
            doc = loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"entry body is not JSON: {exc}") from exc
        return cls.from_json(doc)


def _opt_uuid(value: object) -> UUID | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("a party or token id must be a string")
    return UUID(value)


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof that the hub recorded an entry: its seq, chain hash and hub signature."""

    seq: int
    hash: bytes
    hub_sig: bytes

    def verify(self, public_key: PublicKey) -> bool:
        """Whether the hub's signature over ``hash`` verifies with ``public_key``."""
        return public_key.verify(self.hub_sig, hub_message(self.hash))

    def to_json(self) -> dict[str, Any]:
        """``{"seq", "hash": hex, "signature": base64}`` (what responses carry)."""
        return {"seq": self.seq, "hash": self.hash.hex(), "signature": b64encode(self.hub_sig)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Receipt:
        """Read :meth:`to_json`'s form (:class:`InvalidInput` if malformed)."""
        seq, text = doc.get("seq"), doc.get("hash")
        if type(seq) is not int or seq < 1:
            raise InvalidInput("seq", "must be a positive integer")
        try:
            digest = bytes.fromhex(text) if isinstance(text, str) else b""
        except ValueError:
            digest = b""
        if len(digest) != 32:
            raise InvalidInput("hash", "must be 64 hex digits")
        return cls(seq, digest, b64decode(doc.get("signature"), "signature", SIGNATURE_SIZE))


@dataclass(frozen=True, slots=True)
class Redacted:
    """Another party's entry as a party sees it: enough to check the chain, no content."""

    seq: int
    digest: bytes
    hash: bytes
    hub_sig: bytes


@dataclass(frozen=True, slots=True)
class Entry:
    """A sealed entry: the canonical body and its place in the chain."""

    seq: int
    body: bytes
    digest: bytes
    prev_hash: bytes
    hash: bytes
    hub_sig: bytes = field(repr=False)

    @property
    def receipt(self) -> Receipt:
        """The receipt for this entry."""
        return Receipt(self.seq, self.hash, self.hub_sig)

    def content(self) -> Content:
        """The body, parsed."""
        return Content.from_body(self.body)

    def concerns(self, party: UUID) -> bool:
        """Whether ``party`` may see this entry in full: it acted, or the entry names it.

        Reads only the two fields it needs (a party view decides this for every entry).
        """
        doc = json.loads(self.body)
        text = str(party)
        return bool(doc["actor"]["party"] == text or text in doc["parties"])

    def redacted(self) -> Redacted:
        """This entry without its body."""
        return Redacted(self.seq, self.digest, self.hash, self.hub_sig)


def seal(draft: Draft, seq: int, prev_hash: bytes, key: HubKey) -> Entry:
    """Give ``draft`` its place ``seq`` after the entry whose hash is ``prev_hash``, and sign."""
    if seq < 1:
        raise ValueError(f"seq starts at 1, got {seq}")
    if len(prev_hash) != 32:
        raise ValueError("prev_hash must be 32 bytes")
    body = draft.body(seq)
    digest = hashlib.sha256(body).digest()
    entry_hash = chain_hash(seq, prev_hash, digest)
    return Entry(seq, body, digest, prev_hash, entry_hash, key.sign(hub_message(entry_hash)))
