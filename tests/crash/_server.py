"""The real hub as a user runs it: ``deconfliction serve`` in a subprocess, killed with SIGKILL.

:class:`Server` keeps one store (the SQLite file in its data directory, or a PostgreSQL
URL) and one loopback port across restarts, so clients keep their base URL; a kill is
``SIGKILL`` (no shutdown, no flush beyond what was committed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.api._hub import bootstrap, free_port

__all__ = ["Server", "store_url"]

READY_TIMEOUT_S = 60.0


def store_url(data_dir: Path, database_url: str | None) -> str:
    """The SQLAlchemy URL of the hub's store (what ``deconfliction serve`` would open)."""
    if database_url is None:
        return f"sqlite:///{data_dir / 'hotline.db'}"
    if database_url.startswith("postgresql://"):
        return "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return database_url


class Server:
    """``deconfliction serve --data-dir DIR [--database-url URL]`` on a fixed loopback port."""

    def __init__(self, data_dir: Path, *, database_url: str | None = None) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0
        self.startup_kills = 0  # of which before it was ready
        self.log_path = data_dir / "server.log"
        self.policy = data_dir / "policy.toml"
        # short answer deadlines, so that notices escalate and expire during a round (the
        # sweep's writes are crashed into too); links never degrade during a run
        self.policy.write_text(
            "[defaults]\nack_deadline_min = 0.2\n[tracks]\nalert_deadline_s = 10\n"
            "[links]\ndegraded_after_min = 600\ndown_after_min = 601\n"
        )
        self.admin = bootstrap(data_dir, database_url)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    @property
    def store_url(self) -> str:
        return store_url(self.data_dir, self.database_url)

    def engine(self) -> sa.Engine:
        """A read-side engine on the hub's store (for the checks)."""
        if self.database_url is None:  # BEGIN is sent by the reader (pysqlite would not)
            args = {"isolation_level": None, "timeout": 30}
            return sa.create_engine(self.store_url, poolclass=sa.NullPool, connect_args=args)
        return sa.create_engine(self.store_url, poolclass=sa.NullPool)

    def start(self, *, kill_after_s: float | None = None) -> float:
        """Start the hub; return the seconds until ``/readyz`` said 200. ``kill_after_s``:
        ``kill -9`` it that long after the start instead if it is not ready by then (a
        crash during startup: migrations, index rebuild); return -1 if it was."""
        assert self.proc is None, "already running"
        exe = Path(sys.executable).with_name("deconfliction")
        argv = [str(exe), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        argv += ["--data-dir", str(self.data_dir), "--policy", str(self.policy)]
        argv += ["--log-level", "warning"]
        if self.database_url is not None:
            argv += ["--database-url", self.database_url]
        env = {k: v for k, v in os.environ.items() if not k.startswith("DECONFLICTION_")}
        env |= {"DECONFLICTION_PROGRESS": "false", "DECONFLICTION_HEARTBEAT_S": "0.5"}
        self.starts += 1
        t0 = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        while time.perf_counter() - t0 < READY_TIMEOUT_S:
            if kill_after_s is not None and time.perf_counter() - t0 > kill_after_s:
                self.kill()
                self.startup_kills += 1
                return -1.0
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError(f"the hub exited at start:\n{self.log()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1.0).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the hub was not ready in {READY_TIMEOUT_S} s:\n{self.log()}")

    def kill(self) -> None:
        """``kill -9`` the hub."""
        if self.proc is None:
            return
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc = None
        self.kills += 1

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""
