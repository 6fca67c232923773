"""``deconfliction serve --tls-cert --tls-key [--tls-client-ca]``: the real server over HTTPS,
verified against a test CA; bad TLS files refused in one line before listening."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import cli_subprocess, stop
from tests.pki import Pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pki")
    ca = Pki(d, "Hotline test CA")
    server, server_key = ca.issue("hotline-server", server=True)
    client, client_key = ca.issue("hotline-client")
    other = Pki(d, "x", stem="other")  # a key that is not the server certificate's
    return {
        "ca": ca.ca_path,
        "server": server,
        "server_key": server_key,
        "client": client,
        "client_key": client_key,
        "other_key": other.key_path,
    }


def _serve(data: Path, *flags: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deconfliction.cli",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(data),
            "--log-level",
            "warning",
            *flags,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"serve exited early ({proc.wait(timeout=10)})")
        if line.startswith("serving on "):
            return proc, line.split()[2]


def _ready(client: httpx.Client, url: str) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            r = client.get(f"{url}/readyz")
            if r.status_code == 200:
                return r
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def test_serve_speaks_https_verified_against_the_ca(tmp_path: Path, pki: dict[str, Path]) -> None:
    proc, url = _serve(
        tmp_path, "--tls-cert", str(pki["server"]), "--tls-key", str(pki["server_key"])
    )
    try:
        assert url.startswith("https://127.0.0.1:")
        trusting = ssl.create_default_context(cafile=str(pki["ca"]))
        with httpx.Client(verify=trusting, timeout=5) as c:
            r = _ready(c, url)
            assert r.headers["strict-transport-security"].startswith("max-age=")
            assert c.get(f"{url}/v1/me").status_code == 401
        with pytest.raises(httpx.ConnectError), httpx.Client(timeout=5) as c:  # system CAs only
            c.get(f"{url}/healthz")
        plain = url.replace("https://", "http://")
        with pytest.raises(httpx.TransportError), httpx.Client(timeout=5) as c:
            c.get(f"{plain}/healthz")
    finally:
        stop(proc)


def test_client_certificates_when_a_client_ca_is_set(tmp_path: Path, pki: dict[str, Path]) -> None:
    proc, url = _serve(
        tmp_path,
        "--tls-cert",
        str(pki["server"]),
        "--tls-key",
        str(pki["server_key"]),
        "--tls-client-ca",
        str(pki["ca"]),
    )
    try:
        with_cert = ssl.create_default_context(cafile=str(pki["ca"]))
        with_cert.load_cert_chain(pki["client"], pki["client_key"])
        with httpx.Client(verify=with_cert, timeout=5) as c:
            assert _ready(c, url).status_code == 200
        without = ssl.create_default_context(cafile=str(pki["ca"]))
        with pytest.raises(httpx.TransportError), httpx.Client(verify=without, timeout=5) as c:
            c.get(f"{url}/healthz")
    finally:
        stop(proc)


def test_bad_tls_files_are_one_line(tmp_path: Path, pki: dict[str, Path]) -> None:
    base = ("serve", "--port", "0", "--data-dir", str(tmp_path))
    cases = [
        (("--tls-cert", str(pki["server"])), "both or neither"),
        (("--tls-key", str(pki["server_key"])), "both or neither"),
        (
            ("--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", str(pki["server_key"])),
            f"cannot read the TLS certificate {tmp_path / 'missing.pem'}: No such file",
        ),
        (
            ("--tls-cert", str(pki["server"]), "--tls-key", str(pki["other_key"])),
            "do not load together",
        ),
        (
            (
                "--tls-cert",
                str(pki["server"]),
                "--tls-key",
                str(pki["server_key"]),
                "--tls-client-ca",
                str(tmp_path),
            ),
            "cannot read the TLS client CA",
        ),
    ]
    for flags, said in cases:
        r = cli_subprocess(*base, *flags)
        assert r.returncode != 0, flags
        assert r.stderr.startswith("deconfliction: error: "), r.stderr
        assert said in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1, r.stderr
        assert "serving on" not in r.stdout
