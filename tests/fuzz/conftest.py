"""Fixtures of the fuzz tests: one hub app in process with the F3548 discovery service on,
an admin, and a party with an operator and an observer token (``tried.py`` counts the
examples each fuzz target tried)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from schemathesis.python import asgi

from deconfliction.api import Settings
from deconfliction.interop import create_hub_app
from tests.api._hub import activity_body, bootstrap, data_dir, feature, site_body, spot
from tests.interop.dss_support import AUD, ISS, USS, Authority, write_keys


@pytest.fixture(scope="session")
def fuzz_authority() -> Authority:
    return Authority()


@dataclass
class FuzzHub:
    """The hub app, its tokens by role and the ids of things that exist on it."""

    app: Any
    client: asgi.ASGIClient
    tokens: dict[str, str]
    """``admin``, ``operator`` and ``observer`` (the latter two of party "Blue")."""
    ids: dict[str, str] = field(default_factory=dict)
    """Ids of real objects by path parameter name (``party_id``, ``activity_id``, ...)."""


@pytest.fixture(scope="session")
def fuzz_hub(fuzz_authority: Authority) -> Iterator[FuzzHub]:
    """The hub app in process (its lifespan running) with the DSS mounted for the USSs of
    :data:`tests.interop.dss_support.USS`, an admin, and party "Blue" with an operator and
    an observer token, one activity and one protected site."""
    with data_dir("fuzz") as d:
        admin = bootstrap(d)
        s = Settings(
            data_dir=d,
            progress=False,
            dss_jwt_keys=str(write_keys(d, fuzz_authority)),
            dss_audience=AUD,
            dss_issuer=ISS,
            dss_managers=USS,
            rate_limit_per_s=0,
        )
        app = create_hub_app(s)
        # Schemathesis's own in-process client: it runs the app's lifespan once for the
        # process (a second client, e.g. Starlette's TestClient, would start a second one).
        with asgi.get_client(app) as c:
            h = {"Authorization": f"Bearer {admin}"}
            tokens = {"admin": admin}
            ids: dict[str, str] = {}
            for name in ("Blue", *USS.values()):
                r = c.post("/v1/parties", json={"name": name, "kind": "other"}, headers=h)
                assert r.status_code == 201, r.text
                if name == "Blue":
                    ids["party_id"] = r.json()["id"]
            for role in ("operator", "observer"):
                r = c.post(f"/v1/parties/{ids['party_id']}/tokens", json={"role": role}, headers=h)
                assert r.status_code == 201, r.text
                tokens[role] = r.json()["secret"]
            op = {"Authorization": f"Bearer {tokens['operator']}"}
            r = c.post("/v1/activities", json=activity_body("fuzz", feature(*spot())), headers=op)
            assert r.status_code == 201, r.text
            ids["activity_id"] = r.json()["activity"]["id"]
            r = c.post("/v1/sites", json=site_body("fuzz", *spot()), headers=op)
            assert r.status_code == 201, r.text
            ids["site_id"] = r.json()["site"]["id"]
            try:
                yield FuzzHub(app, c, tokens, ids)
            finally:
                asgi.shutdown_lifespans()
