"""Crash safety end to end: a few rounds of ``kill -9`` under mixed load (``make soak-crash``
runs many more). Each round's findings — any lost acknowledged write, half-written
change, ledger gap, stream gap or duplicate, or idempotent retry that made a second
object — fail the test with the list."""

from __future__ import annotations

import os

import pytest

from tests.api._hub import data_dir
from tests.crash.harness import CrashRun, Options
from tests.pgcluster import PgCluster


def _run(opts: Options, name: str) -> None:
    with data_dir(name) as data, CrashRun(data, opts, log=lambda _: None) as run:
        for i in range(1, opts.rounds + 1):
            run.round(i)
        s = run.summary
        assert s.findings == [], "\n".join(s.findings[:40]) + "\n" + run.server.log()[-3000:]
        assert s.kills >= opts.rounds
        assert s.acknowledged_checked >= opts.rounds * opts.ops // 4  # the load did run
        assert s.replays_checked > 0
        assert s.deliveries_confirmed > 0
        assert "Traceback" not in run.server.log(), run.server.log()


def test_kill_9_rounds_sqlite() -> None:
    _run(Options(rounds=2, ops=60, seed=11), "crash-sqlite")


@pytest.mark.skipif(
    os.environ.get("DECONFLICTION_NO_POSTGRES") == "1", reason="DECONFLICTION_NO_POSTGRES=1"
)
def test_kill_9_rounds_postgresql() -> None:
    with PgCluster() as pg:
        _run(Options(rounds=1, ops=60, seed=12, database_url=pg.create_database()), "crash-pg")
