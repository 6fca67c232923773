"""Crash soak: many rounds of ``kill -9`` under mixed load (``make soak-crash``).

    python bench/crash.py [--rounds 30] [--ops 200] [--seed 1] [--postgres | --database-url URL]

Prints one line per round, a summary (rounds, operations, kills, acknowledged writes
checked, findings, each finding) and ends with one JSON line. Exit status 1 on any finding.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.api._hub import data_dir
from tests.crash.harness import CrashRun, Options
from tests.pgcluster import PgCluster


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--ops", type=int, default=200, help="operations per round")
    ap.add_argument("--seed", type=int, default=1)
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster")
    where.add_argument("--database-url", help="a PostgreSQL URL (default: SQLite file)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    with ExitStack() as stack:
        url = args.database_url
        if args.postgres:
            url = stack.enter_context(PgCluster()).create_database()
        data = stack.enter_context(data_dir("soak-crash"))
        opts = Options(rounds=args.rounds, ops=args.ops, seed=args.seed, database_url=url)
        run = stack.enter_context(CrashRun(data, opts, log=lambda s: print(s, flush=True)))
        for i in range(1, args.rounds + 1):
            run.round(i)
        s = run.summary
        s.seconds = round(time.perf_counter() - t0, 1)
    print(
        f"store {s.store}: {s.rounds} rounds, {s.operations} operations, {s.kills} kills "
        f"({s.startup_kills} while starting), "
        f"{s.acknowledged_checked} acknowledged writes checked ({s.retried_after_crash} "
        f"retried after a crash, {s.committed_before_crash} of them committed before it), "
        f"{s.replays_checked} idempotent replays, {s.deliveries_confirmed} confirmed "
        f"deliveries, {s.events_checked} stream events, {s.ledger_entries} ledger entries, "
        f"restart ≤ {s.restart_s_max:.2f} s, {s.seconds} s; findings: {len(s.findings)}"
    )
    for f in s.findings:
        print(f"  FINDING {f}")
    print(json.dumps({"bench": "crash"} | s.as_json()))
    return 1 if s.findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
