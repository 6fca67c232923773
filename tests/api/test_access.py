"""The access matrix: every route × another party's objects, every role, no token, revoked.

The hub here is the one ``deconfliction serve`` runs (``deconfliction.web:create_console_app``:
the API, the exchange formats, the console, a local tile file and the F3548 discovery service
at ``/dss/v1``). The routes are enumerated from that app itself (its HTTP and WebSocket
routes and those of its mounted apps, cross-checked against the live ``/openapi.json``); a
route missing from :data:`ROUTES` fails the suite, so a new route cannot ship without its
access rule.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi.routing import APIWebSocketRoute
from starlette.routing import Mount, Route, WebSocketRoute
from websockets.exceptions import ConnectionClosed

from tests.api._hub import (
    Hub,
    Party,
    activity_body,
    add_parties,
    bootstrap,
    data_dir,
    feature,
    site_body,
    spot,
)
from tests.interop.dss_support import AUD, ISS, SC, Authority, write_keys

# kinds of route:
#   public     no token needed, shows nothing of any party
#   self       the caller's own view (lists, me, stream): 2xx, nothing of others
#   directory  the party directory, shared by design: 2xx, party fields only
#   create     makes a new object of the caller's: 2xx, nothing of others
#   object     names another party's object: 403 or 404, nothing leaked
#   admin      parties and tokens administration: 403 unless admin
#   dss        the F3548 discovery service: an RS256 JWT of a mapped USS, never a hub token
#   files      a mount of static files (the console's), public
PUBLIC, SELF, DIRECTORY, CREATE, OBJECT, ADMIN, DSS, FILES = (
    "public",
    "self",
    "directory",
    "create",
    "object",
    "admin",
    "dss",
    "files",
)

ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/v1/me"): SELF,
    ("GET", "/v1/parties"): DIRECTORY,
    ("POST", "/v1/parties"): ADMIN,
    ("GET", "/v1/parties/{party_id}"): DIRECTORY,
    ("POST", "/v1/parties/{party_id}/tokens"): ADMIN,
    ("GET", "/v1/parties/{party_id}/tokens"): ADMIN,
    ("PUT", "/v1/parties/{party_id}/escalation"): ADMIN,
    ("GET", "/v1/parties/{party_id}/escalation"): ADMIN,
    ("PUT", "/v1/parties/{party_id}/webhooks/{level}"): ADMIN,
    ("GET", "/v1/parties/{party_id}/webhooks"): ADMIN,
    ("DELETE", "/v1/parties/{party_id}/webhooks/{level}"): ADMIN,
    ("DELETE", "/v1/tokens/{token_id}"): ADMIN,
    ("POST", "/v1/activities"): CREATE,
    ("GET", "/v1/activities"): SELF,
    ("POST", "/v1/activities/check"): SELF,
    ("GET", "/v1/activities/{activity_id}"): OBJECT,
    ("PUT", "/v1/activities/{activity_id}"): OBJECT,
    ("GET", "/v1/activities/{activity_id}/notices"): OBJECT,
    ("GET", "/v1/activities/{activity_id}/timeline"): OBJECT,
    ("POST", "/v1/activities/{activity_id}/activate"): OBJECT,
    ("POST", "/v1/activities/{activity_id}/end"): OBJECT,
    ("POST", "/v1/activities/{activity_id}/cancel"): OBJECT,
    ("POST", "/v1/sites"): CREATE,
    ("GET", "/v1/sites"): SELF,
    ("GET", "/v1/sites/{site_id}"): OBJECT,
    ("PUT", "/v1/sites/{site_id}"): OBJECT,
    ("DELETE", "/v1/sites/{site_id}"): OBJECT,
    ("GET", "/v1/conflicts"): SELF,
    ("GET", "/v1/conflicts/{conflict_id}"): OBJECT,
    ("GET", "/v1/notices"): SELF,
    ("GET", "/v1/notices/{notice_id}"): OBJECT,
    ("POST", "/v1/notices/delivered"): SELF,
    ("POST", "/v1/heartbeat"): SELF,
    ("POST", "/v1/activities/{activity_id}/messages"): OBJECT,
    ("GET", "/v1/activities/{activity_id}/messages"): OBJECT,
    ("POST", "/v1/conflicts/{conflict_id}/messages"): OBJECT,
    ("GET", "/v1/conflicts/{conflict_id}/messages"): OBJECT,
    ("GET", "/v1/links"): SELF,  # statuses only, shared by design
    ("POST", "/v1/notices/{notice_id}/read"): OBJECT,
    ("POST", "/v1/notices/{notice_id}/acknowledge"): OBJECT,
    ("POST", "/v1/notices/{notice_id}/object"): OBJECT,
    ("GET", "/v1/events"): SELF,
    ("POST", "/v1/assets"): CREATE,
    ("GET", "/v1/assets"): SELF,
    ("POST", "/v1/tracks"): CREATE,
    ("GET", "/v1/tracks"): SELF,
    ("GET", "/v1/alerts"): SELF,
    ("GET", "/v1/ledger/key"): PUBLIC,
    ("POST", "/v1/keys"): CREATE,
    ("GET", "/v1/keys"): SELF,
    ("DELETE", "/v1/keys/{key_id}"): OBJECT,
    ("GET", "/v1/ledger"): SELF,
    ("GET", "/v1/figures"): SELF,
    ("WS", "/v1/stream"): SELF,
    ("WS", "/v1/tracks/stream"): CREATE,
    # exchange formats (interop)
    ("GET", "/v1/activities/{activity_id}/notam"): OBJECT,
    ("GET", "/v1/activities/{activity_id}/kml"): OBJECT,
    ("GET", "/v1/activities/{activity_id}/kmz"): OBJECT,
    ("GET", "/v1/sites/{site_id}/kml"): OBJECT,
    ("GET", "/v1/sites/{site_id}/kmz"): OBJECT,
    # the console (web)
    ("GET", "/"): PUBLIC,
    ("GET", "/console/config.json"): PUBLIC,
    ("GET", "/console/activities/{activity_id}/report"): OBJECT,
    ("GET", "/tiles/{z}/{x}/{y}"): PUBLIC,
    ("MOUNT", "/static"): FILES,
    # the F3548 discovery service (interop), its own app mounted at /dss/v1
    ("GET", "/dss/v1/openapi.json"): PUBLIC,
    ("GET", "/dss/v1/docs"): PUBLIC,
    ("GET", "/dss/v1/docs/oauth2-redirect"): PUBLIC,
    ("POST", "/dss/v1/operational_intent_references/query"): DSS,
    ("GET", "/dss/v1/operational_intent_references/{entityid}"): DSS,
    ("PUT", "/dss/v1/operational_intent_references/{entityid}"): DSS,
    ("PUT", "/dss/v1/operational_intent_references/{entityid}/{ovn}"): DSS,
    ("DELETE", "/dss/v1/operational_intent_references/{entityid}/{ovn}"): DSS,
    ("POST", "/dss/v1/constraint_references/query"): DSS,
    ("GET", "/dss/v1/constraint_references/{entityid}"): DSS,
    ("PUT", "/dss/v1/constraint_references/{entityid}"): DSS,
    ("PUT", "/dss/v1/constraint_references/{entityid}/{ovn}"): DSS,
    ("DELETE", "/dss/v1/constraint_references/{entityid}/{ovn}"): DSS,
    ("POST", "/dss/v1/subscriptions/query"): DSS,
    ("GET", "/dss/v1/subscriptions/{subscriptionid}"): DSS,
    ("PUT", "/dss/v1/subscriptions/{subscriptionid}"): DSS,
    ("PUT", "/dss/v1/subscriptions/{subscriptionid}/{version}"): DSS,
    ("DELETE", "/dss/v1/subscriptions/{subscriptionid}/{version}"): DSS,
    ("POST", "/dss/v1/reports"): DSS,
    ("PUT", "/dss/v1/uss_availability/{uss_id}"): DSS,
    ("GET", "/dss/v1/uss_availability/{uss_id}"): DSS,
}

WRITE_METHODS = {"POST", "PUT", "DELETE"}
READ_ONLY_POSTS = {("POST", "/v1/activities/check")}
# an observer watching the hotline confirms receipt and marks notices read (never answers)
OBSERVER_POSTS = {
    ("POST", "/v1/notices/delivered"),
    ("POST", "/v1/notices/{notice_id}/read"),
    ("POST", "/v1/heartbeat"),
}
PARTY_FIELDS = {"id", "name", "kind", "contact", "languages", "created_at", "version"}


def _walk(routes: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    for r in routes:
        included = getattr(r, "original_router", None)  # FastAPI ≥ 0.160 keeps routers nested
        if included is not None:
            ctx = getattr(getattr(r, "include_context", None), "prefix", "") or ""
            yield from _walk(included.routes, prefix + ctx)
        elif isinstance(r, APIWebSocketRoute | WebSocketRoute):
            yield "WS", prefix + r.path
        elif isinstance(r, Route):
            yield from ((m, prefix + r.path) for m in sorted(r.methods or ()) if m != "HEAD")
        elif isinstance(r, Mount) and getattr(r.app, "routes", None):
            yield from _walk(r.app.routes, prefix + r.path)  # a mounted app (the DSS)
        elif isinstance(r, Mount):
            yield "MOUNT", prefix + r.path
        else:
            raise AssertionError(f"a route of unknown type: {r!r}")


def app_routes(hub: Hub) -> set[tuple[str, str]]:
    """Every (method, path) the hub serves, read from the app object itself (configured as
    ``hub`` is: the discovery service and a local tile file on)."""
    from deconfliction.api import Settings
    from deconfliction.web import create_console_app

    settings = Settings(
        data_dir=Path("/nonexistent-never-opened"),
        progress=False,
        dss_jwt_keys=str(hub.data_dir / "authority.pem"),
        dss_audience=AUD,
        tiles=str(hub.data_dir / "tiles.mbtiles"),
    )
    return set(_walk(create_console_app(settings).routes))


# ------------------------------------------------------------------------- the full hub


def _mbtiles(path: Path) -> Path:
    """A one-tile raster MBTiles file (z0, a PNG signature is all the hub serves back)."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.execute(
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)"
    )
    con.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [("format", "png"), ("minzoom", "0"), ("maxzoom", "0")],
    )
    con.execute("INSERT INTO tiles VALUES (0, 0, 0, ?)", (b"\x89PNG\r\n\x1a\n" + b"\0" * 32,))
    con.commit()
    con.close()
    return path


AUTHORITY = Authority()
USS_BLUE = "uss-blue"


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    """The hub as ``deconfliction serve`` runs it, with every optional part on."""
    with data_dir("access") as data:
        policy = data / "policy.toml"
        policy.write_text("[links]\ndegraded_after_min = 600\ndown_after_min = 601\n")
        env = {
            "DECONFLICTION_POLICY": str(policy),
            "DECONFLICTION_TILES": str(_mbtiles(data / "tiles.mbtiles")),
            "DECONFLICTION_DSS_JWT_KEYS": str(write_keys(data, AUTHORITY)),
            "DECONFLICTION_DSS_AUDIENCE": AUD,
            "DECONFLICTION_DSS_ISSUER": ISS,
            "DECONFLICTION_DSS_MANAGERS": json.dumps({USS_BLUE: "Blue"}),
        }
        h = Hub(data, env=env, factory="deconfliction.web:create_console_app")
        h.admin = bootstrap(data)
        h.start()
        try:
            yield h
        finally:
            h.stop()


@pytest.fixture(scope="module")
def admin(hub: Hub) -> str:
    return hub.admin


@pytest.fixture(scope="module")
def parties(hub: Hub, admin: str) -> Iterator[dict[str, Party]]:
    ps = add_parties(hub, admin)
    yield ps
    for p in ps.values():
        p.close()


@pytest.fixture(scope="module")
def blue(parties: dict[str, Party]) -> Party:
    return parties["Blue"]


@pytest.fixture(scope="module")
def red(parties: dict[str, Party]) -> Party:
    return parties["Red"]


@pytest.fixture(scope="module")
def civil(parties: dict[str, Party]) -> Party:
    return parties["Civil"]


def test_every_route_has_an_access_rule(hub: Hub) -> None:
    served = app_routes(hub)
    spec = httpx.get(hub.url + "/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert documented <= served
    assert served - set(ROUTES) == set(), "a route without an access rule: add it to ROUTES"
    assert set(ROUTES) - served == set(), "ROUTES names a route the app does not serve"


# ------------------------------------------------------------------------- the world


@dataclass
class World:
    """Blue's objects (and Red's activity crossing Blue's), to be probed by others."""

    blue: Party
    red: Party
    activity: dict[str, Any]
    activity_body: dict[str, Any]
    red_activity: dict[str, Any]
    site: dict[str, Any]
    site_body: dict[str, Any]
    conflict_id: str
    notice_id: str
    token_id: str
    secrets: set[str]
    key_id: str = ""

    def params(self) -> dict[str, str]:
        return {
            "activity_id": self.activity["id"],
            "site_id": self.site["id"],
            "conflict_id": self.conflict_id,
            "notice_id": self.notice_id,
            "party_id": self.blue.id,
            "token_id": self.token_id,
            "key_id": self.key_id,
            "level": "0",
            "z": "0",
            "x": "0",
            "y": "0",
        }


@pytest.fixture(scope="module")
def world(blue: Party, red: Party, admin: str, hub: Hub) -> World:
    lon, lat = spot()
    body = activity_body(
        "BLUE-TITLE-ax81", feature(lon, lat), remarks="BLUE-REMARKS-ax81", kind="air_operation"
    )
    a = blue.file(body)["activity"]
    sbody = site_body("BLUE-SITE-NAME-ax81", lon + 0.3, lat, remarks="BLUE-SITE-REMARKS-ax81")
    s = blue.op.post("/v1/sites", json=sbody)
    assert s.status_code == 201, s.text
    r = red.file(activity_body("RED-TITLE-ax81", feature(lon, lat), remarks="RED-REMARKS-ax81"))
    (notice,) = r["notices"]
    (conflict,) = r["conflicts"]
    with hub.client(admin) as c:
        tokens = c.get(f"/v1/parties/{blue.id}/tokens").json()
    token_id = next(t["id"] for t in tokens if t["role"] == "observer")
    site = s.json()["site"]
    secrets = {
        a["id"],
        a["title"],
        "BLUE-REMARKS-ax81",
        r["activity"]["id"],
        "RED-TITLE-ax81",
        "RED-REMARKS-ax81",
        site["id"],
        "BLUE-SITE-NAME-ax81",
        "BLUE-SITE-REMARKS-ax81",
        conflict["id"],
        notice["id"],
        token_id,
        blue.operator,
        blue.observer,
        red.operator,
    }
    k = blue.op.post("/v1/keys", json={"public_key": _intruder_key()})
    assert k.status_code == 201, k.text
    return World(
        blue,
        red,
        a,
        body,
        r["activity"],
        site,
        sbody,
        conflict["id"],
        notice["id"],
        token_id,
        secrets,
        k.json()["key_id"],
    )


def _intruder_key() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from deconfliction.audit import PublicKey

    raw = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    return PublicKey(raw).b64


def request_for(method: str, path: str, w: World) -> tuple[str, dict[str, Any]]:
    """The URL and httpx kwargs to call ``path`` on ``w``'s objects with a valid request."""
    url = path.format(**w.params())
    kw: dict[str, Any] = {}
    if method in {"PUT", "POST", "DELETE"} and "{" in path and "tokens" not in path:
        kw["headers"] = {"If-Match": '"1"'}
    far = spot()
    if (method, path) == ("PUT", "/v1/activities/{activity_id}"):
        kw["json"] = w.activity_body | {"title": "hijacked"}
    elif (method, path) == ("PUT", "/v1/sites/{site_id}"):
        kw["json"] = w.site_body | {"name": "hijacked"}
    elif (method, path) in {("POST", "/v1/activities"), ("POST", "/v1/activities/check")}:
        kw["json"] = activity_body("intruder's own", feature(*far))
    elif (method, path) == ("POST", "/v1/sites"):
        kw["json"] = site_body("intruder's site", *far)
    elif (method, path) == ("POST", "/v1/parties"):
        kw["json"] = {"name": f"Rogue {far}", "kind": "other"}
    elif (method, path) == ("POST", "/v1/parties/{party_id}/tokens"):
        kw["json"] = {"role": "admin"}
    elif (method, path) == ("PUT", "/v1/parties/{party_id}/escalation"):
        kw["json"] = {"levels": [{"name": "rogue level"}]}
    elif (method, path) == ("POST", "/v1/keys"):
        kw["json"] = {"public_key": _intruder_key()}
    elif (method, path) == ("PUT", "/v1/parties/{party_id}/webhooks/{level}"):
        # disabled: the admin's successful call must not leave a worker retrying in the
        # background (test_bad_input checks that nothing writes to the store meanwhile)
        kw["json"] = {"url": "https://127.0.0.1:9/rogue-hook", "enabled": False}
    elif (method, path) == ("POST", "/v1/assets"):
        kw["json"] = {
            "assets": [{"ref": "intruder-1", "lon": far[0], "lat": far[1], "max_speed_kt": 90}]
        }
    elif (method, path) == ("POST", "/v1/tracks"):
        t = datetime.now(UTC).isoformat()
        kw["json"] = {"tracks": [{"key": "intruder-1", "time": t, "lon": far[0], "lat": far[1]}]}
    elif path.endswith("/messages") and method == "POST":
        kw["json"] = {"template": "cease_harm", "text": "intruder's message"}
    elif (method, path) == ("POST", "/v1/notices/delivered"):
        kw["json"] = {"seq": 0}
    elif (method, path) == ("POST", "/v1/notices/{notice_id}/object"):
        kw["json"] = {"reason": "hijacked objection"}
    return url, kw


def assert_nothing_leaked(text: str, w: World, url: str, kw: dict[str, Any]) -> None:
    """None of ``w``'s secrets in ``text`` (bar what the request itself sent: an id echoed
    back in a 404's ``instance`` or ``detail`` is the caller's own input)."""
    sent = url + json.dumps(kw.get("json"))
    leaked = sorted(s for s in w.secrets if s in text and s not in sent)
    assert leaked == [], f"leaked {leaked} in {text[:500]}"


def read_stream(hub: Hub, token: str) -> str:
    """Everything the stream replays from seq 0, up to the first heartbeat."""
    with hub.stream(token, since=0) as s:
        return json.dumps(s.before_heartbeat())


def call(c: httpx.Client, method: str, url: str, kw: dict[str, Any]) -> httpx.Response:
    return c.request(method, url, **kw)


HTTP_ROUTES = sorted(k for k, v in ROUTES.items() if k[0] not in {"WS", "MOUNT"} and v != DSS)
DSS_ROUTES = sorted(k for k, v in ROUTES.items() if v == DSS)


def routes(pred: Any) -> list[Any]:
    """``HTTP_ROUTES`` matching ``pred`` as parameters with readable ids."""
    return [pytest.param(m, p, id=f"{m} {p}") for m, p in HTTP_ROUTES if pred(m, p)]


@pytest.mark.parametrize("intruder", ["Civil operator", "Green observer", "hub admin"])
def test_another_partys_objects_are_out_of_reach(
    intruder: str, world: World, parties: dict[str, Party], admin: str, hub: Hub
) -> None:
    name, role = intruder.split()
    token = admin if name == "hub" else getattr(parties[name], role)
    with hub.client(token) as c:
        for (method, path), kind in sorted(ROUTES.items()):
            if kind in {DSS, FILES}:
                continue  # tested below
            if method == "WS":
                assert_nothing_leaked(read_stream(hub, token), world, path, {})
                continue
            if kind == ADMIN and name == "hub":
                continue  # the admin's own business (tested below)
            url, kw = request_for(method, path, world)
            r = call(c, method, url, kw)
            where = f"{intruder}: {method} {url} -> {r.status_code} {r.text[:300]}"
            assert r.status_code < 500, where
            if kind == OBJECT:
                assert r.status_code in (403, 404), where
                assert r.headers["content-type"].startswith("application/problem+json"), where
            elif kind == ADMIN or (kind == CREATE and role == "observer"):
                assert r.status_code == 403, where
            elif kind == DIRECTORY:
                assert r.status_code == 200, where
                rows = r.json() if isinstance(r.json(), list) else [r.json()]
                assert all(set(p) <= PARTY_FIELDS for p in rows), where
            else:
                assert r.is_success, where
            assert_nothing_leaked(r.text, world, url, kw)
    # and nothing was changed
    a = world.blue.op.get(f"/v1/activities/{world.activity['id']}").json()
    assert (a["version"], a["state"], a["title"]) == (1, "notified", "BLUE-TITLE-ax81")
    s = world.blue.op.get(f"/v1/sites/{world.site['id']}").json()
    assert (s["version"], s["state"], s["name"]) == (1, "active", "BLUE-SITE-NAME-ax81")
    tokens = hub.client(admin).get(f"/v1/parties/{world.blue.id}/tokens").json()
    assert all(t["revoked_at"] is None for t in tokens)
    assert len(tokens) == 2
    assert [k["revoked_at"] for k in world.blue.op.get("/v1/keys").json()] == [None]
    n = world.blue.op.get(f"/v1/notices/{world.notice_id}").json()
    assert (n["read_at"], n["answered_at"], n["objection"]) == (None, None, None)


def test_an_affected_party_sees_but_cannot_touch(world: World) -> None:
    """Red's activity crosses Blue's: Red may read Blue's activity (less its remarks), but
    every write and the owner-only notice list stay closed to it."""
    red, aid = world.red, world.activity["id"]
    seen = red.op.get(f"/v1/activities/{aid}")
    assert seen.status_code == 200
    assert "BLUE-REMARKS-ax81" not in seen.text
    for method, path in [
        ("PUT", "/v1/activities/{activity_id}"),
        ("POST", "/v1/activities/{activity_id}/activate"),
        ("POST", "/v1/activities/{activity_id}/end"),
        ("POST", "/v1/activities/{activity_id}/cancel"),
        ("GET", "/v1/activities/{activity_id}/notices"),
        ("GET", "/v1/activities/{activity_id}/timeline"),
    ]:
        url, kw = request_for(method, path, world)
        r = call(red.op, method, url, kw)
        assert r.status_code in (403, 404), (method, url, r.text)
        assert "BLUE-REMARKS-ax81" not in r.text
    assert world.blue.op.get(f"/v1/activities/{aid}").json()["version"] == 1


# ------------------------------------------------------------------------- tokens and roles


@pytest.mark.parametrize(("method", "path"), routes(lambda m, p: ROUTES[m, p] != PUBLIC))
@pytest.mark.parametrize(
    "authorization", [None, "Bearer dh_not-a-real-token", "Basic Ymx1ZTpibHVl", "Bearer"]
)
def test_no_valid_token_is_401(
    method: str, path: str, authorization: str | None, world: World, anon: httpx.Client
) -> None:
    url, kw = request_for(method, path, world)
    if authorization:
        kw.setdefault("headers", {})["Authorization"] = authorization
    r = call(anon, method, url, kw)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].lower().startswith("bearer")
    assert r.json()["status"] == 401
    assert_nothing_leaked(r.text, world, url, kw)


def test_public_routes_need_no_token(anon: httpx.Client, world: World) -> None:
    for method, path in HTTP_ROUTES:
        if ROUTES[method, path] == PUBLIC:
            url, kw = request_for(method, path, world)
            assert anon.request(method, url, **kw).status_code == 200, path
    assert anon.get("/static/console.css").status_code == 200
    for bad in ("/static/../_console.py", "/static/%2e%2e/_console.py"):
        assert anon.get(bad).status_code == 404, bad


def _dss_url(path: str) -> str:
    ids = {"entityid": str(uuid4()), "subscriptionid": str(uuid4())}
    return path.format(**ids, ovn="an-ovn", version="1", uss_id=USS_BLUE)


@pytest.mark.parametrize(("method", "path"), DSS_ROUTES, ids=[f"{m} {p}" for m, p in DSS_ROUTES])
def test_the_discovery_service_takes_only_its_own_tokens(
    method: str, path: str, world: World, anon: httpx.Client
) -> None:
    """No token, a hub token (Blue's own, its USS mapped to Blue), a forged or an expired
    JWT: 401; a valid JWT without the operation's scope, or of a USS mapped to no party:
    403. Nothing of Blue's in any answer."""
    url = _dss_url(path)
    every = (
        "utm.strategic_coordination",
        "utm.constraint_management",
        "utm.constraint_processing",
        "utm.conformance_monitoring_sa",
        "utm.availability_arbitration",
    )
    cases = [
        (None, 401),
        (world.blue.operator, 401),
        (world.blue.observer, 401),
        (Authority().token(USS_BLUE, *every), 401),  # signed by another key
        (AUTHORITY.token(USS_BLUE, *every, exp_in=-600), 401),
        (AUTHORITY.token(USS_BLUE, *every, aud="elsewhere.example"), 401),
        (AUTHORITY.token(USS_BLUE), 403),  # no scope
        (AUTHORITY.token("uss-unmapped", *every), 403),
    ]
    for token, status in cases:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = anon.request(
            method, url, headers=headers, json={} if method in {"PUT", "POST"} else None
        )
        assert r.status_code == status, (token and token[:12], r.status_code, r.text)
        assert_nothing_leaked(r.text, world, url, {})
    ok = anon.get(
        _dss_url("/dss/v1/operational_intent_references/{entityid}"),
        headers={"Authorization": f"Bearer {AUTHORITY.token(USS_BLUE, SC)}"},
    )
    assert ok.status_code == 404, ok.text  # the right token: past access, to "no such id"


def test_stream_without_a_token_is_closed(hub: Hub) -> None:
    with hub.stream(None) as s:
        s.ws.send("{}")  # a first message without a token
        with pytest.raises(ConnectionClosed) as exc:
            s.next(timeout=3.0)
    assert exc.value.rcvd is not None
    assert exc.value.rcvd.code == 1008


@pytest.mark.parametrize(
    ("method", "path"),
    routes(
        lambda m, p: (
            m in WRITE_METHODS
            and ROUTES[m, p] != PUBLIC
            and (m, p) not in READ_ONLY_POSTS | OBSERVER_POSTS
        )
    ),
)
def test_observer_cannot_write_even_its_own(method: str, path: str, world: World) -> None:
    """Blue's observer on Blue's own objects: 403, and nothing changes."""
    url, kw = request_for(method, path, world)
    r = call(world.blue.obs, method, url, kw)
    assert r.status_code == 403, r.text
    assert r.json()["status"] == 403
    a = world.blue.op.get(f"/v1/activities/{world.activity['id']}").json()
    assert (a["version"], a["state"]) == (1, "notified")


def test_observer_may_read_and_dry_run(world: World) -> None:
    obs = world.blue.obs
    assert obs.get(f"/v1/activities/{world.activity['id']}").json()["remarks"] == (
        "BLUE-REMARKS-ax81"
    )
    assert obs.get("/v1/notices").status_code == 200
    chk = obs.post("/v1/activities/check", json=activity_body("probe", feature(*spot())))
    assert chk.status_code == 200, chk.text
    assert obs.post("/v1/notices/delivered", json={"seq": 0}).json() == {"delivered": []}
    ack = obs.post(f"/v1/notices/{world.notice_id}/acknowledge")
    assert ack.status_code == 403, ack.text


@pytest.mark.parametrize(("method", "path"), routes(lambda m, p: ROUTES[m, p] == ADMIN))
def test_only_an_admin_administers(
    method: str, path: str, world: World, civil: Party, admin: str, hub: Hub
) -> None:
    """An operator is refused even on its own party; the admin is not."""
    own = World(**(world.__dict__ | {"blue": civil}))
    with hub.client(admin) as c:
        tokens = c.get(f"/v1/parties/{civil.id}/tokens").json()
    own.token_id = next(t["id"] for t in tokens if t["role"] == "observer")
    url, kw = request_for(method, path, own)
    r = call(civil.op, method, url, kw)
    assert r.status_code == 403, r.text
    if method == "DELETE":
        return  # the admin revoking Civil's observer would break later tests
    with hub.client(admin) as c:
        assert call(c, method, url, kw).is_success


def test_a_revoked_token_is_401_at_once(civil: Party, admin: str, hub: Hub) -> None:
    with hub.client(admin) as c:
        made = c.post(f"/v1/parties/{civil.id}/tokens", json={"role": "operator", "label": "tmp"})
        assert made.status_code == 201
        secret, tid = made.json()["secret"], made.json()["id"]
        listed = c.get(f"/v1/parties/{civil.id}/tokens").text
        assert secret not in listed  # shown once
        with hub.client(secret) as t:
            assert t.get("/v1/me").json()["token_id"] == tid
            gone = c.delete(f"/v1/tokens/{tid}")
            assert gone.status_code == 200
            assert gone.json()["revoked_at"] is not None
            assert t.get("/v1/me").status_code == 401
            r = t.post("/v1/activities", json=activity_body("after revoke", feature(*spot())))
            assert r.status_code == 401
    with pytest.raises(ConnectionClosed) as exc, hub.stream(secret) as s:
        s.next(timeout=3.0)
    assert exc.value.rcvd is not None
    assert exc.value.rcvd.code == 1008
