"""A throwaway PostgreSQL cluster for the tests (Debian's server binaries).

:class:`PgCluster` runs ``initdb`` on a temp folder, starts the server with ``pg_ctl`` on
loopback (a free TCP port on 127.0.0.1; its Unix socket in the same temp folder), trust
authentication, and durability off (the cluster dies with the test run). As root the
binaries run as the ``postgres`` system user (``runuser``), on a folder it owns; otherwise
as the current user. ``bench/_postgis.py`` builds its PostGIS cluster on this class.

``make test`` installs Debian's ``postgresql`` when it is missing. Setting
``DECONFLICTION_NO_POSTGRES=1`` skips the PostgreSQL tests instead (for a machine where
the server cannot run); without it, a cluster that cannot start fails those tests.
"""

from __future__ import annotations

import contextlib
import getpass
import glob
import itertools
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
from types import TracebackType

import psycopg

__all__ = ["NO_POSTGRES_ENV", "PgCluster", "PgUnavailable", "find_bindir"]

NO_POSTGRES_ENV = "DECONFLICTION_NO_POSTGRES"
"""Set to 1 to skip the PostgreSQL tests (they fail when no cluster can be started)."""

SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "jit": "off",
    "timezone": "UTC",
}


class PgUnavailable(RuntimeError):
    """The PostgreSQL server binaries are missing or the cluster did not start."""


def find_bindir() -> str:
    """The newest ``/usr/lib/postgresql/*/bin`` with a ``postgres`` binary (or ``PG_BINDIR``)."""
    env = os.environ.get("PG_BINDIR")
    for bindir in [env] if env else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if bindir and os.path.isfile(os.path.join(bindir, "postgres")):
            return bindir
    raise PgUnavailable(
        "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin: run `make "
        f"postgresql` (apt-get install postgresql), or set {NO_POSTGRES_ENV}=1 to skip"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """A throwaway server: ``with PgCluster() as pg: url = pg.create_database()``.

    ``settings`` override :data:`SERVER_SETTINGS` (``-c`` options of the server).
    """

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.settings = SERVER_SETTINGS | (settings or {})
        self.bindir = ""
        self.tmpdir = ""
        self.datadir = ""
        self.port = 0
        self.user = ""
        self._started = False
        self._names = itertools.count(1)

    def _as_server_user(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def _run(self, argv: list[str], what: str) -> None:
        r = subprocess.run(
            self._as_server_user(argv), capture_output=True, text=True, cwd=self.tmpdir, check=False
        )
        if r.returncode != 0:
            log = ""
            with (
                contextlib.suppress(OSError),
                open(
                    os.path.join(self.tmpdir, "server.log"), encoding="utf-8", errors="replace"
                ) as f,
            ):
                log = f.read()[-2000:]
            raise PgUnavailable(
                f"{what} failed (exit {r.returncode}): {r.stderr.strip() or r.stdout.strip()}"
                + (f"\n--- server.log tail ---\n{log}" if log else "")
            )

    def find_bindir(self) -> str:
        """The server binaries' folder (a subclass may require more of it)."""
        return find_bindir()

    def __enter__(self) -> PgCluster:
        self.bindir = self.find_bindir()
        self.tmpdir = tempfile.mkdtemp(prefix="deconfliction-pg-")
        try:
            if os.geteuid() == 0:
                shutil.chown(self.tmpdir, user="postgres", group="postgres")
                self.user = "postgres"
            else:
                self.user = getpass.getuser()
            os.chmod(self.tmpdir, 0o700)
            self.datadir = os.path.join(self.tmpdir, "data")
            initdb = os.path.join(self.bindir, "initdb")
            self._run(
                [
                    initdb,
                    "-D",
                    self.datadir,
                    "-A",
                    "trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "-U",
                    self.user,
                ],
                "initdb",
            )
            self.port = _free_port()
            opts = ["-p", str(self.port), "-c", f"unix_socket_directories={self.tmpdir}"]
            for k, v in self.settings.items():
                opts += ["-c", f"{k}={v}"]
            log = os.path.join(self.tmpdir, "server.log")
            pg_ctl = os.path.join(self.bindir, "pg_ctl")
            # pg_ctl passes -o through /bin/sh, hence the quoting
            self._run(
                [
                    pg_ctl,
                    "-D",
                    self.datadir,
                    "-l",
                    log,
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    shlex.join(opts),
                    "start",
                ],
                "pg_ctl start",
            )
            self._started = True
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the server (immediate shutdown) and delete its folder."""
        try:
            if self._started:
                pg_ctl = os.path.join(self.bindir, "pg_ctl")
                subprocess.run(
                    self._as_server_user(
                        [pg_ctl, "-D", self.datadir, "-m", "immediate", "-w", "stop"]
                    ),
                    capture_output=True,
                    cwd=self.tmpdir,
                    timeout=60,
                    check=False,
                )
                self._started = False
        finally:
            if self.tmpdir:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
                self.tmpdir = ""

    def url(self, dbname: str) -> str:
        """The store URL (psycopg 3 over TCP on loopback) of database ``dbname``."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        """Run one statement in autocommit mode (``CREATE DATABASE`` and the like)."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname=dbname, autocommit=True
        ) as conn:
            conn.execute(sql)  # type: ignore[arg-type]  # test-only DDL, no user input

    def create_database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``); returns its URL."""
        name = f"t{next(self._names)}"
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)
