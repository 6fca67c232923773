"""Several writers on one database — threads on several engines in this process, and
several processes with their own engines and threads — append to the ledger at once; some
of their transactions roll back after appending. The seqs stay gap-free (1..N, N the
entries committed), totally ordered, and the chain verifies. On SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from deconfliction.audit import HubKey, Ledger
from deconfliction.store import open_store
from deconfliction.store._ledger import ledger_rows
from tests.audit.ledger_writer import run_threads

ROOT = Path(__file__).resolve().parents[2]
PROCESSES, ENGINES, THREADS, ROUNDS = 3, 2, 3, 12


def test_concurrent_writers_on_several_engines_and_processes(
    store_url: str, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    HubKey.load_or_create(keys)
    open_store(store_url).close()  # migrated before the writers start
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.audit.ledger_writer",
                store_url,
                str(keys),
                f"p{i}",
                str(THREADS),
                str(ROUNDS),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    stores = [open_store(store_url) for _ in range(ENGINES)]
    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline() == "ready\n"
        ledger = Ledger.open(keys)
        counts: list[int] = []
        local = [
            threading.Thread(
                target=lambda s=s, k=k: counts.append(run_threads(s, ledger, f"e{k}", 2, ROUNDS))
            )
            for k, s in enumerate(stores)
        ]
        for p in procs:  # go: every writer starts now
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        for t in local:
            t.start()
        for t in local:
            t.join()
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
            counts.append(int(out.split()[-1]))
        assert len(counts) == PROCESSES + ENGINES
        with stores[0].read() as tx:
            seqs = [row.seq for row in ledger_rows(tx)]
            writers = {row.body.split(b'"writer":"')[1].split(b"/")[0] for row in ledger_rows(tx)}
            result = ledger.verify(tx)
            head = ledger.head(tx)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        for s in stores:
            s.close()
    total = sum(counts)
    # per committed round: 1, 2 or 3 entries; every 5th round rolled back
    assert total == PROCESSES * THREADS * 21 + ENGINES * 2 * 21
    assert seqs == list(range(1, total + 1))
    assert head[0] == total
    assert writers == {f"p{i}".encode() for i in range(PROCESSES)} | {b"e0", b"e1"}
    assert result.ok, result.problem
    assert result.count == total
