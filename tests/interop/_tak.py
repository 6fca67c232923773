"""Test helpers for the CoT gateway: a certificate authority with server and client
certificates (cryptography), and a real TAK client (pytak) driven from a test."""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import datetime as dt
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from deconfliction.interop import CotSplitter, parse_event
from deconfliction.interop._cot import CotEvent

with warnings.catch_warnings():  # pytak warns that its optional aiohttp is missing
    warnings.simplefilter("ignore")
    import pytak

__all__ = ["Pki", "TakClient", "tak_client"]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class Pki:
    """A throwaway CA in ``folder`` issuing server and client certificates (PEM files)."""

    def __init__(self, folder: Path, ca_name: str = "test-tak-ca") -> None:
        self.folder = folder
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(ca_name))
            .issuer_name(_name(ca_name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.ca_path = folder / f"{ca_name}.pem"
        self.ca_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, cn: str, *, server: bool = False) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        b = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
        )
        if server:
            b = b.add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
        cert = b.sign(self.key, hashes.SHA256())
        cert_path, key_path = self.folder / f"{cn}.pem", self.folder / f"{cn}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert_path, key_path


class TakClient:
    """pytak's CLITool: ``send`` puts raw event bytes on its TX queue, ``next`` waits for
    an event of a type from its RX queue."""

    def __init__(self, tx: asyncio.Queue[bytes], rx: asyncio.Queue[bytes]) -> None:
        self.tx = tx
        self.rx = rx
        self.seen: list[CotEvent] = []

    async def send(self, data: bytes) -> None:
        await self.tx.put(data)

    async def next(self, type_: str, timeout: float = 15.0, uid_prefix: str = "") -> CotEvent:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for e in self.seen:
                if e.type == type_ and e.uid.startswith(uid_prefix):
                    self.seen.remove(e)
                    return e
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(
                    f"no {type_} event within {timeout} s: saw {[x.type for x in self.seen]}"
                )
            data = await asyncio.wait_for(self.rx.get(), left)
            for raw in CotSplitter().feed(data):
                self.seen.append(parse_event(raw))


@asynccontextmanager
async def tak_client(url: str, **tls: str) -> AsyncIterator[TakClient]:
    cfg = configparser.ConfigParser()
    cfg["tak"] = {"COT_URL": url, "PYTAK_NO_HELLO": "1", **tls}
    tx: asyncio.Queue[bytes] = asyncio.Queue()
    rx: asyncio.Queue[bytes] = asyncio.Queue()
    tool = pytak.CLITool(cfg["tak"], tx_queue=tx, rx_queue=rx)
    await tool.setup()
    task = asyncio.create_task(tool.run())
    try:
        yield TakClient(tx, rx)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # torn down either way
            await task
