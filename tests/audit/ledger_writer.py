"""A ledger writer for ``test_ledger_concurrency.py``: one engine, several threads.

``python -m tests.audit.ledger_writer URL KEY_DIR NAME THREADS ROUNDS`` opens the store
(migrating it if needed), prints ``ready``, waits for a line on stdin, then runs
``THREADS`` threads of ``ROUNDS`` transactions each (see :func:`hammer`) and prints
``committed N``: the entries its committed transactions appended.
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from deconfliction.audit import Actor, Ledger
from deconfliction.store import SqlStore, open_store

T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)


class Rollback(Exception):
    """Raised inside a transaction on purpose: its appended entries must vanish."""


def hammer(store: SqlStore, ledger: Ledger, name: str, rounds: int) -> int:
    """``rounds`` transactions appending 1 to 3 entries each; every 5th rolls back after
    appending. Returns the entries committed."""
    committed = 0
    for i in range(rounds):
        n = 1 + i % 3
        try:
            with store.transaction() as tx:
                for j in range(n):
                    payload = {"writer": name, "round": i, "j": j}
                    ledger.append(tx, at=T0, actor=Actor(UUID(int=1)), type="tick", payload=payload)
                if i % 5 == 4:
                    raise Rollback
        except Rollback:
            continue
        committed += n
    return committed


def run_threads(store: SqlStore, ledger: Ledger, name: str, threads: int, rounds: int) -> int:
    """:func:`hammer` in ``threads`` threads on one store; re-raises the first error."""
    counts: list[int] = []
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            counts.append(hammer(store, ledger, f"{name}/{k}", rounds))
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    if errors:
        raise errors[0]
    return sum(counts)


def main(argv: list[str]) -> None:
    url, key_dir, name, threads, rounds = argv
    with open_store(url) as store:
        ledger = Ledger.open(Path(key_dir))
        print("ready", flush=True)
        sys.stdin.readline()
        committed = run_threads(store, ledger, name, int(threads), int(rounds))
    print(f"committed {committed}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
