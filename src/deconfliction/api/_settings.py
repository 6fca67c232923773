"""The hub's settings: a TOML file, then ``DECONFLICTION_*`` environment variables, then
command-line flags, each overriding the one before (DESIGN.md §4).

>>> s = Settings(data_dir="/tmp/hub")
>>> s.effective_database_url()
'sqlite:////tmp/hub/hotline.db'
"""

from __future__ import annotations

import re
import socket
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from deconfliction.errors import InvalidInput

__all__ = ["Settings", "load_settings"]


def _node_name(host: str) -> str:
    """A host name as a node name (JetStream names take no dots).

    >>> _node_name("hub-1.example.org")
    'hub-1_example_org'
    """
    return re.sub(r"[^A-Za-z0-9_-]", "_", host) or "hub"


class Settings(BaseSettings):
    """Everything a hub needs to start; every field has a sane default."""

    model_config = SettingsConfigDict(env_prefix="DECONFLICTION_", extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    data_dir: Path = Path("./data")
    """Where the embedded database (and later the ledger keys) live."""
    database_url: str | None = None
    """SQLAlchemy URL; default ``sqlite:///<data_dir>/hotline.db``."""
    policy: Path | None = None
    """A policy TOML file; default: the built-in policy (``deconfliction policy show``)."""
    feeds: Path | None = None
    """A TOML file of surveillance feeds to read (SBS-1, aircraft.json), each attributed to
    a party (see the README); default: none."""
    cot: Path | None = None
    """The Cursor-on-Target gateway's TOML file (listeners, parties, TAK servers; see the
    README); default: no gateway."""
    notam_fir: str = Field(default="ZZZZ", pattern="^[A-Za-z]{4}$")
    """The FIR a NOTAM draft names in Q) and A) unless the request gives one (ZZZZ: none)."""
    tiles: str | None = None
    """The console's basemap tiles beyond the shipped Natural Earth outlines: a local raster
    ``.mbtiles`` or ``.pmtiles`` file (served by the hub at ``/tiles/{z}/{x}/{y}``) or a tile
    URL template with ``{z}``, ``{x}`` and ``{y}``; default: none (works with no internet)."""
    tiles_attribution: str = Field(default="", max_length=500)
    """The credit the tile source asks for, shown on the map."""
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    """Requests with a larger body get 413."""
    max_track_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    """The cap for ``POST /v1/tracks`` (10,000 reports take about 3 MB as JSON)."""
    heartbeat_s: float = Field(default=15.0, gt=0)
    """How often the event stream sends a heartbeat."""
    rate_limit_per_s: float = Field(default=200.0, ge=0)
    """Requests per second per party (0: no limit); above it, 429 with Retry-After."""
    rate_limit_burst: float = Field(default=400.0, ge=1)
    """How many requests a party may send at once before the rate applies."""
    max_writes_in_flight: int = Field(default=64, ge=1, le=100_000)
    """Writes the hub takes on at once; beyond it, a write is admitted only within its
    client's fair share of this, else 429 with Retry-After (admission control)."""
    rate_limit_anonymous_per_s: float = Field(default=100.0, ge=0)
    """Requests per second per client address without a valid token (public routes, the
    console's files, refused tokens); 0: no limit."""
    rate_limit_anonymous_burst: float = Field(default=500.0, ge=1)
    cors_origins: list[str] = Field(default_factory=list)
    """Web origins (``https://ops.example.org``) whose pages may call the API; default:
    none (no ``Access-Control-Allow-Origin`` for any origin)."""
    tls_cert: Path | None = None
    """HTTPS: the server's certificate chain (PEM); with ``tls_key``."""
    tls_key: Path | None = None
    """HTTPS: the certificate's private key (PEM)."""
    tls_client_ca: Path | None = None
    """HTTPS: when set, clients must present a certificate issued by this CA (PEM)."""
    log_format: str = Field(default="text", pattern="^(text|json)$")
    progress: bool = True
    """Show a progress bar while the index is rebuilt at start."""
    sweep_interval_s: float = Field(default=1.0, gt=0, le=60)
    """How often notices past their answer deadline are expired (and their owners told)."""
    follow_interval_s: float = Field(default=1.0, gt=0, le=60)
    """How often this node applies to its in-memory index what other nodes sharing its
    database wrote (reads lag by at most this; writes always see every earlier write)."""
    tactical_cycle_s: float = Field(default=1.0, gt=0, le=60)
    """How often the tactical engine checks the live tracks (proximity, incursion,
    conformance)."""
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    """How long a webhook POST may take before it counts as failed."""
    webhook_retry_base_s: float = Field(default=1.0, gt=0, le=3600)
    """The first wait after a failed webhook POST; each further failure doubles it."""
    webhook_retry_max_s: float = Field(default=300.0, gt=0, le=86_400)
    """The longest wait between two attempts at a webhook (5 minutes)."""
    webhook_poll_s: float = Field(default=5.0, gt=0, le=600)
    """How often the webhook worker checks the store even when nothing woke it."""

    bus_url: str | None = Field(default=None, pattern=r"^(nats|tls)://\S+$")
    """The NATS server(s) several hub nodes share (JetStream enabled), e.g.
    ``nats://127.0.0.1:4222`` (comma-separated for a cluster); default: none — events go
    to this process's listeners only (one node). Needs the ``nats`` extra."""
    node_name: str = Field(
        default_factory=lambda: _node_name(socket.gethostname()),
        min_length=1,
        pattern=r"^[A-Za-z0-9_-]+$",
    )
    """This node's name, unique among the nodes: its durable JetStream consumer (which
    resumes after a restart) and its leases are named after it; default: the host name
    (letters, digits, ``-`` and ``_`` only)."""
    bus_stream: str = Field(default="DECONFLICTION", pattern=r"^[A-Za-z0-9_-]+$")
    """The JetStream stream the nodes share (created by the first node that starts); the
    webhook leases live in the key-value bucket ``<bus_stream>_leases``."""
    bus_subject: str = Field(
        default="deconfliction.events", pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"
    )
    """The subject prefix: each party's events go to ``<bus_subject>.<party id>``."""
    bus_max_age_s: float = Field(default=86_400.0, ge=60)
    """How long the stream keeps events (a node down longer resumes from the store, as
    every listener re-reads it on a gap)."""
    bus_lease_s: float = Field(default=15.0, ge=1, le=600)
    """A webhook is delivered by one node at a time, holding a lease it renews every
    third of this; when that node dies another takes over at most this long after. The
    same for the tactical engine's shard cells: a node that stops renewing its membership
    this long is taken as gone and its cells move."""
    bus_track_subject: str = Field(
        default="deconfliction.tracks", pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"
    )
    """The subject prefix of live tracks between the nodes (core NATS, not stored): the
    reports near shard cell ``N`` go to ``<bus_track_subject>.N``."""
    shard_size_km: float = Field(default=500.0, ge=10, le=40_000)
    """The size of the tactical engine's shard cells when several nodes run (each node
    judges the tracks of the cells it owns; reports are sent to every cell within the
    separation and look-ahead reach of them). Every node must use the same."""

    dss_jwt_keys: str | None = None
    """The ASTM F3548-21 discovery service (``/dss/v1``, served by
    ``deconfliction.interop:create_hub_app``): the public keys that verify its RS256 access
    tokens — a PEM file, a JWKS file, or an ``https://`` JWKS URL; default: none (off)."""
    dss_audience: str | None = None
    """The ``aud`` those tokens must carry: the host name USSs reach this hub by (e.g.
    ``dss.example.org``); required with ``dss_jwt_keys``."""
    dss_issuer: str | None = None
    """When set, the ``iss`` those tokens must carry."""
    dss_managers: dict[str, str] = Field(default_factory=dict)
    """Each USS (its tokens' ``sub``) → the hotline party (name or id) whose activities
    carry its operational intents; a USS not listed gets 403."""
    dss_max_area_km2: float = Field(default=2_500.0, gt=0)
    """Largest footprint of an area or extent the discovery service takes (as the
    reference implementation); above it, 413 (400 where the interface lists no 413)."""
    dss_max_results: int = Field(default=10_000, ge=1, le=100_000)
    """Most references or subscriptions one query returns."""

    @model_validator(mode="after")
    def _dss_needs_audience(self) -> Settings:
        if self.dss_jwt_keys is not None and not self.dss_audience:
            raise ValueError("dss_audience is required with dss_jwt_keys (the tokens' aud)")
        return self

    @model_validator(mode="after")
    def _tls_pairs(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both or neither")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError("tls_client_ca needs tls_cert and tls_key")
        for origin in self.cors_origins:
            if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", origin):
                raise ValueError(f"cors_origins: {origin!r} is not an origin like https://host")
        return self

    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir.expanduser().resolve()}/hotline.db"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from ``config_file`` (TOML, optional), the environment, then ``overrides``.

    ``overrides`` whose value is None are ignored (unset command-line flags).
    """
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidInput("config", f"cannot read {config_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise InvalidInput("config", f"{config_file} is not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput("config", f"{config_file} is not valid TOML: {exc}") from None
    env = Settings()
    merged = values | {k: getattr(env, k) for k in env.model_fields_set}
    merged |= {k: v for k, v in overrides.items() if v is not None}
    return Settings.model_validate(merged)
