"""``deconfliction serve`` and ``policy show``; the hub's settings from flags; a hub in a thread.

Settings come from ``--config`` (TOML), then ``DECONFLICTION_*`` environment variables, then
the flags, each overriding the one before (see :func:`deconfliction.api.load_settings`).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any, TextIO

import uvicorn

from deconfliction.api import Settings, build_hotline, configure_logging, load_settings
from deconfliction.bus import InProcessBus
from deconfliction.cli._errors import CliError, Unreachable
from deconfliction.model import DEFAULT_POLICY_TOML
from deconfliction.web import create_console_app

__all__ = [
    "HubThread",
    "add_serve_parser",
    "add_store_flags",
    "hub_is_empty",
    "listen",
    "settings_from",
    "tls_options",
    "uvicorn_config",
]


def add_store_flags(p: argparse.ArgumentParser) -> None:
    """``--config``, ``--data-dir``, ``--database-url``, ``--policy`` (unset → not overridden)."""
    p.add_argument("--config", type=Path, help="settings TOML file (keys as in the README)")
    p.add_argument(
        "--data-dir", type=Path, help="where the embedded database lives (default ./data)"
    )
    p.add_argument(
        "--database-url", help="SQLAlchemy URL (default sqlite:///<data-dir>/hotline.db)"
    )
    p.add_argument("--policy", type=Path, help="policy TOML (default: `deconfliction policy show`)")


def settings_from(args: argparse.Namespace, **extra: object) -> Settings:
    """The hub's settings: ``--config`` file, then the environment, then the flags."""
    overrides: dict[str, object] = {
        "data_dir": args.data_dir,
        "database_url": args.database_url,
        "policy": args.policy,
    }
    keys = ("host", "port", "feeds", "tiles", "cot", "bus_url", "node_name")
    for key in (*keys, "tls_cert", "tls_key", "tls_client_ca"):
        overrides[key] = getattr(args, key, None)
    return load_settings(args.config, **(overrides | extra))


def hub_is_empty(settings: Settings) -> bool:
    """Whether the hub's store has no party yet (opens and migrates it; checks the policy)."""
    hotline = build_hotline(settings, InProcessBus())
    try:
        with hotline.store.transaction() as tx:
            return not tx.list_parties()
    finally:
        hotline.store.close()


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise Unreachable(f"cannot listen on {host}:{port}: {reason}") from None


def url_of(sock: socket.socket, scheme: str = "http") -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def _readable(path: Path, what: str) -> None:
    try:
        with path.open("rb") as f:
            f.read(1)
    except OSError as exc:
        raise CliError(f"cannot read the TLS {what} {path}: {exc.strerror}") from None


def tls_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's TLS options for ``settings`` (none without ``tls_cert``), after checking
    that the files are readable and load (a bad one is one clear line, before listening)."""
    if settings.tls_cert is None or settings.tls_key is None:
        return {}
    _readable(settings.tls_cert, "certificate")
    _readable(settings.tls_key, "key")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(settings.tls_cert, settings.tls_key)
    except ssl.SSLError as exc:
        raise CliError(
            f"the TLS certificate {settings.tls_cert} and key {settings.tls_key} do not load "
            f"together: {exc.reason or exc}"
        ) from None
    opts: dict[str, Any] = {
        "ssl_certfile": str(settings.tls_cert),
        "ssl_keyfile": str(settings.tls_key),
    }
    if settings.tls_client_ca is not None:
        _readable(settings.tls_client_ca, "client CA")
        try:
            ctx.load_verify_locations(cafile=settings.tls_client_ca)
        except ssl.SSLError as exc:
            raise CliError(
                f"the TLS client CA {settings.tls_client_ca} does not load: {exc.reason or exc}"
            ) from None
        opts |= {"ssl_ca_certs": str(settings.tls_client_ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    return opts


def uvicorn_config(settings: Settings, log_level: str) -> uvicorn.Config:
    """The server's configuration: the console app, TLS when configured, WebSocket messages
    capped like track batches, and no uvicorn access log (it prints query strings; the
    app's own access log does not)."""
    return uvicorn.Config(
        create_console_app(settings),
        log_level=log_level,
        lifespan="on",
        log_config=None,
        access_log=False,
        ws_max_size=settings.max_track_body_bytes,
        **tls_options(settings),
    )


class HubThread:
    """The real server (uvicorn + :func:`create_app`) on its own thread, for the demo."""

    def __init__(self, settings: Settings, *, log_level: str = "warning") -> None:
        config = uvicorn_config(settings, log_level)
        self.sock = listen(settings.host, settings.port)
        self.url = url_of(self.sock, "https" if settings.tls_cert else "http")
        self.server = uvicorn.Server(config)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="hub", daemon=True)

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as exc:  # SystemExit from a failed startup, too
            self.error = exc

    def start(self, timeout_s: float = 120.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive():
                raise CliError(f"the hub did not start: {self.error or 'see the log above'}")
            if time.monotonic() > deadline:
                raise CliError("the hub did not start in time")
            time.sleep(0.02)

    def wait(self) -> None:
        """Until the server stops (Ctrl-C raises KeyboardInterrupt here, in the main thread)."""
        while self.thread.is_alive():
            self.thread.join(0.5)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    settings = settings_from(args)
    configure_logging(settings.log_format, getattr(logging, args.log_level.upper()))
    empty = hub_is_empty(settings)
    config = uvicorn_config(settings, args.log_level)
    sock = listen(settings.host, settings.port)
    url = url_of(sock, "https" if settings.tls_cert else "http")
    if empty:
        where = (
            f"--database-url {settings.database_url}"
            if settings.database_url
            else f"--data-dir {settings.data_dir}"
        )
        print(
            f"the hub has no parties yet: run `deconfliction admin init {where}` for the first "
            "admin token",
            file=out,
        )
    print(
        f"serving on {url} (console: {url}/, API docs: {url}/docs); Ctrl-C to stop",
        file=out,
        flush=True,
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


def cmd_policy_show(args: argparse.Namespace, out: TextIO) -> int:
    del args
    out.write(DEFAULT_POLICY_TOML)
    return 0


def add_serve_parser(sub: argparse._SubParsersAction[Any]) -> None:
    s = sub.add_parser("serve", help="run the hub (HTTP API, WebSocket stream, /docs)")
    s.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (default 8000; 0 = any free port)")
    s.add_argument(
        "--feeds", type=Path, help="surveillance feeds TOML (SBS-1, aircraft.json; see README)"
    )
    s.add_argument(
        "--cot", type=Path, help="Cursor-on-Target gateway TOML (TAK listeners; see README)"
    )
    s.add_argument(
        "--tiles",
        help="the console's basemap: a raster .mbtiles/.pmtiles file or an http(s) tile URL "
        "template with {z}/{x}/{y} (default: the shipped Natural Earth outlines)",
    )
    s.add_argument(
        "--bus-url",
        help="NATS server the hub nodes share, e.g. nats://127.0.0.1:4222 (default: none, "
        "one node; see the README's 'Several nodes')",
    )
    s.add_argument(
        "--node-name", help="this node's name, unique among the nodes (default: the host name)"
    )
    s.add_argument("--tls-cert", type=Path, help="serve HTTPS: certificate chain (PEM)")
    s.add_argument("--tls-key", type=Path, help="serve HTTPS: the certificate's key (PEM)")
    s.add_argument(
        "--tls-client-ca", type=Path, help="HTTPS: require client certificates from this CA"
    )
    add_store_flags(s)
    s.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="the hub's and uvicorn's log level (default info)",
    )
    s.set_defaults(local_cmd=cmd_serve)

    pol = sub.add_parser("policy", help="the policy (lead times, buffers, deadlines)")
    psub = pol.add_subparsers(dest="policy_command", required=True, metavar="COMMAND")
    show = psub.add_parser("show", help="print the built-in policy TOML with its defaults")
    show.set_defaults(local_cmd=cmd_policy_show)
