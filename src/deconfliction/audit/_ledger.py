"""The hub's ledger on the store: what the hotline calls inside its write transactions.

:class:`Ledger` holds the hub key and works on an open
:class:`~deconfliction.store.SqlTransaction` it is handed, so an entry commits or rolls
back together with the change it records:

>>> import tempfile, pathlib
>>> from datetime import datetime, timezone
>>> from uuid import uuid4
>>> from deconfliction.model import Party
>>> from deconfliction.store import open_store, sqlite_url
>>> with tempfile.TemporaryDirectory() as d, open_store(sqlite_url(pathlib.Path(d))) as store:
...     ledger = Ledger.open(pathlib.Path(d))
...     now = datetime.now(timezone.utc)
...     blue = Party(uuid4(), "Blue", "armed_force", now)
...     with store.transaction() as tx:
...         tx.add_party(blue)
...         entry = ledger.append(tx, at=now, actor=Actor(blue.id), type="party.created",
...                               payload={"name": blue.name})
...     with store.read() as tx:
...         print(entry.seq, entry.receipt.verify(ledger.public_key), ledger.verify(tx).ok)
1 True True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from deconfliction.audit._canonical import JsonValue
from deconfliction.audit._chain import Actor, Draft, Entry, PartySignature, Redacted, seal
from deconfliction.audit._export import Bound, BundleSummary, write_bundle
from deconfliction.audit._keys import HubKey, PublicKey, b64encode, verify_submission
from deconfliction.audit._verify import PartyKeys, Signatures, Verifier, VerifyResult
from deconfliction.errors import InvalidSignature, NotFound
from deconfliction.hotline import Fact, Principal, Receipt, Transaction
from deconfliction.store import (
    LedgerRow,
    PartyKeyRow,
    SqlTransaction,
    add_party_key,
    append_ledger_row,
    append_ledger_rows,
    ledger_head_row,
    ledger_rows,
    ledger_seq_at,
    list_party_keys,
    revoke_party_key,
)

__all__ = ["KEY_REGISTERED", "KEY_REVOKED", "Ledger", "verify_rows"]

KEY_REGISTERED = "party_key.registered"
KEY_REVOKED = "party_key.revoked"


def _row_of(entry: Entry, draft: Draft) -> LedgerRow:
    return LedgerRow(
        seq=entry.seq,
        at=draft.at,
        type=draft.type,
        actor_party=draft.actor.party,
        body=entry.body,
        digest=entry.digest,
        prev_hash=entry.prev_hash,
        hash=entry.hash,
        hub_sig=entry.hub_sig,
    )


def _entry(row: LedgerRow) -> Entry:
    return Entry(row.seq, row.body, row.digest, row.prev_hash, row.hash, row.hub_sig)


class Ledger:
    """Appends, reads, verifies and exports the ledger with the hub's key."""

    def __init__(self, key: HubKey) -> None:
        self._key = key

    @classmethod
    def open(cls, data_dir: Path) -> Ledger:
        """The ledger with the hub key of ``data_dir`` (generated there at first start)."""
        return cls(HubKey.load_or_create(data_dir))

    @property
    def public_key(self) -> PublicKey:
        """The hub's public key (``.b64`` and ``.pem`` for ``GET /v1/ledger/key``)."""
        return self._key.public_key

    # -- writing -----------------------------------------------------------------------------

    def record(
        self,
        tx: Transaction,
        at: datetime,
        actor: Principal | None,
        facts: Sequence[Fact],
    ) -> list[Receipt]:
        """The hotline's :class:`~deconfliction.hotline.Recorder`: seal ``facts`` as
        consecutive entries and store them in ``tx`` with one batched insert."""
        if not facts:
            return []
        if not isinstance(tx, SqlTransaction):  # pragma: no cover - wiring error
            raise TypeError(f"the ledger needs a SqlTransaction, got {type(tx).__name__}")
        who = Actor(None) if actor is None else Actor(actor.party_id, actor.token_id)
        drafts = [
            Draft(at, who, f.type, f.parties, f.payload, f.submission, f.signature) for f in facts
        ]
        sealed: list[Entry] = []

        def make(first: int, prev_hash: bytes) -> list[LedgerRow]:
            rows = []
            for i, d in enumerate(drafts):
                entry = seal(d, first + i, prev_hash, self._key)
                prev_hash = entry.hash
                sealed.append(entry)
                rows.append(_row_of(entry, d))
            return rows

        append_ledger_rows(tx, make)
        return [Receipt(e.seq, e.hash.hex(), b64encode(e.hub_sig)) for e in sealed]

    def append(
        self,
        tx: SqlTransaction,
        *,
        at: datetime,
        actor: Actor,
        type: str,
        payload: Mapping[str, JsonValue],
        parties: Iterable[UUID] = (),
        submission: JsonValue = None,
        party_signature: PartySignature | None = None,
    ) -> Entry:
        """Seal and store the next entry in ``tx``; its ``receipt`` goes in the response.

        ``parties``: the parties the entry concerns besides the actor's (they see it in
        full). ``submission``/``party_signature``: the party's signed body as submitted,
        and its signature from :meth:`check_submission`.
        """
        draft = Draft(at, actor, type, parties, payload, submission, party_signature)
        sealed: list[Entry] = []

        def make(seq: int, prev_hash: bytes) -> LedgerRow:
            entry = seal(draft, seq, prev_hash, self._key)
            sealed.append(entry)
            return _row_of(entry, draft)

        append_ledger_row(tx, make)
        return sealed[-1]

    def check_signature(
        self, tx: Transaction, party: UUID, submission: Any, signature: str, key_id: str | None
    ) -> PartySignature:
        """The hotline's view of :meth:`check_submission` (the Recorder port)."""
        if not isinstance(tx, SqlTransaction):  # pragma: no cover - wiring error
            raise TypeError(f"the ledger needs a SqlTransaction, got {type(tx).__name__}")
        return self.check_submission(tx, party, submission, signature, key_id)

    def check_submission(
        self,
        tx: SqlTransaction,
        party: UUID,
        submission: JsonValue,
        signature: str,
        key_id: str | None = None,
    ) -> PartySignature:
        """Verify a party's detached signature of ``submission`` with its registered keys.

        ``key_id`` picks the key; without it each of the party's unrevoked keys is tried.
        Raises :class:`~deconfliction.errors.InvalidSignature` (422) if none verifies: a
        forged or mangled signature is refused before anything is written.
        """
        keys = [k for k in list_party_keys(tx, party) if k.revoked_at is None]
        if key_id is not None:
            keys = [k for k in keys if k.key_id == key_id]
        if not keys:
            raise InvalidSignature(
                "signature",
                "the party has no registered key"
                + ("" if key_id is None else f" {key_id} (or it is revoked)"),
            )
        last: InvalidSignature | None = None
        for key in keys:
            try:
                sig = verify_submission(PublicKey(key.public_key), submission, signature)
            except InvalidSignature as exc:
                last = exc
                continue
            return PartySignature(key.key_id, sig)
        assert last is not None
        raise last

    def register_party_key(
        self,
        tx: SqlTransaction,
        party: UUID,
        public_key: str | PublicKey,
        *,
        at: datetime,
        actor: Actor,
    ) -> tuple[PublicKey, Entry]:
        """Register a party's Ed25519 public key (base64 or PEM) and record it on the ledger."""
        key = PublicKey.from_text(public_key) if isinstance(public_key, str) else public_key
        add_party_key(tx, PartyKeyRow(party, key.key_id, key.raw, at))
        entry = self.append(
            tx,
            at=at,
            actor=actor,
            type=KEY_REGISTERED,
            parties=(party,),
            payload={"party": str(party), "key_id": key.key_id, "public_key": key.b64},
        )
        return key, entry

    def revoke_party_key(
        self, tx: SqlTransaction, party: UUID, key_id: str, *, at: datetime, actor: Actor
    ) -> Entry:
        """Revoke a key (signatures it made stay verifiable) and record it on the ledger."""
        if not revoke_party_key(tx, party, key_id, at):
            raise NotFound("key", key_id)
        payload = {"party": str(party), "key_id": key_id}
        return self.append(
            tx, at=at, actor=actor, type=KEY_REVOKED, parties=(party,), payload=payload
        )

    # -- reading -----------------------------------------------------------------------------

    def entries(
        self, tx: SqlTransaction, *, since: int = 0, until: int | None = None
    ) -> Iterator[Entry]:
        """Entries after seq ``since`` (up to ``until``), in order, streamed."""
        return (_entry(r) for r in ledger_rows(tx, since=since, until=until))

    def head(self, tx: SqlTransaction) -> tuple[int, bytes]:
        """The newest seq and its hash."""
        return ledger_head_row(tx)

    def party_view(
        self, tx: SqlTransaction, party: UUID, *, since: int = 0, limit: int = 1000
    ) -> list[Entry | Redacted]:
        """``GET /v1/ledger?since=``: the party's entries in full, every other redacted.

        A party that verified up to ``since`` continues the chain from its own last hash.
        """
        head, _ = ledger_head_row(tx)
        until = min(head, since + max(0, limit))
        return [
            e if e.concerns(party) else e.redacted()
            for e in self.entries(tx, since=since, until=until)
        ]

    def party_keys(self, tx: SqlTransaction) -> dict[tuple[UUID, str], PublicKey]:
        """Every registered key (revoked ones too: old signatures stay verifiable)."""
        return {(k.party_id, k.key_id): PublicKey(k.public_key) for k in list_party_keys(tx)}

    # -- verifying and exporting -------------------------------------------------------------

    def verify(self, tx: SqlTransaction, *, signatures: Signatures = "all") -> VerifyResult:
        """Verify the whole stored ledger against the hub key and the head row.

        Streams the rows; the result names the first bad entry.
        """
        return verify_rows(
            ledger_rows(tx),
            self.public_key,
            party_keys=self.party_keys(tx),
            head=ledger_head_row(tx),
            signatures=signatures,
        )

    def export(
        self,
        tx: SqlTransaction,
        out: IO[bytes],
        *,
        party: UUID | None = None,
        from_: Bound = None,
        to: Bound = None,
    ) -> BundleSummary:
        """Write a bundle (see :func:`~deconfliction.audit.write_bundle`) of the stored
        ledger: ``from_``/``to`` are seqs or hub times, both inclusive."""
        first = _seq(tx, from_, after=True)
        last = _seq(tx, to, after=False)
        rows: Iterator[Entry] = iter(())
        if first is not None and last is not None:
            rows = self.entries(tx, since=first - 1, until=last)
        keys = [(p, k) for (p, _), k in self.party_keys(tx).items()]
        return write_bundle(
            out, rows, self.public_key, party=party, from_=from_, to=to, party_keys=keys
        )


def _seq(tx: SqlTransaction, bound: Bound, *, after: bool) -> int | None:
    if bound is None:
        return 1 if after else ledger_head_row(tx)[0]
    if isinstance(bound, datetime):
        return ledger_seq_at(tx, bound, after=after)
    return max(bound, 1) if after else bound


def verify_rows(
    rows: Iterable[LedgerRow],
    public_key: PublicKey,
    *,
    party_keys: PartyKeys,
    head: tuple[int, bytes] | None = None,
    signatures: Signatures = "all",
) -> VerifyResult:
    """Verify stored rows from seq 1 (``head``: the head row's seq and hash, which catches
    rows cut off the end)."""
    verifier = Verifier(public_key, party_keys=party_keys, signatures=signatures)
    for row in rows:
        if verifier.feed(_entry(row)) is not None:
            break
    if head is None:
        return verifier.finish()
    return verifier.finish(expected_last=head[0], expected_head=head[1] if head[0] else None)
