"""``deconfliction serve --tls-cert --tls-key [--tls-client-ca]``: the real server over HTTPS,
verified against a test CA; bad TLS files refused in one line before listening."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.cli.conftest import cli_subprocess, stop

Key = ec.EllipticCurvePrivateKey


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(cn: str, key: Key, issuer: tuple[x509.Name, Key] | None, usage: str) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer[0] if issuer else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if issuer is None:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        b = b.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        eku = (
            ExtendedKeyUsageOID.SERVER_AUTH
            if usage == "server"
            else ExtendedKeyUsageOID.CLIENT_AUTH
        )
        b = b.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        if usage == "server":
            san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return b.sign(issuer[1] if issuer else key, hashes.SHA256())


def _write(d: Path, stem: str, cert: x509.Certificate, key: Key) -> tuple[Path, Path]:
    c, k = d / f"{stem}.pem", d / f"{stem}.key"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return c, k


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Hotline test CA", ca_key, None, "ca")
    ca_pem, _ = _write(d, "ca", ca, ca_key)
    out = {"ca": ca_pem}
    for stem, usage in (("server", "server"), ("client", "client")):
        key = ec.generate_private_key(ec.SECP256R1())
        out[stem], out[f"{stem}_key"] = _write(
            d, stem, _cert(f"hotline-{stem}", key, (ca.subject, ca_key), usage), key
        )
    other = ec.generate_private_key(ec.SECP256R1())
    out["other_key"] = _write(d, "other", _cert("x", other, None, "ca"), other)[1]
    return out


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
