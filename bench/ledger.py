"""Ledger benchmark: append + sign cost per event, and verification speed of a large export.

It measures, in one process:

* **seal**: canonical body + SHA-256 chain + Ed25519 signature per event, in memory, and
  the same without the signature (the baseline: the ratio is what signing costs);
* **SQLite**: ``Ledger.append`` into a real store, one transaction per event (as a filing
  does: each commit is fsynced) and 1,000 per transaction (the ledger's own cost), each
  against the same transactions without the ledger;
* **verify**: a ``--events`` entry hub export (default 200,000; ``--full`` makes it the
  1,000,000 the issue's target is set on), generated with the signatures spread over the
  cores, then verified offline with ``verify_bundle`` checking every body (hash and
  canonical form), digest and link and the last hub signature (``signatures="last"``,
  which authenticates every entry through the chain) — with one process (the baseline)
  and with ``--jobs`` processes (default: one per CPU); and, on a ``--sample`` entry
  prefix, every hub signature (``signatures="all"``) and a party's view, with ``--jobs``.

* **filings**: the hotline itself, in this process, on two fresh embedded stores — one
  with the ledger as its recorder (every filing records its version, conflict and notice
  entries, signed), one without — each filing over another party's activity (so it makes
  a conflict and a notice), from 8 threads as the server's worker pool does (group commit),
  in chunks alternating between the two (see :func:`bench_filings`). ``overhead_pct`` is
  what the ledger costs in filings/s (target ≤ 20 %), ``overhead_pct_rounds`` the same
  per round (the spread is the machine's noise).

Usage: ``python bench/ledger.py [--full | --events N] [--jobs N] [--sample 20000]
[--filings 600 --rounds 3] [--filings-only]``. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures as cf
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from tqdm import tqdm

from deconfliction.audit import (
    GENESIS,
    Actor,
    Draft,
    Entry,
    HubKey,
    Ledger,
    export,
    seal,
    verify_bundle,
    write_bundle,
)
from deconfliction.audit._chain import chain_hash, hub_message
from deconfliction.hotline import ActivityDraft
from deconfliction.model import Party
from deconfliction.store import open_store, sqlite_url

T0 = datetime(2026, 12, 1, tzinfo=UTC)
PARTIES = [UUID(int=i) for i in range(1, 11)]
CHUNK = 5_000


def draft(i: int) -> Draft:
    """A notice-sized event: a party files, two others are concerned."""
    actor = PARTIES[i % 10]
    return Draft(
        T0 + timedelta(milliseconds=i),
        Actor(actor, UUID(int=1000 + i % 10)),
        "notice.sent",
        [PARTIES[(i + 1) % 10], PARTIES[(i + 3) % 10]],
        {
            "notice": str(UUID(int=10**6 + i)),
            "activity": str(UUID(int=2 * 10**6 + i)),
            "version": 1 + i % 4,
            "reason": "conflict",
            "lead_time_s": 3600.25 + i,
            "late": i % 7 == 0,
            "deadline": "2026-12-01T12:00:00Z",
        },
    )


def bench_seal(n: int) -> tuple[float, float]:
    """µs per event: sealing (canonical + hashes + signature) and the unsigned baseline."""
    key = HubKey.generate()
    drafts = [draft(i) for i in range(n)]
    t = time.perf_counter()
    prev = GENESIS
    for i, d in enumerate(drafts, 1):
        prev = seal(d, i, prev, key).hash
    signed = (time.perf_counter() - t) / n * 1e6
    t = time.perf_counter()
    prev = GENESIS
    for i, d in enumerate(drafts, 1):
        prev = chain_hash(i, prev, hashlib.sha256(d.body(i)).digest())
    unsigned = (time.perf_counter() - t) / n * 1e6
    return signed, unsigned


def bench_sqlite(n: int, batch: int) -> tuple[float, float]:
    """µs per event into SQLite, and the same transactions without the ledger."""
    with tempfile.TemporaryDirectory() as d, open_store(sqlite_url(Path(d))) as store:
        ledger = Ledger.open(Path(d))
        with store.transaction() as tx:
            for p in PARTIES:
                tx.add_party(Party(p, f"P{p.int}", "armed_force", T0))
        timings = []
        for with_ledger in (False, True):
            t = time.perf_counter()
            for start in range(0, n, batch):
                with store.transaction() as tx:
                    for i in range(start, min(n, start + batch)):
                        d = draft(i)
                        tx.append_event(PARTIES[i % 10], "bench", {"i": i}, d.at)
                        if with_ledger:
                            ledger.append(
                                tx,
                                at=d.at,
                                actor=d.actor,
                                type=d.type,
                                parties=d.parties,
                                payload=d.payload,
                            )
            timings.append((time.perf_counter() - t) / n * 1e6)
        with store.read() as tx:
            assert ledger.verify(tx, signatures="last").ok
        return timings[1], timings[0]


_KEY: HubKey | None = None


class _Filings:
    """A hotline on a fresh embedded store, with or without the ledger as its recorder, and
    Blue's activities filed, one per place: Red's filings (:meth:`file`) meet them."""

    def __init__(self, data_dir: Path, n: int, ledger_on: bool) -> None:
        from deconfliction.api import Settings, build_hotline
        from deconfliction.bus import InProcessBus

        self.hot = hot = build_hotline(Settings(data_dir=data_dir, progress=False), InProcessBus())
        if not ledger_on:
            hot.recorder = None
        _, secret = hot.bootstrap() or (None, "")
        admin = hot.authenticate(secret)
        self.who = []
        for name in ("Blue", "Red"):
            p = hot.add_party(admin, name, "armed_force")
            _, tok = hot.create_token(admin, p.id, "operator")
            self.who.append(hot.authenticate(tok))
        self.drafts = [self._draft(i, datetime.now(UTC) + timedelta(days=1)) for i in range(n)]
        for d in self.drafts:
            hot.file(self.who[0], d)

    @staticmethod
    def _draft(i: int, start: datetime) -> ActivityDraft:
        from deconfliction.geo import AltitudeBand, Circle, TimeWindow, Volume4D

        lon, lat = -30.0 + (i % 300) * 0.2, -40.0 + (i // 300) * 0.2
        w = TimeWindow(start, start + timedelta(hours=1))
        return ActivityDraft(
            "flight", f"f{i}", (Volume4D(Circle((lon, lat), 2_000.0), AltitudeBand(0, 3_000), w),)
        )

    def file(self, first: int, last: int, threads: int = 8) -> float:
        """Red files over Blue's activities ``first`` to ``last - 1`` from ``threads``
        threads (group commit, as the server's worker pool does); the seconds it took."""
        import threading

        def work(k: int) -> None:
            for i in range(first + k, last, threads):
                self.hot.file(self.who[1], self.drafts[i])

        ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        t = time.perf_counter()
        for x in ts:
            x.start()
        for x in ts:
            x.join()
        return time.perf_counter() - t


def bench_filings(n: int, rounds: int = 3, chunk: int = 100) -> tuple[float, float, list[float]]:
    """Filings/s with the ledger and without, and the overhead (%) of each round.

    Each round builds both hotlines side by side (fresh stores) and times ``n`` filings on
    each in chunks of ``chunk``, alternating between them (and which one goes first): the
    machine's other load, which comes and goes over seconds, then falls on both alike
    instead of on whichever ran at a bad moment. The rates are over all rounds' filings.
    """
    spent = [0.0, 0.0]
    per_round = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as d_on, tempfile.TemporaryDirectory() as d_off:
            sides = [_Filings(Path(d_on), n, True), _Filings(Path(d_off), n, False)]
            try:
                took = [0.0, 0.0]
                for k, first in enumerate(range(0, n, chunk)):
                    for s in (0, 1) if k % 2 == 0 else (1, 0):
                        took[s] += sides[s].file(first, min(n, first + chunk))
            finally:
                for side in sides:
                    side.hot.store.close()
        per_round.append((1 - took[1] / took[0]) * 100)
        spent = [spent[0] + took[0], spent[1] + took[1]]
    return rounds * n / spent[0], rounds * n / spent[1], per_round


def _init(key_dir: str) -> None:
    global _KEY
    _KEY = HubKey.load(Path(key_dir) / "ledger-key.pem")


def _sign(hashes: list[bytes]) -> list[bytes]:
    assert _KEY is not None
    return [_KEY.sign(hub_message(h)) for h in hashes]


def generate(n: int, key_dir: Path, workers: int) -> Iterator[Entry]:
    """``n`` sealed entries in order; the signatures are made by a process pool."""
    prev = GENESIS
    Row = tuple[int, bytes, bytes, bytes, bytes]
    pending: collections.deque[tuple[list[Row], cf.Future[list[bytes]]]] = collections.deque()
    with cf.ProcessPoolExecutor(workers, initializer=_init, initargs=(str(key_dir),)) as pool:

        def drain(limit: int) -> Iterator[Entry]:
            while len(pending) > limit:
                rows, fut = pending.popleft()
                for (seq, body, digest, p, h), sig in zip(rows, fut.result(), strict=True):
                    yield Entry(seq, body, digest, p, h, sig)

        for start in range(1, n + 1, CHUNK):
            rows = []
            for seq in range(start, min(n, start + CHUNK - 1) + 1):
                body = draft(seq).body(seq)
                digest = hashlib.sha256(body).digest()
                h = chain_hash(seq, prev, digest)
                rows.append((seq, body, digest, prev, h))
                prev = h
            pending.append((rows, pool.submit(_sign, [r[4] for r in rows])))
            yield from drain(2 * workers)
        yield from drain(0)


def _keeping(entries: Iterator[Entry], kept: list[Entry], n: int) -> Iterator[Entry]:
    """``entries``, keeping the first ``n`` in ``kept``."""
    for entry in entries:
        if entry.seq <= n:
            kept.append(entry)
        yield entry


def _cpu_s() -> float:
    """CPU seconds of this process and of its children that have ended (the workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000, help="entries in the big export")
    ap.add_argument(
        "--full", action="store_true", help="the issue's size: a 1,000,000-entry export"
    )
    ap.add_argument("--sample", type=int, default=20_000, help="entries for the all-signatures run")
    ap.add_argument("--seal", type=int, default=5_000, help="events for the seal/SQLite timings")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="to generate")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="to verify")
    ap.add_argument("--filings", type=int, default=600, help="filings per side and round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the filings part")
    ap.add_argument(
        "--filings-only", action="store_true", help="run the filings part alone (quick)"
    )
    args = ap.parse_args()
    tqdm.monitor_interval = 0  # no monitor thread: verify_bundle then forks its workers
    if args.full:
        args.events = 1_000_000

    fps_on, fps_off, rounds = bench_filings(args.filings, args.rounds)
    overhead = (1 - fps_on / fps_off) * 100
    print(
        f"filings (each with a conflict and a notice, 8 threads): {fps_on:.0f}/s with the "
        f"ledger, {fps_off:.0f}/s without: the ledger costs {overhead:.1f} % (target ≤ 20 %; "
        f"each round: {', '.join(f'{r:.1f} %' for r in rounds)})"
    )
    filings = {
        "filings_per_s_ledger": round(fps_on, 1),
        "filings_per_s_unsigned": round(fps_off, 1),
        "overhead_pct": round(overhead, 1),
        "overhead_pct_rounds": [round(r, 1) for r in rounds],
    }
    if args.filings_only:
        print(json.dumps({"bench": "ledger", **filings}))
        return 0

    sign_us, unsigned_us = bench_seal(args.seal)
    print(
        f"seal in memory: {sign_us:.1f} µs/event signed, {unsigned_us:.1f} µs unsigned "
        f"(signing ×{sign_us / unsigned_us:.1f})"
    )
    tx_us, tx_base = bench_sqlite(min(args.seal, 2_000), 1)
    batch_us, batch_base = bench_sqlite(args.seal, 1_000)
    print(
        f"SQLite, one transaction per event: {tx_us:.0f} µs with the ledger, "
        f"{tx_base:.0f} µs without (×{tx_us / tx_base:.2f})"
    )
    print(
        f"SQLite, 1,000 events per transaction: {batch_us:.1f} µs with the ledger, "
        f"{batch_base:.1f} µs without (+{batch_us - batch_base:.1f} µs/event)"
    )

    with tempfile.TemporaryDirectory() as d:
        key = HubKey.load_or_create(Path(d))
        path = Path(d) / "export.jsonl"
        sample: list[Entry] = []
        t = time.perf_counter()
        with path.open("wb") as f:
            entries = tqdm(
                generate(args.events, Path(d), args.workers),
                total=args.events,
                desc="generate",
                unit="ev",
                mininterval=2,
                file=sys.stderr,
            )
            write_bundle(f, _keeping(entries, sample, args.sample), key.public_key)
        gen_s = time.perf_counter() - t
        size_mb = path.stat().st_size / 1e6
        print(f"generated {args.events:,} entries ({size_mb:,.0f} MB) in {gen_s:.0f} s")

        rates: dict[str, float] = {}
        cpu_us: dict[int, float] = {}
        for jobs in (1, args.jobs):
            t, cpu = time.perf_counter(), _cpu_s()
            report = verify_bundle(path, key.public_key, signatures="last", jobs=jobs)
            rates[f"last_{jobs}"] = args.events / (time.perf_counter() - t)
            cpu_us[jobs] = (_cpu_s() - cpu) / args.events * 1e6
            assert report.ok, report.summary()
        one, many = rates["last_1"], rates[f"last_{args.jobs}"]
        print(
            f"verify {args.events:,} entries (every body, digest and link, the last "
            f"signature): {one:,.0f} events/s in one process, {many:,.0f} with {args.jobs} "
            f"(×{many / one:.2f}; target ≥ 50,000 on 1,000,000); CPU {cpu_us[1]:.1f} µs/event "
            f"in one process, {cpu_us[args.jobs]:.1f} with {args.jobs} (on cores shared with "
            f"other work, wall-clock rates fall below what the CPU time allows)"
        )

        sample_path = Path(d) / "sample.jsonl"
        party_path = Path(d) / "party.jsonl"
        sample_path.write_bytes(export(sample, key.public_key))
        party_path.write_bytes(export(sample, key.public_key, party=PARTIES[0]))
        for name, bundle, mode in (
            ("all_sigs", sample_path, "all"),
            ("party_view_last", party_path, "last"),
            ("party_view_all_sigs", party_path, "all"),
        ):
            t = time.perf_counter()
            r = verify_bundle(bundle, key.public_key, signatures=mode, jobs=args.jobs)  # type: ignore[arg-type]
            rates[name] = len(sample) / (time.perf_counter() - t)
            assert r.ok, r.summary()
        print(
            f"verify every hub signature too ({len(sample):,} entries, --jobs {args.jobs}): "
            f"{rates['all_sigs']:,.0f} events/s (×{many / rates['all_sigs']:.0f} slower: "
            "Ed25519 verification)"
        )
        print(
            f"a party's view (it sees 3 in 10 entries in full): "
            f"{rates['party_view_last']:,.0f} events/s last signature, "
            f"{rates['party_view_all_sigs']:,.0f} every signature"
        )
    print(
        json.dumps(
            {
                "bench": "ledger",
                "sign_us_per_event": round(sign_us, 1),
                "unsigned_us_per_event": round(unsigned_us, 1),
                "sqlite_append_us_per_event": round(tx_us, 1),
                "sqlite_baseline_us_per_event": round(tx_base, 1),
                "sqlite_batched_ledger_us_per_event": round(batch_us - batch_base, 1),
                **filings,
                "verify_events_per_s": round(many),
                "verify_events_per_s_1_job": round(one),
                "verify_events": args.events,
                "verify_jobs": args.jobs,
                "verify_cpu_us_per_event": round(cpu_us[args.jobs], 1),
                "verify_cpu_us_per_event_1_job": round(cpu_us[1], 1),
                "verify_all_signatures_events_per_s": round(rates["all_sigs"]),
                "verify_party_view_events_per_s": round(rates["party_view_last"]),
                "verify_party_view_all_signatures_events_per_s": round(
                    rates["party_view_all_sigs"]
                ),
                "events": args.events,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
