"""A throwaway NATS server with JetStream for the tests (Debian's ``nats-server``).

:class:`NatsServer` runs ``nats-server -js`` on a free loopback port with its JetStream
store in a temp folder (deleted afterwards); :meth:`NatsServer.stop` and
:meth:`NatsServer.start` again keep the port and the store, as a real server restart would.

``make test`` installs Debian's ``nats-server`` when it is missing. Setting
``DECONFLICTION_NO_NATS=1`` skips the NATS tests instead (for a machine where the server
cannot run); without it, a server that cannot start fails those tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from types import TracebackType

__all__ = ["NO_NATS_ENV", "NatsServer", "NatsUnavailable", "find_binary"]

NO_NATS_ENV = "DECONFLICTION_NO_NATS"
"""Set to 1 to skip the NATS tests (they fail when no server can be started)."""


class NatsUnavailable(RuntimeError):
    """``nats-server`` is missing or did not start."""


def find_binary() -> str:
    """``nats-server`` on the PATH (or Debian's ``/usr/sbin/nats-server``)."""
    found = shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin")
    if found is None:
        raise NatsUnavailable(
            "nats-server not found: run `make nats` (apt-get install nats-server), "
            f"or set {NO_NATS_ENV}=1 to skip"
        )
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    """``with NatsServer() as ns: url = ns.url`` — a server for one test (or session)."""

    def __init__(self) -> None:
        self.binary = ""
        self.tmpdir = ""
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> str:
        return os.path.join(self.tmpdir, "server.log")

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def __enter__(self) -> NatsServer:
        self.binary = find_binary()
        self.tmpdir = tempfile.mkdtemp(prefix="deconfliction-nats-")
        self.port = _free_port()
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self, timeout_s: float = 20.0) -> None:
        """Start (again) on the same port and store; wait until JetStream is ready."""
        assert self.proc is None, "already running"
        argv = [
            self.binary,
            "-js",
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-sd",
            os.path.join(self.tmpdir, "js"),
            "-l",
            self.log_path,
        ]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                raise NatsUnavailable(f"nats-server exited at start:\n{self.log()}")
            if "Server is ready" in self.log().split("Starting nats-server")[-1]:
                return
            time.sleep(0.02)
        self.stop()
        raise NatsUnavailable(f"nats-server not ready in {timeout_s} s:\n{self.log()}")

    def stop(self) -> None:
        """Stop the server (the store stays for :meth:`start`)."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def close(self) -> None:
        """Stop the server and delete its folder."""
        self.stop()
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = ""
