"""Ed25519 keys: the hub's signing key, and public keys (the hub's and the parties').

The hub's key is generated at first start into the data directory as an unencrypted
PKCS#8 PEM file readable by its owner only (mode 0600), and loaded on later starts; a key
file that others may read is refused. Nothing here logs or prints the private key: a
:class:`HubKey` shows only its public key id and cannot be pickled.

Public keys travel as raw base64 (32 bytes, what ``GET /v1/ledger/key`` serves) or as PEM
(SubjectPublicKeyInfo); :meth:`PublicKey.from_text` reads either. A key's *id* is the hex
of the first 16 bytes of the SHA-256 of its raw bytes, so an id pins one key.

>>> hub = HubKey.generate()
>>> message = b"hello"
>>> hub.public_key.verify(hub.sign(message), message)
True
>>> PublicKey.from_text(hub.public_key.pem) == PublicKey.from_text(hub.public_key.b64)
True
>>> hub.public_key.verify(hub.sign(message), b"hellp")
False
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import secrets
import stat
from pathlib import Path
from typing import NoReturn

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from deconfliction.audit._canonical import JsonValue, canonical
from deconfliction.errors import InvalidInput, InvalidSignature, LedgerError

__all__ = [
    "KEY_FILE",
    "SIGNATURE_SIZE",
    "HubKey",
    "PublicKey",
    "b64decode",
    "b64encode",
    "sign_submission",
    "verify_submission",
]

KEY_FILE = "ledger-key.pem"
"""The hub key's file name in the data directory."""

SIGNATURE_SIZE = 64
"""Bytes in an Ed25519 signature."""

_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw


def b64encode(data: bytes) -> str:
    """Standard base64 with padding.

    >>> b64encode(b"\\x00\\xff")
    'AP8='
    """
    return base64.b64encode(data).decode("ascii")


def b64decode(text: object, field: str, size: int | None = None) -> bytes:
    """Decode standard base64 strictly (``size``: the exact byte length required).

    >>> b64decode("AP8=", "sig")
    b'\\x00\\xff'
    >>> b64decode("AP8", "sig")
    Traceback (most recent call last):
    ...
    deconfliction.errors.InvalidInput: sig: not valid base64
    """
    if not isinstance(text, str):
        raise InvalidInput(field, "must be a base64 string")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(field, "not valid base64") from exc
    if size is not None and len(data) != size:
        raise InvalidInput(field, f"must decode to {size} bytes, got {len(data)}")
    return data


class PublicKey:
    """An Ed25519 public key. Equal keys have equal raw bytes."""

    __slots__ = ("_key", "raw")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise InvalidInput("public_key", f"an Ed25519 public key has 32 bytes, got {len(raw)}")
        self.raw = bytes(raw)
        self._key = Ed25519PublicKey.from_public_bytes(self.raw)

    @classmethod
    def from_text(cls, text: str, field: str = "public_key") -> PublicKey:
        """Read a key given as PEM (SubjectPublicKeyInfo) or as base64 of its 32 raw bytes."""
        text = text.strip()
        if text.startswith("-----BEGIN"):
            try:
                key = serialization.load_pem_public_key(text.encode("ascii"))
            except (ValueError, UnicodeEncodeError) as exc:
                raise InvalidInput(field, "not a readable PEM public key") from exc
            if not isinstance(key, Ed25519PublicKey):
                raise InvalidInput(field, "not an Ed25519 public key")
            return cls(key.public_bytes(_RAW, _RAW_PUB))
        return cls(b64decode(text, field, 32))

    @property
    def b64(self) -> str:
        """The raw 32 bytes in base64."""
        return b64encode(self.raw)

    @property
    def pem(self) -> str:
        """The key as a PEM SubjectPublicKeyInfo block."""
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    @property
    def key_id(self) -> str:
        """Hex of the first 16 bytes of SHA-256 of the raw key: names this key alone."""
        return hashlib.sha256(self.raw).digest()[:16].hex()

    def verify(self, signature: bytes, message: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        if len(signature) != SIGNATURE_SIZE:
            return False
        try:
            self._key.verify(signature, message)
        except _CryptoInvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"PublicKey(key_id={self.key_id!r})"


class HubKey:
    """The hub's Ed25519 signing key. Its repr shows the public key id only."""

    __slots__ = ("_private", "public_key")

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_key = PublicKey(private.public_key().public_bytes(_RAW, _RAW_PUB))

    @classmethod
    def generate(cls) -> HubKey:
        """A new random key (kept in memory only)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path) -> HubKey:
        """Load the key from its PEM file; refuse a file that group or others may read."""
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            raise LedgerError(f"cannot open the hub key file {path}: {exc.strerror}") from exc
        with os.fdopen(fd, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise LedgerError(f"the hub key file {path} is not a regular file")
            if mode & 0o077:
                raise LedgerError(
                    f"the hub key file {path} may be read by others "
                    f"(mode {stat.S_IMODE(mode):04o}): chmod 600 it"
                )
            data = f.read()
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise LedgerError(f"the hub key file {path} holds no readable key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise LedgerError(f"the hub key file {path} holds no Ed25519 key")
        return cls(key)

    @classmethod
    def load_or_create(cls, data_dir: Path) -> HubKey:
        """The key in ``data_dir/ledger-key.pem``, generated there (mode 0600) if absent.

        Creation is atomic: the key is written to a private temporary file, flushed to
        disk and linked to its name, so concurrent first starts agree on one key and a
        crash never leaves a half-written key.
        """
        data_dir = Path(data_dir)
        path = data_dir / KEY_FILE
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            cls._create(path)
        return cls.load(path)

    @staticmethod
    def _create(path: Path) -> None:
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):  # another process was first: use its key
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of ``message`` (64 bytes)."""
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"HubKey(key_id={self.public_key.key_id!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("the hub's private key is not picklable")


def sign_submission(private: Ed25519PrivateKey, submission: JsonValue) -> str:
    """A party's detached signature of ``submission``: base64 Ed25519 over its canonical JSON.

    What a party client does before it submits (here for tests and tools).
    """
    return b64encode(private.sign(canonical(submission, "submission")))


def verify_submission(
    key: PublicKey, submission: JsonValue, signature: str, field: str = "signature"
) -> bytes:
    """Check a party's detached signature over the canonical JSON of ``submission``.

    Returns the signature's bytes; raises :class:`~deconfliction.errors.InvalidSignature`
    naming ``field`` when it does not verify.
    """
    try:
        sig = b64decode(signature, field, SIGNATURE_SIZE)
    except InvalidInput as exc:
        raise InvalidSignature(field, exc.reason) from None
    if not key.verify(sig, canonical(submission, "submission")):
        raise InvalidSignature(
            field, f"does not verify with key {key.key_id} over the canonical JSON submitted"
        )
    return sig
