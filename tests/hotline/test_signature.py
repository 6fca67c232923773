"""Webhook signatures: HMAC-SHA256 over ``f"{t}." + body``, checked against the standard
library directly (what the README's receiver snippet does), tampering, staleness, rotation."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.hotline import new_webhook_secret, sign_webhook, verify_webhook
from deconfliction.hotline._signature import webhook_digest

T = 1_764_633_600  # 2025-12-02T00:00:00Z
BODY = b'{"party":"5f0c","seq":7,"type":"notice","at":"2026-12-01T00:00:00Z","data":{}}'


def reference(secret: str, t: int, body: bytes) -> str:
    """The signature as a receiver computes it with nothing but the standard library."""
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def test_a_known_vector() -> None:
    # computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_k
    digest = webhook_digest("whsec_k", 1_700_000_000, b'{"a":1}')
    assert digest == "a252a4340d8bbbdbac8643a2812cc7d628ad79bfba544bff054ac2fa10f795a2"


@given(body=st.binary(max_size=2000), t=st.integers(0, 10**11), secret=st.text(min_size=1))
def test_the_header_is_t_and_v1_of_the_reference_hmac(body: bytes, t: int, secret: str) -> None:
    header = sign_webhook(secret, body, timestamp=t)
    assert header == f"t={t},v1={reference(secret, t, body)}"
    assert verify_webhook(secret, header, body, now=t)


def test_any_change_fails() -> None:
    secret = new_webhook_secret()
    header = sign_webhook(secret, BODY, timestamp=T)
    assert verify_webhook(secret, header, BODY, now=T + 1)
    assert not verify_webhook(secret, header, BODY.replace(b"7", b"8"), now=T)  # another body
    assert not verify_webhook(new_webhook_secret(), header, BODY, now=T)  # another secret
    forged_t = header.replace(f"t={T}", f"t={T + 1}")  # the timestamp is signed too
    assert not verify_webhook(secret, forged_t, BODY, now=T)


def test_a_stale_or_future_timestamp_fails() -> None:
    secret = new_webhook_secret()
    header = sign_webhook(secret, BODY, timestamp=T)
    assert verify_webhook(secret, header, BODY, now=T + 300)
    assert not verify_webhook(secret, header, BODY, now=T + 301)  # a replay, later
    assert not verify_webhook(secret, header, BODY, now=T - 301)  # from the future
    assert verify_webhook(secret, header, BODY, now=T + 3600, tolerance_s=3600)


def test_several_v1_values_match_if_any_does() -> None:
    old, new = new_webhook_secret(), new_webhook_secret()
    header = sign_webhook(new, BODY, timestamp=T) + f",v1={reference(old, T, BODY)}"
    assert verify_webhook(old, header, BODY, now=T)
    assert verify_webhook(new, header, BODY, now=T)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        f"t={T}",
        "v1=" + "0" * 64,
        f"t=abc,v1={'0' * 64}",
        f"t={T};v1={'0' * 64}",
        f"t=-{T},v1={'0' * 64}",
        f"t={T},v1=",
        f"t={'9' * 40},v1={'0' * 64}",
    ],
)
def test_malformed_headers_fail(header: str) -> None:
    assert not verify_webhook("whsec_k", header, BODY, now=T)


def test_secrets_are_fresh_and_marked() -> None:
    a, b = new_webhook_secret(), new_webhook_secret()
    assert a != b
    assert a.startswith("whsec_")
    assert len(a) == len("whsec_") + 43
