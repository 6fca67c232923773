"""Reading bundle lines: the fast road (a frame pinned by regular expressions, the body
proved canonical as it is parsed) and the general road (parse the line, check each field)
accept exactly the same lines and name the same first bad entry for the same reason."""

from __future__ import annotations

import io
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.audit import (
    Entry,
    HubKey,
    Verifier,
    VerifyResult,
    _bundle,
    verify_bundle,
    write_bundle,
)
from tests.audit.conftest import BLUE, RED, make_mixed_chain

N = 16


@pytest.fixture(scope="module")
def signer() -> tuple[Ed25519PrivateKey, HubKey]:
    private = Ed25519PrivateKey.generate()
    return private, HubKey(private)


@pytest.fixture(scope="module")
def bundles(hub: HubKey, signer: tuple[Ed25519PrivateKey, HubKey]) -> dict[str, bytes]:
    """The hub's view (all in full) and Red's (some redacted) of the same chain."""
    private, key = signer
    chain: list[Entry] = make_mixed_chain(hub, private, key.public_key.key_id, N)
    out = {}
    for name, party in (("hub", None), ("red", RED)):
        buffer = io.BytesIO()
        write_bundle(
            buffer, chain, hub.public_key, party=party, party_keys=[(BLUE, key.public_key)]
        )
        out[name] = buffer.getvalue()
    return out


_NEVER = re.compile(rb"(?!)")


def _read(bundle: bytes, hub: HubKey, *, fast: bool) -> VerifyResult:
    with pytest.MonkeyPatch.context() as patch:
        if not fast:  # the frames never match: every line takes the general road
            patch.setattr(_bundle, "_SUFFIX", _NEVER)
            patch.setattr(_bundle, "_REDACTED", _NEVER)
        return verify_bundle(bundle, hub.public_key).result


@pytest.fixture
def roads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The seqs of the entries that took the general road (``Verifier.feed``)."""
    seen: list[int] = []
    real = Verifier.feed

    def spy(self: Verifier, item: object, *args: object) -> object:
        seen.append(item.seq)  # type: ignore[attr-defined]
        return real(self, item, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Verifier, "feed", spy)
    return seen


def test_plain_lines_take_the_fast_road(
    hub: HubKey, bundles: dict[str, bytes], roads: list[int]
) -> None:
    for bundle in bundles.values():
        assert verify_bundle(bundle, hub.public_key).ok
    # the non-ASCII, exponent-float bodies (every 7th) only: 7 and 14 for the hub, and
    # 14 for Red (it sees 7 redacted, and redacted lines always take the fast road)
    assert roads == [7, 14, 14]


def test_both_roads_agree_on_intact_bundles(hub: HubKey, bundles: dict[str, bytes]) -> None:
    for bundle in bundles.values():
        fast, general = _read(bundle, hub, fast=True), _read(bundle, hub, fast=False)
        assert fast.ok
        assert fast == general


@given(
    view=st.sampled_from(["hub", "red"]),
    line=st.integers(1, N + 1),
    data=st.data(),
)
def test_both_roads_name_the_same_first_bad_entry(
    hub: HubKey, bundles: dict[str, bytes], view: str, line: int, data: st.DataObject
) -> None:
    lines = bundles[view].splitlines(keepends=True)
    target = lines[line]
    how = data.draw(st.sampled_from(["byte", "insert", "delete", "drop"]), label="how")
    at = data.draw(st.integers(0, len(target) - 1), label="at")
    if how == "byte":
        new = data.draw(st.integers(0, 255).filter(lambda b: b != target[at]), label="value")
        lines[line] = target[:at] + bytes([new]) + target[at + 1 :]
    elif how == "insert":
        new = data.draw(st.sampled_from(list(b' \\"0aA{}[],:.-e\n\x00\xc3')), label="value")
        lines[line] = target[:at] + bytes([new]) + target[at:]
    elif how == "delete":
        lines[line] = target[:at] + target[at + 1 :]
    else:
        del lines[line]
    bundle = b"".join(lines)
    fast, general = _read(bundle, hub, fast=True), _read(bundle, hub, fast=False)
    assert fast == general, (fast.summary(), general.summary())
    assert not fast.ok
