"""The hub key on disk, public keys, and party signatures over canonical JSON."""

from __future__ import annotations

import os
import pickle
import stat
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction.audit import HubKey, PublicKey, sign_submission, verify_submission
from deconfliction.audit._keys import KEY_FILE
from deconfliction.errors import InvalidInput, InvalidSignature, LedgerError


def test_created_at_first_start_with_mode_0600_then_loaded(tmp_path: Path) -> None:
    first = HubKey.load_or_create(tmp_path / "data")
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE]  # no temporary file left
    again = HubKey.load_or_create(tmp_path / "data")
    assert again.public_key == first.public_key
    assert again.sign(b"m") == first.sign(b"m")  # Ed25519 is deterministic: the same key


def test_concurrent_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    keys: list[PublicKey] = []
    threads = [
        threading.Thread(target=lambda: keys.append(HubKey.load_or_create(tmp_path).public_key))
        for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 6
    assert len(set(keys)) == 1


def test_a_key_file_others_may_read_is_refused(tmp_path: Path) -> None:
    HubKey.load_or_create(tmp_path)
    os.chmod(tmp_path / KEY_FILE, 0o644)
    with pytest.raises(LedgerError, match=r"may be read by others.*chmod 600"):
        HubKey.load_or_create(tmp_path)


def test_an_unreadable_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    path.write_bytes(b"not a key")
    path.chmod(0o600)
    with pytest.raises(LedgerError, match="no readable key"):
        HubKey.load(path)
    with pytest.raises(LedgerError, match="cannot open"):
        HubKey.load(tmp_path / "missing.pem")


def test_the_private_key_is_never_shown_nor_pickled(tmp_path: Path) -> None:
    key = HubKey.load_or_create(tmp_path)
    secret = (tmp_path / KEY_FILE).read_text().splitlines()[1]
    assert secret not in repr(key)
    assert key.public_key.key_id in repr(key)
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(key)


def test_public_key_forms() -> None:
    key = HubKey.generate().public_key
    assert PublicKey.from_text(key.b64) == key
    assert PublicKey.from_text(key.pem) == key
    assert PublicKey.from_text("  " + key.b64 + "\n") == key
    assert len(key.raw) == 32
    assert len(key.key_id) == 32
    assert hash(PublicKey(key.raw)) == hash(key)
    assert key != HubKey.generate().public_key


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("AAAA", "must decode to 32 bytes"),
        ("not base64!", "not valid base64"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "not a readable PEM"),
    ],
)
def test_bad_public_keys_are_invalid_input(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        PublicKey.from_text(text)


def test_a_pem_key_of_another_type_is_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

    pem = (
        generate_private_key(SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(InvalidInput, match="not an Ed25519"):
        PublicKey.from_text(pem)


def test_party_signature_over_canonical_json() -> None:
    private = Ed25519PrivateKey.generate()
    key = PublicKey.from_text(HubKey(private).public_key.b64)
    body = {"title": "survey", "volumes": [{"alt": 1.5}], "é": True}
    signature = sign_submission(private, body)
    # key order and whitespace do not matter: the signature is over the canonical form
    reordered = {"é": True, "volumes": [{"alt": 1.5}], "title": "survey"}
    assert len(verify_submission(key, reordered, signature)) == 64
    with pytest.raises(InvalidSignature, match="does not verify") as err:
        verify_submission(key, {**body, "title": "surveY"}, signature)
    assert err.value.field == "signature"
    assert err.value.status == 422
    forged = sign_submission(Ed25519PrivateKey.generate(), body)
    with pytest.raises(InvalidSignature, match="does not verify"):
        verify_submission(key, body, forged)
    with pytest.raises(InvalidSignature, match="64 bytes"):
        verify_submission(key, body, "AAAA")
    with pytest.raises(InvalidSignature, match="base64"):
        verify_submission(key, body, "%%%")


def test_verify_rejects_wrong_length_signatures() -> None:
    hub = HubKey.generate()
    assert not hub.public_key.verify(hub.sign(b"m")[:63], b"m")
