"""Webhook signatures: HMAC-SHA256 over a timestamp and the exact body (Stripe-style).

Each POST carries ``Deconfliction-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is
``HMAC-SHA256(key=secret, msg=f"{t}." + body)``, the key being the secret's UTF-8 bytes as
shown once by the hub (``whsec_…``) and ``body`` the raw request bytes. A receiver
recomputes it, compares in constant time and refuses a timestamp too far from its clock
(a replayed request); see the README for a stand-alone snippet.

>>> body = b'{"party":"p","seq":1}'
>>> header = sign_webhook("whsec_test", body, timestamp=1_700_000_000)
>>> header
't=1700000000,v1=438acd7e124b831387849bbdab7216e47b2edf67b3dbeb5daa7bb390940f27c4'
>>> verify_webhook("whsec_test", header, body, now=1_700_000_010)
True
>>> verify_webhook("whsec_test", header, body + b" ", now=1_700_000_010)
False
>>> verify_webhook("whsec_test", header, body, now=1_700_001_000)  # 1000 s later: stale
False
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE_S",
    "new_webhook_secret",
    "sign_webhook",
    "verify_webhook",
    "webhook_digest",
]

SIGNATURE_HEADER = "Deconfliction-Signature"
SIGNATURE_TOLERANCE_S = 300
"""How far a signature's timestamp may be from the receiver's clock (5 minutes)."""

_MARK = "whsec_"


def new_webhook_secret() -> str:
    """A fresh shared secret: ``whsec_`` + 43 URL-safe characters (32 random bytes)."""
    return _MARK + secrets.token_urlsafe(32)


def webhook_digest(secret: str, timestamp: int, body: bytes) -> str:
    """``hex(HMAC-SHA256(secret, f"{timestamp}." + body))``."""
    msg = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), msg, hashlib.sha256).hexdigest()


def sign_webhook(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The ``Deconfliction-Signature`` header value for ``body`` (now, or at ``timestamp``)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={webhook_digest(secret, t, body)}"


def verify_webhook(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: float | None = None,
    tolerance_s: float = SIGNATURE_TOLERANCE_S,
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and its timestamp is within
    ``tolerance_s`` of ``now`` (default: this machine's clock). Several ``v1=`` values
    (while a secret is being rotated) are accepted if any matches."""
    t: int | None = None
    sigs: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            if not value.isdigit() or len(value) > 12:
                return False
            t = int(value)
        elif key == "v1":
            sigs.append(value)
    if t is None or not sigs:
        return False
    clock = time.time() if now is None else now
    if abs(clock - t) > tolerance_s:
        return False
    expected = webhook_digest(secret, t, body)
    return any(hmac.compare_digest(expected, s) for s in sigs)
