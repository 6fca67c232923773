"""Verifying a bundle file with several processes: chunks verified apart, joined in order.

Every entry is checked against the hash the entry before it *states* (and that entry's own
check proves the stated hash is the one computed), so a run of lines can be verified on
its own from an **anchor**: the seq and stated hash of the line just before it. The file,
after its header, is cut at line starts into chunks of about ``chunk_bytes``; a pool of
``jobs`` processes verifies each chunk with a :class:`~deconfliction.audit.Verifier` of its
own, anchored at the last line of the chunk before (the first chunk at the header's
``start``). The parent joins the chunks' results in file order with
:meth:`~deconfliction.audit.Verifier.join`, which takes a chunk only if its anchor is
exactly where the parent's verifier stands: the seq after the last entry accepted, and that
entry's hash. A chunk that does not join — its anchor line is the trailer or no entry
line, or a trailer came before it — the parent reads again itself, from its own state. It
stops at the first chunk with a problem. So the result, the first bad entry and its reason
are exactly those of reading the file line by line in one process (a test holds every
tampering case to that); only the time differs.

Workers are forked when the calling process runs a single thread (no start-up cost);
otherwise (forking a threaded process can deadlock) they come from a fork server, which
imports this package once (a second or so) and then forks them cheaply.
"""

from __future__ import annotations

import io
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import IO
from uuid import UUID

from deconfliction.audit._bundle import Header, Trailer, anchor_of, conclude, scan
from deconfliction.audit._keys import PublicKey
from deconfliction.audit._verify import Segment, Signatures, Verifier, VerifyResult

__all__ = [
    "CHUNK_BYTES",
    "MIN_CHUNK_BYTES",
    "Chunk",
    "Progress",
    "chunk_size",
    "chunks",
    "verify_file",
]

CHUNK_BYTES = 8 << 20
"""At most about this many bytes of entry lines per task (some 11,000 entries)."""

MIN_CHUNK_BYTES = 1 << 20
"""At least this many per task: a smaller bundle is not worth starting processes for."""


def chunk_size(size: int, jobs: int) -> int:
    """Bytes per task for ``size`` bytes of entry lines and ``jobs`` processes: four tasks
    per process or more (so that the processes finish together), within
    [:data:`MIN_CHUNK_BYTES`, :data:`CHUNK_BYTES`].

    >>> chunk_size(700 << 20, 2) == CHUNK_BYTES, chunk_size(10 << 20, 2), chunk_size(10, 2)
    (True, 1310720, 1048576)
    """
    return min(CHUNK_BYTES, max(MIN_CHUNK_BYTES, size // (4 * max(1, jobs))))


Progress = Callable[[int, int], None]
"""Called with (bytes of entry lines verified, bytes in all) as the work goes on."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """Entry lines ``[start, end)`` of a file; ``anchor``: the offset of the line before
    them (None for the first chunk, anchored by the header)."""

    anchor: int | None
    start: int
    end: int


def _line_start(f: IO[bytes], end: int, floor: int) -> int:
    """Where the line that ends at ``end`` (its newline at ``end - 1``) starts."""
    pos = end - 1
    while pos > floor:
        low = max(floor, pos - 65_536)
        f.seek(low)
        found = f.read(pos - low).rfind(b"\n")
        if found >= 0:
            return low + found + 1
        pos = low
    return floor


def chunks(path: Path, header_end: int, chunk_bytes: int) -> list[Chunk]:
    """The file's entry lines (from ``header_end``) cut at line starts into chunks of at
    least ``chunk_bytes`` (the last one may be shorter).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "b"
    ...     _ = p.write_bytes(b"head\\nl1\\nl2\\nl3\\n")
    ...     chunks(p, 5, 1)
    [Chunk(anchor=None, start=5, end=8), Chunk(anchor=5, start=8, end=11), Chunk(anchor=8, start=11, end=14)]
    """
    size = path.stat().st_size
    bounds: list[tuple[int | None, int]] = [(None, header_end)]
    with path.open("rb") as f:
        pos = header_end + max(1, chunk_bytes)
        while pos < size:
            f.seek(pos - 1)
            f.readline()  # to the end of the line holding byte pos - 1
            start = f.tell()
            if start >= size:
                break
            bounds.append((_line_start(f, start, header_end), start))
            pos = start + max(1, chunk_bytes)
    ends = [start for _, start in bounds[1:]] + [size]
    return [Chunk(anchor, start, end) for (anchor, start), end in zip(bounds, ends, strict=True)]


@dataclass(frozen=True, slots=True)
class _Job:
    """What every worker needs (sent once, to the pool's initializer)."""

    path: str
    hub_key: bytes
    party_keys: tuple[tuple[UUID, str, bytes], ...]
    signatures: Signatures
    start_seq: int
    prev_hash: bytes


class _Worker:
    def __init__(self, job: _Job) -> None:
        self.job = job
        self.key = PublicKey(job.hub_key)
        self.party_keys = {(p, k): PublicKey(raw) for p, k, raw in job.party_keys}


_WORKER: _Worker | None = None


def _init(job: _Job) -> None:
    global _WORKER
    _WORKER = _Worker(job)


def _read(path: str | Path, start: int, end: int) -> io.BytesIO:
    with open(path, "rb") as f:
        f.seek(start)
        return io.BytesIO(f.read(end - start))


def _verify_chunk(chunk: Chunk) -> tuple[Segment | None, Trailer | None]:
    """In a worker: verify one chunk from its anchor (None: the anchor line is no entry)."""
    worker = _WORKER
    assert worker is not None, "the pool's initializer sets the worker up"
    job = worker.job
    if chunk.anchor is None:
        start_seq, prev_hash = job.start_seq, job.prev_hash
    else:
        with open(job.path, "rb") as f:
            f.seek(chunk.anchor)
            line = f.readline()
        anchor = anchor_of(line) if chunk.anchor + len(line) == chunk.start else None
        if anchor is None:
            return None, None
        start_seq, prev_hash = anchor[0] + 1, anchor[1]
    verifier = Verifier(
        worker.key,
        start_seq=start_seq,
        prev_hash=prev_hash,
        party_keys=worker.party_keys,
        signatures=job.signatures,
    )
    trailer = scan(verifier, _read(job.path, chunk.start, chunk.end))
    return verifier.segment(), trailer


def _context() -> BaseContext:
    """Fork a single-threaded caller; otherwise start workers from a fork server (one
    process that imported this module once), or spawn them where there is none."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def verify_file(
    path: Path,
    header: Header,
    header_end: int,
    public_key: PublicKey,
    *,
    signatures: Signatures,
    jobs: int,
    chunk_bytes: int,
    progress: Progress | None = None,
) -> VerifyResult:
    """Verify the entry lines and the trailer of the bundle at ``path`` (its header, of
    ``header_end`` bytes, already read) with ``jobs`` processes: the same result as
    :func:`~deconfliction.audit._bundle.scan` over the lines, then
    :func:`~deconfliction.audit._bundle.conclude`."""
    parts = chunks(path, header_end, chunk_bytes)
    total = parts[-1].end - header_end
    verifier = Verifier(
        public_key,
        start_seq=header.start_seq,
        prev_hash=header.prev_hash,
        party_keys=header.party_keys,
        signatures=signatures,
    )
    job = _Job(
        str(path),
        public_key.raw,
        tuple((p, k, key.raw) for (p, k), key in header.party_keys.items()),
        signatures,
        header.start_seq,
        header.prev_hash,
    )
    trailer: Trailer | None = None
    workers = max(1, min(jobs, len(parts)))
    with ProcessPoolExecutor(
        workers, mp_context=_context(), initializer=_init, initargs=(job,)
    ) as pool:
        futures: list[Future[tuple[Segment | None, Trailer | None]]] = [
            pool.submit(_verify_chunk, part) for part in parts
        ]
        try:
            for part, future in zip(parts, futures, strict=True):
                segment, found = future.result()
                if segment is not None and trailer is None and verifier.joins(segment):
                    verifier.join(segment)
                    trailer = found
                else:  # read it here, from where the chain really stands
                    trailer = scan(verifier, _read(path, part.start, part.end), trailer)
                if progress is not None:
                    progress(part.end - header_end, total)
                if verifier.problem is not None:
                    break
        finally:
            for future in futures:
                future.cancel()
    return conclude(verifier, trailer)
