"""Helpers for the F3548 discovery service tests: an RSA authority that mints tokens,
F3548 volumes, and a hub (in process, or a real server) with USS parties mapped."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from deconfliction.api import Settings
from deconfliction.interop import create_hub_app
from tests.api._hub import bootstrap

AUD = "dss.hotline.test"
ISS = "https://auth.hotline.test/oauth/token"
SC = "utm.strategic_coordination"
CMSA = "utm.conformance_monitoring_sa"
CM = "utm.constraint_management"
CP = "utm.constraint_processing"
AA = "utm.availability_arbitration"
DSS = "/dss/v1"
USS = {"uss-a": "Drones A", "uss-b": "Drones B", "uss-c": "Drones C"}
"""The USSs (token sub) and the hotline parties they act as."""
GHOST = {"uss-ghost": "No such party"}
"""A USS mapped to a party the hotline does not have."""


@dataclass
class Authority:
    """A UTM authority: an RSA key pair (kid ``k1``) that mints access tokens."""

    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    kid: str = "k1"

    def pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [jwk | {"kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def token(
        self,
        sub: str,
        *scopes: str,
        aud: str | None = AUD,
        exp_in: float = 3600,
        iss: str | None = ISS,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        body: dict[str, Any] = {"sub": sub, "scope": " ".join(scopes), "exp": now + exp_in}
        body |= {"iat": now, "jti": str(uuid4())}
        if aud is not None:
            body["aud"] = aud
        if iss is not None:
            body["iss"] = iss
        body |= claims
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})


def t(dt: datetime) -> dict[str, str]:
    return {"value": dt.astimezone(UTC).isoformat().replace("+00:00", "Z"), "format": "RFC3339"}


def alt(v: float) -> dict[str, Any]:
    return {"value": v, "reference": "W84", "units": "M"}


def circle(
    lon: float,
    lat: float,
    r: float = 500.0,
    *,
    start: datetime | None = None,
    minutes: float = 60,
    lo: float | None = 0.0,
    hi: float | None = 120.0,
) -> dict[str, Any]:
    """An F3548 Volume4D: a circle, an altitude band, a time window (from in 10 minutes)."""
    start = start or datetime.now(UTC) + timedelta(minutes=10)
    vol: dict[str, Any] = {
        "outline_circle": {"center": {"lat": lat, "lng": lon}, "radius": {"value": r, "units": "M"}}
    }
    if lo is not None:
        vol["altitude_lower"] = alt(lo)
    if hi is not None:
        vol["altitude_upper"] = alt(hi)
    return {
        "volume": vol,
        "time_start": t(start),
        "time_end": t(start + timedelta(minutes=minutes)),
    }


def square(lon: float, lat: float, d: float = 0.01, **kw: Any) -> dict[str, Any]:
    """Like :func:`circle` with a polygon outline of side ``2 d`` degrees."""
    v = circle(lon, lat, **kw)
    verts = [(lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d)]
    v["volume"] = {k: x for k, x in v["volume"].items() if k != "outline_circle"}
    v["volume"]["outline_polygon"] = {"vertices": [{"lng": x, "lat": y} for x, y in verts]}
    return v


def intent(
    *extents: dict[str, Any],
    state: str = "Accepted",
    key: list[str] | None = None,
    base: str = "https://uss.test/a",
    **more: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"extents": list(extents), "state": state, "uss_base_url": base}
    if key is not None:
        body["key"] = key
    return body | more


def subscription(extent: dict[str, Any], *, ops: bool = True, constraints: bool = False,
                 base: str = "https://uss.test/b") -> dict[str, Any]:  # fmt: skip
    return {
        "extents": extent,
        "uss_base_url": base,
        "notify_for_operational_intents": ops,
        "notify_for_constraints": constraints,
    }


def write_keys(d: Path, authority: Authority, *, jwks: bool = False) -> Path:
    if jwks:
        p = d / "authority.jwks.json"
        p.write_text(json.dumps(authority.jwks()))
    else:
        p = d / "authority.pem"
        p.write_text(authority.pem())
    return p


def dss_env(keys: Path, **more: str) -> dict[str, str]:
    """The ``DECONFLICTION_*`` environment of a hub serving the DSS with :data:`USS`."""
    return {
        "DECONFLICTION_DSS_JWT_KEYS": str(keys),
        "DECONFLICTION_DSS_AUDIENCE": AUD,
        "DECONFLICTION_DSS_ISSUER": ISS,
        "DECONFLICTION_DSS_MANAGERS": json.dumps(USS),
    } | more


def make_parties(client: Any, admin: str) -> dict[str, dict[str, str]]:
    """Create the parties of :data:`USS` (and an Air Navigation party "Civil"); their ids
    and operator tokens, by name."""
    out = {}
    h = {"Authorization": f"Bearer {admin}"}
    for name, kind in [*((n, "uas_operator") for n in USS.values()), ("Civil", "other")]:
        r = client.post("/v1/parties", json={"name": name, "kind": kind}, headers=h)
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        tok = client.post(f"/v1/parties/{pid}/tokens", json={"role": "operator"}, headers=h)
        assert tok.status_code == 201, tok.text
        out[name] = {"id": pid, "token": tok.json()["secret"]}
    return out


@dataclass
class InProcess:
    """A hub app in process (TestClient) with the DSS on, its parties and authority."""

    client: TestClient
    authority: Authority
    parties: dict[str, dict[str, str]]

    def as_(self, sub: str, *scopes: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.authority.token(sub, *scopes)}"}

    def hotline(self, party: str) -> dict[str, str]:
        """The headers of ``party``'s hotline operator token."""
        return {"Authorization": f"Bearer {self.parties[party]['token']}"}


@contextmanager
def in_process(
    data: Path, authority: Authority, *, jwks: bool = False, **settings: Any
) -> Iterator[InProcess]:
    admin = bootstrap(data)
    s = Settings(
        data_dir=data,
        progress=False,
        dss_jwt_keys=str(write_keys(data, authority, jwks=jwks)),
        dss_audience=AUD,
        dss_issuer=ISS,
        dss_managers=USS | GHOST,
        rate_limit_per_s=0,
        **settings,
    )
    with TestClient(create_hub_app(s)) as client:
        yield InProcess(client, authority, make_parties(client, admin))
