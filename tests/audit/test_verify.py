"""Verification names the first bad entry: changed bytes, deletions, reorderings, forgeries."""

from __future__ import annotations

import dataclasses
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.audit import (
    GENESIS,
    Actor,
    Draft,
    Entry,
    Fault,
    HubKey,
    PublicKey,
    Redacted,
    Verifier,
    seal,
    sign_submission,
    verify,
)
from deconfliction.audit._chain import chain_hash, hub_message
from deconfliction.audit._keys import b64decode
from deconfliction.audit._verify import Problem
from tests.audit.conftest import BLUE, RED, T0, make_chain


def _flip(data: bytes, index: int, xor: int = 1) -> bytes:
    return data[:index] + bytes([data[index] ^ xor]) + data[index + 1 :]


def _problem(items: list[Entry | Redacted], key: PublicKey, **kw: object) -> Problem:
    result = verify(items, key, **kw)  # type: ignore[arg-type]
    assert result.problem is not None, result.summary()
    return result.problem


def test_an_intact_chain_verifies(hub: HubKey, chain: list[Entry]) -> None:
    result = verify(chain, hub.public_key)
    assert result.ok
    assert result.count == 8
    assert (result.first_seq, result.last_seq) == (1, 8)
    assert result.head == chain[-1].hash
    assert result.hub_signatures == 8
    assert result.summary().startswith("OK: 8 entries (1..8; 8 full, 0 redacted)")


def test_a_party_view_mixing_full_and_redacted_verifies(hub: HubKey, chain: list[Entry]) -> None:
    view = [e if e.concerns(RED) else e.redacted() for e in chain]
    result = verify(view, hub.public_key)
    assert result.ok
    assert (result.full, result.redacted) == (4, 4)


def test_an_empty_run_verifies(hub: HubKey) -> None:
    result = verify([], hub.public_key)
    assert result.ok
    assert result.count == 0
    assert result.head is None
    assert result.summary().startswith("OK: 0 entries (no entries")


def test_a_changed_body_byte_is_named(hub: HubKey, chain: list[Entry]) -> None:
    bad = list(chain)
    bad[4] = dataclasses.replace(chain[4], body=chain[4].body.replace(b"activity 5", b"activity 6"))
    problem = _problem(bad, hub.public_key)
    assert (problem.seq, problem.fault) == (5, Fault.DIGEST)
    assert str(problem).startswith("entry 5: digest:")


def test_a_body_rehashed_by_the_forger_still_fails_on_the_chain(
    hub: HubKey, chain: list[Entry]
) -> None:
    import hashlib

    body = chain[4].body.replace(b"activity 5", b"activity 6")
    bad = list(chain)
    bad[4] = dataclasses.replace(chain[4], body=body, digest=hashlib.sha256(body).digest())
    assert (_problem(bad, hub.public_key).seq, _problem(bad, hub.public_key).fault) == (
        5,
        Fault.HASH,
    )


def test_a_deleted_entry_is_named(hub: HubKey, chain: list[Entry]) -> None:
    problem = _problem(chain[:3] + chain[4:], hub.public_key)
    assert (problem.seq, problem.fault) == (4, Fault.SEQUENCE)
    assert "missing" in problem.detail


def test_reordered_entries_are_named(hub: HubKey, chain: list[Entry]) -> None:
    swapped = [*chain[:2], chain[3], chain[2], *chain[4:]]
    problem = _problem(swapped, hub.public_key)
    assert (problem.seq, problem.fault) == (3, Fault.SEQUENCE)


def test_renumbered_entries_fail(hub: HubKey, chain: list[Entry]) -> None:
    """Swapping two entries *and* their seq numbers: the bodies and hashes say otherwise."""
    a, b = chain[2], chain[3]
    swapped = [*chain[:2], dataclasses.replace(b, seq=3), dataclasses.replace(a, seq=4)]
    problem = _problem(swapped, hub.public_key)
    assert (problem.seq, problem.fault) == (3, Fault.BODY)
    redacted = [e.redacted() for e in swapped]
    problem = _problem(redacted, hub.public_key)
    assert (problem.seq, problem.fault) == (3, Fault.HASH)


def test_a_duplicated_entry_is_named(hub: HubKey, chain: list[Entry]) -> None:
    problem = _problem([*chain[:3], chain[2], *chain[3:]], hub.public_key)
    assert (problem.seq, problem.fault) == (4, Fault.SEQUENCE)
    assert "duplicate" in problem.detail


def test_a_broken_link_is_named(hub: HubKey, chain: list[Entry]) -> None:
    bad = list(chain)
    bad[5] = dataclasses.replace(chain[5], prev_hash=bytes(32))
    assert _problem(bad, hub.public_key).fault is Fault.LINK


def test_a_forged_hub_signature_is_named(hub: HubKey, chain: list[Entry]) -> None:
    forger = HubKey.generate()
    bad = list(chain)
    bad[6] = dataclasses.replace(chain[6], hub_sig=forger.sign(hub_message(chain[6].hash)))
    problem = _problem(bad, hub.public_key)
    assert (problem.seq, problem.fault) == (7, Fault.HUB_SIGNATURE)
    # also when the entry is redacted in a party's view
    view = [e.redacted() for e in bad]
    assert _problem(view, hub.public_key).seq == 7


def test_a_whole_chain_resealed_by_another_key_fails_at_once(hub: HubKey) -> None:
    forged = make_chain(HubKey.generate(), 3)
    problem = _problem(list(forged), hub.public_key)
    assert (problem.seq, problem.fault) == (1, Fault.HUB_SIGNATURE)


def test_last_mode_checks_only_the_head_signature(hub: HubKey, chain: list[Entry]) -> None:
    forger = HubKey.generate()
    bad = list(chain)
    bad[2] = dataclasses.replace(chain[2], hub_sig=forger.sign(hub_message(chain[2].hash)))
    result = verify(bad, hub.public_key, signatures="last")
    assert result.ok
    assert result.hub_signatures == 1
    bad[-1] = dataclasses.replace(chain[-1], hub_sig=bad[2].hub_sig)
    problem = _problem(bad, hub.public_key, signatures="last")
    assert (problem.seq, problem.fault) == (8, Fault.HUB_SIGNATURE)
    # content changes are still caught entry by entry
    bad = list(chain)
    bad[1] = dataclasses.replace(chain[1], body=_flip(chain[1].body, 30))
    assert _problem(bad, hub.public_key, signatures="last").seq == 2
    with pytest.raises(ValueError, match="signatures"):
        Verifier(hub.public_key, signatures="some")  # type: ignore[arg-type]


def test_truncation_is_caught_against_the_head(hub: HubKey, chain: list[Entry]) -> None:
    assert verify(chain[:6], hub.public_key).ok  # nothing says there were more
    problem = _problem(chain[:6], hub.public_key, expected_last=8)
    assert (problem.seq, problem.fault) == (7, Fault.TRUNCATED)
    problem = _problem(chain, hub.public_key, expected_last=8, expected_head=chain[6].hash)
    assert problem.fault is Fault.TRUNCATED
    assert verify(chain, hub.public_key, expected_last=8, expected_head=chain[-1].hash).ok


def test_a_range_verifies_from_its_anchor(hub: HubKey, chain: list[Entry]) -> None:
    assert verify(chain[3:], hub.public_key, start_seq=4, prev_hash=chain[2].hash).ok
    problem = _problem(chain[3:], hub.public_key, start_seq=4, prev_hash=chain[1].hash)
    assert (problem.seq, problem.fault) == (4, Fault.LINK)


def test_non_canonical_bodies_are_refused(hub: HubKey) -> None:
    """A body must be exactly the canonical bytes: what a reader parses is what was hashed."""
    import hashlib

    for body in (
        b'{"v":1, "seq":1}',
        b'{"seq":1,"seq":1,"v":1}',  # duplicate keys
        b"\xff",
        b"[1]",
        b'{"seq":2,"v":1}',
    ):
        digest = hashlib.sha256(body).digest()
        entry_hash = chain_hash(1, GENESIS, digest)
        entry = Entry(1, body, digest, GENESIS, entry_hash, hub.sign(hub_message(entry_hash)))
        assert _problem([entry], hub.public_key).fault is Fault.BODY, body


def _signed_entry(hub: HubKey, private: Ed25519PrivateKey, key_id: str) -> Entry:
    from deconfliction.audit import PartySignature

    submission = {"title": "survey", "n": 1}
    sig = b64decode(sign_submission(private, submission), "sig")
    signature = PartySignature(key_id, sig)
    draft = Draft(T0, Actor(BLUE), "activity.filed", (RED,), {"id": 1}, submission, signature)
    return seal(draft, 1, GENESIS, hub)


def test_party_signatures_are_checked(hub: HubKey) -> None:
    private = Ed25519PrivateKey.generate()
    key = HubKey(private).public_key
    keys = {(BLUE, key.key_id): key}
    entry = _signed_entry(hub, private, key.key_id)
    result = verify([entry], hub.public_key, party_keys=keys)
    assert result.ok
    assert result.party_signatures == 1
    # a redacted view cannot check it, and needs no key
    assert verify([entry.redacted()], hub.public_key).ok
    # no key, or a key of another party
    assert _problem([entry], hub.public_key).fault is Fault.PARTY_SIGNATURE
    other = {(UUID(int=9), key.key_id): key}
    assert _problem([entry], hub.public_key, party_keys=other).fault is Fault.PARTY_SIGNATURE
    # a key swapped in under the signer's key id
    swapped = {(BLUE, key.key_id): HubKey.generate().public_key}
    assert _problem([entry], hub.public_key, party_keys=swapped).fault is Fault.PARTY_SIGNATURE


def test_a_forged_party_signature_sealed_by_the_hub_is_named(hub: HubKey) -> None:
    """Even a hub that seals a forged party signature cannot make it verify."""
    key = HubKey(Ed25519PrivateKey.generate()).public_key
    forged = _signed_entry(hub, Ed25519PrivateKey.generate(), key.key_id)
    problem = _problem([forged], hub.public_key, party_keys={(BLUE, key.key_id): key})
    assert (problem.seq, problem.fault) == (1, Fault.PARTY_SIGNATURE)
    assert "does not verify" in problem.detail


def test_feeding_stops_at_the_first_problem(hub: HubKey, chain: list[Entry]) -> None:
    verifier = Verifier(hub.public_key)
    assert verifier.feed(chain[1]) is not None
    assert verifier.feed(chain[0]) is verifier.problem  # nothing more is checked
    result = verifier.finish()
    assert not result.ok
    assert result.count == 0
    assert result.summary().startswith("FAILED at entry 1: sequence")


@given(
    index=st.integers(0, 7),
    field=st.sampled_from(["body", "digest", "prev_hash", "hash", "hub_sig"]),
    data=st.data(),
    redact=st.booleans(),
)
def test_any_single_byte_change_of_any_entry_is_named(
    hub: HubKey, chain: list[Entry], index: int, field: str, data: st.DataObject, redact: bool
) -> None:
    original: bytes = getattr(chain[index], field)
    at = data.draw(st.integers(0, len(original) - 1), label="byte")
    xor = data.draw(st.integers(1, 255), label="xor")
    bad = list(chain)
    bad[index] = dataclasses.replace(chain[index], **{field: _flip(original, at, xor)})
    items: list[Entry | Redacted] = list(bad)
    if redact and field != "body":
        items[index] = bad[index].redacted()
    if redact and field in ("body", "prev_hash"):
        return  # a redacted entry carries neither
    problem = _problem(items, hub.public_key)
    assert problem.seq == index + 1
