"""API token secrets: 256-bit random, shown once, stored only as a SHA-256 hash.

A SHA-256 of a 256-bit random secret cannot be reversed or brute-forced, so a slow password
hash would add nothing. Lookups go by that hash (a database index, a dict): timing can at
most tell how long a prefix of the *hash of the caller's own guess* matches a stored hash,
and SHA-256 being preimage resistant, that says nothing about any stored secret — so no
constant-time comparison is needed there. Every other comparison of a secret or a MAC uses
``hmac.compare_digest`` (``tests/api/test_security.py`` checks the whole package).

>>> s = new_secret()
>>> s.startswith("dh_") and len(s) == 46
True
>>> len(hash_secret(s))
32
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["PREFIX_LEN", "hash_secret", "new_secret"]

_MARK = "dh_"
PREFIX_LEN = 8
"""How many leading characters of a secret are kept in clear to recognise it in a list."""


def new_secret() -> str:
    """A fresh token: ``dh_`` + 43 URL-safe characters (32 random bytes)."""
    return _MARK + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> bytes:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()
