"""A bundle verified in chunks by several processes: the same verdict, and the same first
bad entry with the same reason, as one process reading it line by line — for tampering
inside a chunk, at a chunk boundary, on the line that anchors the next chunk, missing,
duplicated and reordered lines, and a misplaced trailer."""

from __future__ import annotations

import dataclasses
import io
import itertools
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.audit import (
    Entry,
    Fault,
    HubKey,
    VerifyResult,
    _export,
    _parallel,
    verify_bundle,
    write_bundle,
)
from deconfliction.audit._parallel import Chunk, chunks
from tests.audit.conftest import BLUE, GREEN, RED, make_mixed_chain

N = 40
"""Entries in the bundle (see ``make_mixed_chain``)."""


@pytest.fixture(scope="module")
def signer() -> tuple[Ed25519PrivateKey, HubKey]:
    private = Ed25519PrivateKey.generate()
    return private, HubKey(private)


@pytest.fixture(scope="module")
def entries(hub: HubKey, signer: tuple[Ed25519PrivateKey, HubKey]) -> list[Entry]:
    private, key = signer
    return make_mixed_chain(hub, private, key.public_key.key_id, N)


def _bundle(
    hub: HubKey, entries: list[Entry], signer: tuple[Ed25519PrivateKey, HubKey], **kw: Any
) -> bytes:
    out = io.BytesIO()
    keys = [(BLUE, signer[1].public_key)]
    write_bundle(out, entries, hub.public_key, party_keys=keys, **kw)
    return out.getvalue()


@pytest.fixture(scope="module")
def hub_lines(
    hub: HubKey, entries: list[Entry], signer: tuple[Ed25519PrivateKey, HubKey]
) -> list[bytes]:
    return _bundle(hub, entries, signer).splitlines(keepends=True)


@pytest.fixture(scope="module")
def red_lines(
    hub: HubKey, entries: list[Entry], signer: tuple[Ed25519PrivateKey, HubKey]
) -> list[bytes]:
    """Red's view: some entries in full, the others redacted."""
    return _bundle(hub, entries, signer, party=RED).splitlines(keepends=True)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the bundles verified by the parallel path (so a test knows it was taken)."""
    seen: list[int] = []
    real = _export.verify_file

    def spy(*args: Any, **kw: Any) -> VerifyResult:
        seen.append(kw["jobs"])
        return real(*args, **kw)

    monkeypatch.setattr(_export, "verify_file", spy)
    return seen


@pytest.fixture
def rereads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The chunks the parent read again itself (workers' reads are not counted here: a
    forked worker counts in its own copy of this list)."""
    seen: list[int] = []
    real = _parallel._read

    def spy(path: str | Path, start: int, end: int) -> io.BytesIO:
        seen.append(start)
        return real(path, start, end)

    monkeypatch.setattr(_parallel, "_read", spy)
    return seen


def both(
    path: Path, lines: list[bytes], hub: HubKey, *, chunk_bytes: int = 1, **kw: Any
) -> VerifyResult:
    """Write ``lines`` to ``path``; verify with one process and with two; insist that the
    results are the same; return it."""
    path.write_bytes(b"".join(lines))
    one = verify_bundle(path, hub.public_key, jobs=1, **kw).result
    two = verify_bundle(path, hub.public_key, jobs=2, chunk_bytes=chunk_bytes, **kw).result
    assert two == one, (one.summary(), two.summary())
    return one


def _flip(line: bytes, at: int) -> bytes:
    return line[:at] + bytes([line[at] ^ 0x01]) + line[at + 1 :]


def _at(result: VerifyResult) -> tuple[int, Fault]:
    assert result.problem is not None, result.summary()
    return result.problem.seq, result.problem.fault


# -- the chunks ---------------------------------------------------------------------------------


def test_chunks_cut_at_line_starts_and_anchor_on_the_line_before(
    tmp_path: Path, red_lines: list[bytes]
) -> None:
    path = tmp_path / "b.jsonl"
    data = b"".join(red_lines)
    path.write_bytes(data)
    header_end = len(red_lines[0])
    starts = {header_end + sum(map(len, red_lines[1:i])) for i in range(1, len(red_lines) + 1)}
    for size in (1, 300, 2_000, 10**6):
        parts = chunks(path, header_end, size)
        assert parts[0] == Chunk(None, header_end, parts[0].end)
        assert parts[-1].end == len(data)
        for before, part in itertools.pairwise(parts):
            assert before.end == part.start  # contiguous, nothing skipped or read twice
            assert part.start in starts
            assert part.anchor in starts
            assert data[part.anchor : part.start].count(b"\n") == 1  # the line just before
            assert part.start - before.start >= size
    assert len(chunks(path, header_end, 1)) == len(red_lines) - 1  # one line each


def test_an_intact_bundle_verifies_the_same_in_chunks(
    tmp_path: Path,
    hub: HubKey,
    hub_lines: list[bytes],
    red_lines: list[bytes],
    calls: list[int],
    rereads: list[int],
) -> None:
    for lines, full in ((hub_lines, N), (red_lines, None)):
        for chunk_bytes in (1, 700, 3_000):
            for signatures in ("all", "last"):
                result = both(
                    tmp_path / "b.jsonl",
                    lines,
                    hub,
                    chunk_bytes=chunk_bytes,
                    signatures=signatures,
                )
                assert result.ok, result.summary()
                assert (result.first_seq, result.last_seq, result.count) == (1, N, N)
                assert result.hub_signatures == (N if signatures == "all" else 1)
                if full is not None:
                    assert result.full == full
                    assert result.party_signatures == N // 4
    assert calls == [2] * 12
    assert rereads == []  # every chunk joined as its worker verified it


def test_a_range_verifies_from_its_anchor_in_chunks(
    tmp_path: Path,
    hub: HubKey,
    entries: list[Entry],
    signer: tuple[Ed25519PrivateKey, HubKey],
) -> None:
    lines = _bundle(hub, entries, signer, party=GREEN, from_=11, to=33).splitlines(True)
    result = both(tmp_path / "b.jsonl", lines, hub)
    assert result.ok
    assert (result.first_seq, result.last_seq) == (11, 33)


# -- tampering ----------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["hub", "red"])
@pytest.mark.parametrize("chunk_bytes", [1, 2_500])
def test_a_changed_byte_in_chunk_two_is_named(
    tmp_path: Path,
    hub: HubKey,
    hub_lines: list[bytes],
    red_lines: list[bytes],
    view: str,
    chunk_bytes: int,
) -> None:
    lines = list(hub_lines if view == "hub" else red_lines)
    path = tmp_path / "b.jsonl"
    path.write_bytes(b"".join(lines))
    second = chunks(path, len(lines[0]), chunk_bytes)[1]
    # the line in the middle of chunk 2 (a whole line per chunk when chunk_bytes is 1)
    offsets = [sum(map(len, lines[:i])) for i in range(len(lines))]
    inside = [i for i, o in enumerate(offsets) if second.start <= o < second.end]
    target = inside[len(inside) // 2]
    lines[target] = _flip(lines[target], len(lines[target]) // 2)
    assert _at(both(path, lines, hub, chunk_bytes=chunk_bytes))[0] == target


def test_tampering_at_a_chunk_boundary_is_named(
    tmp_path: Path, hub: HubKey, red_lines: list[bytes]
) -> None:
    path = tmp_path / "b.jsonl"
    path.write_bytes(b"".join(red_lines))
    header_end = len(red_lines[0])
    boundary = chunks(path, header_end, 2_500)[2]
    offsets = [sum(map(len, red_lines[:i])) for i in range(len(red_lines))]
    first = offsets.index(boundary.start)  # the first line of chunk 3
    anchor = offsets.index(boundary.anchor)  # the last line of chunk 2, which anchors chunk 3
    assert anchor == first - 1
    for target, at in ((first, 10), (first, -30), (anchor, 10), (anchor, -30)):
        lines = list(red_lines)
        lines[target] = _flip(lines[target], at if at > 0 else len(lines[target]) + at)
        assert _at(both(path, lines, hub, chunk_bytes=2_500))[0] == target, (target, at)


def test_the_anchor_lines_hash_changed_is_named_on_that_line(
    tmp_path: Path, hub: HubKey, hub_lines: list[bytes]
) -> None:
    """The next chunk starts from the changed hash and fails too; the first one counts."""
    lines = list(hub_lines)
    at = lines[20].index(b'"hash":"') + 8
    other = b"1" if lines[20][at : at + 1] == b"0" else b"0"  # another hex digit
    lines[20] = lines[20][:at] + other + lines[20][at + 1 :]
    assert _at(both(tmp_path / "b.jsonl", lines, hub)) == (20, Fault.HASH)


@pytest.mark.parametrize("chunk_bytes", [1, 2_500])
def test_a_missing_line_at_a_boundary_is_named(
    tmp_path: Path, hub: HubKey, red_lines: list[bytes], chunk_bytes: int
) -> None:
    for gone in (1, 2, 17, N - 1, N):
        lines = red_lines[:gone] + red_lines[gone + 1 :]
        fault = Fault.TRUNCATED if gone == N else Fault.SEQUENCE  # the trailer's head is gone
        result = both(tmp_path / "b.jsonl", lines, hub, chunk_bytes=chunk_bytes)
        assert _at(result) == (gone, fault)


@pytest.mark.parametrize("chunk_bytes", [1, 2_500])
def test_reordered_and_duplicated_lines_are_named(
    tmp_path: Path, hub: HubKey, hub_lines: list[bytes], chunk_bytes: int
) -> None:
    path = tmp_path / "b.jsonl"
    for i in (1, 12, N - 1):
        lines = list(hub_lines)
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
        assert _at(both(path, lines, hub, chunk_bytes=chunk_bytes)) == (i, Fault.SEQUENCE)
    lines = [*hub_lines[:21], hub_lines[20], *hub_lines[21:]]  # entry 20 twice
    assert _at(both(path, lines, hub, chunk_bytes=chunk_bytes)) == (21, Fault.SEQUENCE)
    lines = [hub_lines[0], *hub_lines[21:-1], *hub_lines[1:21], hub_lines[-1]]  # halves swapped
    assert _at(both(path, lines, hub, chunk_bytes=chunk_bytes)) == (1, Fault.SEQUENCE)


def test_a_misplaced_or_missing_trailer_is_named(
    tmp_path: Path, hub: HubKey, hub_lines: list[bytes], rereads: list[int]
) -> None:
    path = tmp_path / "b.jsonl"
    trailer = hub_lines[-1]
    assert _at(both(path, hub_lines[:-1], hub)) == (N + 1, Fault.TRUNCATED)
    # lines after the trailer, wherever the chunks are cut: the chunk after a trailer has
    # no entry to start from, and the parent reads it itself
    assert rereads == []
    assert _at(both(path, [*hub_lines[:21], trailer, *hub_lines[21:]], hub)) == (
        21,
        Fault.FORMAT,
    )
    assert len(rereads) == 1
    assert _at(both(path, [*hub_lines, hub_lines[5]], hub)) == (N + 1, Fault.FORMAT)
    # the last entries cut off, the trailer kept; the last line cut short
    assert _at(both(path, [*hub_lines[:-4], trailer], hub)) == (N - 2, Fault.TRUNCATED)
    assert _at(both(path, [*hub_lines[:-1], trailer[:-5]], hub)) == (N + 1, Fault.FORMAT)


def test_forged_signatures_in_chunk_two_are_named(
    tmp_path: Path,
    hub: HubKey,
    entries: list[Entry],
    signer: tuple[Ed25519PrivateKey, HubKey],
) -> None:
    path = tmp_path / "b.jsonl"
    other = HubKey.generate()
    bad = list(entries)
    bad[13] = dataclasses.replace(entries[13], hub_sig=other.sign(b"x"))
    lines = _bundle(hub, bad, signer).splitlines(True)
    assert _at(both(path, lines, hub, signatures="all")) == (14, Fault.HUB_SIGNATURE)
    # "last" checks the head's signature only (the chain binds the rest to it)
    assert both(path, lines, hub, signatures="last").ok
    # a party signature that does not verify, sealed by the hub
    _, key = signer
    forged = make_mixed_chain(hub, Ed25519PrivateKey.generate(), key.public_key.key_id, N)
    lines = _bundle(hub, forged, signer).splitlines(True)
    assert _at(both(path, lines, hub)) == (4, Fault.PARTY_SIGNATURE)


@settings(
    max_examples=16,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(line=st.integers(1, N), signatures=st.sampled_from(["all", "last"]), data=st.data())
def test_any_changed_byte_gets_the_same_verdict_in_chunks(
    tmp_path: Path,
    hub: HubKey,
    red_lines: list[bytes],
    line: int,
    signatures: str,
    data: st.DataObject,
) -> None:
    """Any changed byte of an entry line is named at that entry, in any chunking. Checking
    the last signature only, that holds for every byte but the stored signature's own: the
    chain binds each entry's content to the signed head."""
    lines = list(red_lines)
    target = lines[line]
    end = len(target) - 2  # not the newline
    if signatures == "last" and line < N:
        end = target.index(b',"sig":"')
    at = data.draw(st.integers(0, end), label="byte")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != target[at]), label="value")
    lines[line] = target[:at] + bytes([new]) + target[at + 1 :]
    chunk_bytes = data.draw(st.sampled_from([1, 900, 2_500]), label="chunk_bytes")
    result = both(tmp_path / "b.jsonl", lines, hub, chunk_bytes=chunk_bytes, signatures=signatures)
    assert result.problem is not None
    assert result.problem.seq == line


# -- the rest -----------------------------------------------------------------------------------


class _Told(list[tuple[int, int]]):
    """A progress callback that keeps what it was told."""

    def __call__(self, done: int, total: int) -> None:
        self.append((done, total))


def test_progress_is_told_up_to_the_whole(
    tmp_path: Path, hub: HubKey, hub_lines: list[bytes]
) -> None:
    path = tmp_path / "b.jsonl"
    path.write_bytes(b"".join(hub_lines))
    total = path.stat().st_size - len(hub_lines[0])
    for jobs in (1, 2):
        told = _Told()
        kw = {"chunk_bytes": 2_000} if jobs == 2 else {}
        report = verify_bundle(path, hub.public_key, jobs=jobs, progress=told, **kw)
        assert report.ok
        assert told[-1] == (total, total)
        assert [d for d, _ in told] == sorted(d for d, _ in told)
        if jobs == 2:
            assert len(told) == len(chunks(path, len(hub_lines[0]), 2_000))


def test_bytes_streams_and_small_files_are_read_in_one_process(
    tmp_path: Path, hub: HubKey, hub_lines: list[bytes], calls: list[int]
) -> None:
    data = b"".join(hub_lines)
    path = tmp_path / "b.jsonl"
    path.write_bytes(data)
    assert verify_bundle(data, hub.public_key, jobs=2, chunk_bytes=1).ok
    with path.open("rb") as f:
        assert verify_bundle(f, hub.public_key, jobs=2, chunk_bytes=1).ok
    assert verify_bundle(path, hub.public_key, jobs=2).ok  # less than one chunk
    assert calls == []
    assert verify_bundle(str(path), hub.public_key, jobs=2, chunk_bytes=1).ok
    assert calls == [2]


def test_a_threaded_caller_gets_its_workers_from_a_fork_server(
    tmp_path: Path, hub: HubKey, hub_lines: list[bytes]
) -> None:
    """Forking a process that runs threads can deadlock: such a caller does not fork."""
    if threading.active_count() == 1:
        assert _parallel._context().get_start_method() == "fork"
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert _parallel._context().get_start_method() == "forkserver"
        lines = list(hub_lines)
        lines[30] = _flip(lines[30], 50)
        assert _at(both(tmp_path / "b.jsonl", lines, hub)) == (30, Fault.HASH)
    finally:
        stop.set()
        thread.join()
