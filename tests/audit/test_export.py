"""Bundles: the party's view, offline verification, and tampering with the file."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

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
    PartySignature,
    export,
    seal,
    sign_submission,
    verify_bundle,
    write_bundle,
)
from deconfliction.audit._export import FORMAT
from deconfliction.audit._keys import b64decode
from tests.audit.conftest import BLUE, GREEN, RED, T0


@pytest.fixture(scope="module")
def hub_bundle(hub: HubKey, chain: list[Entry]) -> bytes:
    return export(chain, hub.public_key)


@pytest.fixture(scope="module")
def red_bundle(hub: HubKey, chain: list[Entry]) -> bytes:
    return export(chain, hub.public_key, party=RED)


def _lines(bundle: bytes) -> list[bytes]:
    return bundle.splitlines(keepends=True)


def test_layout(hub: HubKey, chain: list[Entry], red_bundle: bytes) -> None:
    lines = _lines(red_bundle)
    assert len(lines) == 1 + 8 + 1
    assert all(line.endswith(b"\n") for line in lines)
    header = json.loads(lines[0])
    assert header["format"] == FORMAT
    assert header["version"] == 1
    assert header["hub_key"] == hub.public_key.b64
    assert header["party"] == str(RED)
    assert header["start"] == {"seq": 1, "prev_hash": GENESIS.hex()}
    entries = [json.loads(line) for line in lines[1:-1]]
    # Red is named by Blue's odd entries; Green's even entries are redacted for it
    assert [("body" in e) for e in entries] == [True, False] * 4
    assert set(entries[1]) == {"digest", "hash", "seq", "sig"}
    assert b"activity 2" not in red_bundle
    assert b"activity 1" in red_bundle
    assert json.loads(lines[-1]) == {
        "end": {"count": 8, "last_seq": 8, "head": chain[-1].hash.hex()}
    }


def test_views_verify_offline(hub: HubKey, hub_bundle: bytes, red_bundle: bytes) -> None:
    report = verify_bundle(hub_bundle, hub.public_key)
    assert report.ok
    assert report.result.full == 8
    assert report.party is None
    report = verify_bundle(red_bundle, hub.public_key.b64)
    assert report.ok
    assert (report.result.full, report.result.redacted) == (4, 4)
    assert report.party == RED
    assert not report.key_from_bundle
    green = verify_bundle(export([], hub.public_key, party=GREEN), hub.public_key.pem)
    assert green.ok
    assert green.result.count == 0


def test_without_a_key_the_report_says_whose_key_it_used(hub: HubKey, red_bundle: bytes) -> None:
    report = verify_bundle(red_bundle)
    assert report.ok
    assert report.key_from_bundle
    assert report.hub_key == hub.public_key
    assert "check it is the hub's published key" in report.summary()


def test_a_bundle_for_another_hub_key_fails(red_bundle: bytes) -> None:
    report = verify_bundle(red_bundle, HubKey.generate().public_key)
    assert not report.ok
    assert report.result.problem is not None
    assert report.result.problem.fault is Fault.HUB_SIGNATURE


def test_from_a_file_and_a_stream(hub: HubKey, chain: list[Entry], tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    with path.open("wb") as f:
        summary = write_bundle(f, chain, hub.public_key, party=BLUE)
    assert (summary.count, summary.full, summary.first_seq, summary.last_seq) == (8, 4, 1, 8)
    assert verify_bundle(path, hub.public_key).ok
    assert verify_bundle(str(path), hub.public_key).ok
    assert verify_bundle(io.BytesIO(path.read_bytes()), hub.public_key).ok


def test_ranges_by_seq_and_by_hub_time(hub: HubKey, chain: list[Entry]) -> None:
    bundle = export(chain, hub.public_key, party=RED, from_=3, to=6)
    header = json.loads(_lines(bundle)[0])
    assert header["start"] == {"seq": 3, "prev_hash": chain[1].hash.hex()}
    assert header["requested"] == {"from": 3, "to": 6}
    report = verify_bundle(bundle, hub.public_key)
    assert report.ok
    assert (report.result.first_seq, report.result.last_seq) == (3, 6)
    # entry n is at T0 + n minutes
    bundle = export(
        chain,
        hub.public_key,
        from_=T0 + timedelta(minutes=2, seconds=1),
        to=T0 + timedelta(minutes=5),
    )
    report = verify_bundle(bundle, hub.public_key)
    assert report.ok
    assert (report.result.first_seq, report.result.last_seq) == (3, 5)
    assert json.loads(_lines(bundle)[0])["requested"]["from"] == "2026-12-01T10:02:01.000000Z"
    empty = export(chain, hub.public_key, from_=20)
    assert verify_bundle(empty, hub.public_key).result.count == 0


def test_party_signatures_travel_with_their_keys(hub: HubKey) -> None:
    private = Ed25519PrivateKey.generate()
    key = HubKey(private).public_key
    submission = {"title": "survey"}
    sig = PartySignature(key.key_id, b64decode(sign_submission(private, submission), "s"))
    entry = seal(Draft(T0, Actor(BLUE), "t", (RED,), {}, submission, sig), 1, GENESIS, hub)
    bundle = export([entry], hub.public_key, party=RED, party_keys=[(BLUE, key)])
    report = verify_bundle(bundle, hub.public_key)
    assert report.ok
    assert report.result.party_signatures == 1
    # the key list is not signed, but a key id pins its key: swapping the key fails
    other = HubKey.generate().public_key.b64
    report = verify_bundle(bundle.replace(key.b64.encode(), other.encode()), hub.public_key)
    assert report.result.problem is not None
    assert report.result.problem.fault is Fault.PARTY_SIGNATURE


def _fault(bundle: bytes, hub: HubKey) -> tuple[int, Fault]:
    problem = verify_bundle(bundle, hub.public_key).result.problem
    assert problem is not None
    return problem.seq, problem.fault


def test_a_deleted_line_is_named(hub: HubKey, red_bundle: bytes) -> None:
    lines = _lines(red_bundle)
    assert _fault(b"".join(lines[:4] + lines[5:]), hub) == (4, Fault.SEQUENCE)


def test_swapped_lines_are_named(hub: HubKey, red_bundle: bytes) -> None:
    lines = _lines(red_bundle)
    lines[2], lines[3] = lines[3], lines[2]
    assert _fault(b"".join(lines), hub) == (2, Fault.SEQUENCE)


def test_a_bundle_cut_short_fails(hub: HubKey, red_bundle: bytes) -> None:
    lines = _lines(red_bundle)
    assert _fault(b"".join(lines[:-1]), hub) == (9, Fault.TRUNCATED)
    assert _fault(b"".join(lines[:-3]) + lines[-1], hub) == (7, Fault.TRUNCATED)
    assert _fault(red_bundle[:-40], hub)[1] is Fault.FORMAT
    assert _fault(red_bundle + lines[1], hub)[1] is Fault.FORMAT  # lines after the trailer


@pytest.mark.parametrize(
    ("bundle", "fault"),
    [
        (b"", Fault.FORMAT),
        (b"{}\n", Fault.FORMAT),
        (b"not json\n", Fault.FORMAT),
        (b'{"format":"deconfliction-ledger-bundle","version":9}\n', Fault.FORMAT),
    ],
)
def test_malformed_headers(hub: HubKey, bundle: bytes, fault: Fault) -> None:
    assert _fault(bundle, hub) == (1, fault)


def test_a_reformatted_bundle_is_refused(hub: HubKey, red_bundle: bytes) -> None:
    lines = _lines(red_bundle)
    pretty = json.dumps(json.loads(lines[1]), indent=1).replace("\n", "").encode() + b"\n"
    assert _fault(b"".join([lines[0], pretty, *lines[2:]]), hub) == (1, Fault.FORMAT)
    header = json.dumps(json.loads(lines[0])).encode() + b"\n"  # spaces after separators
    assert _fault(b"".join([header, *lines[1:]]), hub) == (1, Fault.FORMAT)


def test_non_canonical_encodings_are_refused(hub: HubKey, red_bundle: bytes) -> None:
    lines = _lines(red_bundle)
    doc = json.loads(lines[2])
    upper = lines[2].replace(doc["hash"].encode(), doc["hash"].upper().encode())
    assert _fault(b"".join([*lines[:2], upper, *lines[3:]]), hub) == (2, Fault.FORMAT)


@given(
    line=st.integers(1, 8),
    data=st.data(),
)
def test_any_single_byte_change_of_any_entry_line_is_named(
    hub: HubKey, red_bundle: bytes, line: int, data: st.DataObject
) -> None:
    lines = _lines(red_bundle)
    target = lines[line]
    at = data.draw(st.integers(0, len(target) - 2), label="byte")  # not the newline
    new = data.draw(st.integers(0, 255).filter(lambda b: b != target[at]), label="value")
    lines[line] = target[:at] + bytes([new]) + target[at + 1 :]
    report = verify_bundle(b"".join(lines), hub.public_key)
    assert report.result.problem is not None
    assert report.result.problem.seq == line
