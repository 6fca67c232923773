"""Fixtures: a real hub (``deconfliction serve`` in a subprocess, loopback, a free port) and a
way to run the command in-process as a user would, with a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from deconfliction.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "demo"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


@dataclass
class Hub:
    """A running hub: its URL, data directory, admin token and the test parties' tokens."""

    url: str
    data_dir: Path
    admin_token: str
    proc: subprocess.Popen[str]
    parties: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def http(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )


def cli_subprocess(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command in a fresh interpreter (what a user's shell runs)."""
    return subprocess.run(
        [sys.executable, "-m", "deconfliction.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=180,
    )


def start_serve(data_dir: Path, *extra: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    """``deconfliction serve --port 0``; returns the process, its URL and its first lines."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deconfliction.cli",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--log-level",
            "warning",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    while True:
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=10)
            raise RuntimeError(f"serve exited early ({proc.returncode}): {lines}")
        lines.append(line.rstrip("\n"))
        if line.startswith("serving on "):
            url = line.split()[2]
            break
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the hub did not become ready")
        time.sleep(0.05)
    return proc, url, lines


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:  # pragma: no cover
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One hub for the module's tests: admin from ``admin init``, parties Blue/Red/Green/Civil."""
    data = tmp_path_factory.mktemp("hub")
    init = cli_subprocess("admin", "init", "--data-dir", str(data), "--json")
    assert init.returncode == 0, init.stderr
    admin = json.loads(init.stdout)["token"]
    proc, url, _ = start_serve(data)
    h = Hub(url, data, admin, proc)
    try:
        with h.http(admin) as c:
            for name, kind in (
                ("Blue", "armed_force"),
                ("Red", "armed_force"),
                ("Green", "humanitarian"),
                ("Civil", "air_navigation_service"),
            ):
                p = c.post("/v1/parties", json={"name": name, "kind": kind}).json()
                t = c.post(f"/v1/parties/{p['id']}/tokens", json={"role": "operator"}).json()
                h.parties[name], h.tokens[name] = p["id"], t["secret"]
        yield h
    finally:
        stop(proc)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No hub settings leak in from the machine running the tests."""
    for var in list(os.environ):
        if var.startswith("DECONFLICTION_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("DECONFLICTION_CLIENT_CONFIG", str(tmp_path / "no-client.toml"))


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``deconfliction ARGS`` in-process; returns exit code, stdout, stderr."""

    def run(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def as_party(hub: Hub, cli: Callable[..., Result]) -> Callable[..., Result]:
    """Run a client command as a party: ``as_party("Blue", "activity", "list")``."""

    def run(party: str, *args: str) -> Result:
        token = hub.admin_token if party == "admin" else hub.tokens[party]
        return cli(*args, "--url", hub.url, "--token", token)

    return run
