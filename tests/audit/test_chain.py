"""Sealing entries: the exact bytes hashed and signed, drafts, contents and receipts."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given

from deconfliction.audit import GENESIS, Actor, Draft, Entry, HubKey, PartySignature, Receipt, seal
from deconfliction.audit._chain import HUB_CONTEXT, chain_hash
from deconfliction.errors import InvalidInput
from tests.audit.conftest import BLUE, RED, T0
from tests.audit.strategies import drafts


def test_hash_and_signature_are_the_documented_bytes(hub: HubKey) -> None:
    draft = Draft(T0, Actor(BLUE, UUID(int=9)), "activity.filed", [RED, RED], {"x": 1})
    entry = seal(draft, 7, b"\x11" * 32, hub)
    assert entry.digest == hashlib.sha256(entry.body).digest()
    expected = hashlib.sha256((7).to_bytes(8, "big") + b"\x11" * 32 + entry.digest).digest()
    assert entry.hash == expected == chain_hash(7, b"\x11" * 32, entry.digest)
    assert hub.public_key.verify(entry.hub_sig, HUB_CONTEXT + entry.hash)
    assert not hub.public_key.verify(entry.hub_sig, entry.hash)  # domain-separated
    assert json.loads(entry.body) == {
        "v": 1,
        "seq": 7,
        "at": "2026-12-01T10:00:00.000000Z",
        "actor": {"party": str(BLUE), "token": str(UUID(int=9))},
        "type": "activity.filed",
        "parties": [str(RED)],
        "payload": {"x": 1},
        "submission": None,
        "party_sig": None,
    }


def test_content_reads_the_body_back(hub: HubKey) -> None:
    sig = PartySignature("ab" * 16, bytes(64))
    at = datetime(2026, 12, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    draft = Draft(at, Actor(BLUE), "notice.acknowledged", [RED], {"n": 1}, {"ack": True}, sig)
    content = seal(draft, 1, GENESIS, hub).content()
    assert content.at == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert (content.seq, content.type, content.actor, content.parties) == (
        1,
        "notice.acknowledged",
        Actor(BLUE, None),
        (RED,),
    )
    assert (content.payload, content.submission, content.party_signature) == (
        {"n": 1},
        {"ack": True},
        sig,
    )
    assert content.concerns(BLUE)
    assert content.concerns(RED)
    assert not content.concerns(UUID(int=7))


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"v":2}', b'{"v":1,"seq":"1"}', b'{"v":1}'],
)
def test_malformed_bodies_raise_value_error(body: bytes) -> None:
    entry = Entry(1, body, bytes(32), GENESIS, bytes(32), bytes(64))
    with pytest.raises(ValueError, match="entry body"):
        entry.content()


def test_draft_validation() -> None:
    with pytest.raises(InvalidInput, match="naive"):
        Draft(datetime(2026, 1, 1), Actor(None), "t", (), {})
    with pytest.raises(InvalidInput, match="type"):
        Draft(T0, Actor(None), "", (), {})
    with pytest.raises(InvalidInput, match="type"):
        Draft(T0, Actor(None), "x" * 101, (), {})
    sig = PartySignature("k", bytes(64))
    with pytest.raises(InvalidInput, match="party_signature"):
        Draft(T0, Actor(None), "t", (), {}, {"a": 1}, sig)
    with pytest.raises(InvalidInput, match="party_signature"):
        Draft(T0, Actor(BLUE), "t", (), {}, None, sig)
    with pytest.raises(InvalidInput, match="entry: not representable"):
        Draft(T0, Actor(None), "t", (), {"bad": float("nan")}).body(1)


def test_seal_checks_its_place(hub: HubKey) -> None:
    draft = Draft(T0, Actor(None), "t", (), {})
    with pytest.raises(ValueError, match="seq starts at 1"):
        seal(draft, 0, GENESIS, hub)
    with pytest.raises(ValueError, match="32 bytes"):
        seal(draft, 1, b"short", hub)


def test_receipt_round_trip_and_verification(hub: HubKey) -> None:
    entry = seal(Draft(T0, Actor(BLUE), "t", (), {}), 1, GENESIS, hub)
    doc = entry.receipt.to_json()
    assert set(doc) == {"seq", "hash", "signature"}
    assert doc["hash"] == entry.hash.hex()
    receipt = Receipt.from_json(doc)
    assert receipt == entry.receipt
    assert receipt.verify(hub.public_key)
    assert not receipt.verify(HubKey.generate().public_key)
    assert not Receipt(1, bytes(32), receipt.hub_sig).verify(hub.public_key)
    for bad, field in (
        ({**doc, "seq": 0}, "seq"),
        ({**doc, "hash": "zz"}, "hash"),
        ({**doc, "hash": 5}, "hash"),
        ({**doc, "signature": "AAAA"}, "signature"),
    ):
        with pytest.raises(InvalidInput) as err:
            Receipt.from_json(bad)
        assert err.value.field == field


def test_redaction_keeps_what_the_chain_needs(hub: HubKey) -> None:
    entry = seal(Draft(T0, Actor(BLUE), "t", (RED,), {"secret": "coords"}), 1, GENESIS, hub)
    redacted = entry.redacted()
    assert (redacted.seq, redacted.digest, redacted.hash, redacted.hub_sig) == (
        entry.seq,
        entry.digest,
        entry.hash,
        entry.hub_sig,
    )
    assert "coords" not in repr(redacted)
    assert entry.concerns(BLUE)
    assert entry.concerns(RED)
    assert not entry.concerns(UUID(int=5))


def test_party_signed_submission_is_inside_the_hashed_body(hub: HubKey) -> None:
    private = Ed25519PrivateKey.generate()
    submission = {"title": "survey"}
    from deconfliction.audit import sign_submission
    from deconfliction.audit._keys import b64decode

    sig = PartySignature("id", b64decode(sign_submission(private, submission), "s"))
    entry = seal(Draft(T0, Actor(BLUE), "t", (), {}, submission, sig), 1, GENESIS, hub)
    assert json.loads(entry.body)["party_sig"]["sig"] == sign_submission(private, submission)


@given(drafts)
def test_every_draft_seals_into_a_canonical_body(draft: Draft) -> None:
    from deconfliction.audit import canonical
    from deconfliction.audit._canonical import loads

    key = HubKey.generate()
    entry = seal(draft, 3, GENESIS, key)
    assert canonical(loads(entry.body)) == entry.body
    assert entry.content().payload == loads(canonical(dict(draft.payload)))
