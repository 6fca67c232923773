"""Bad input over the wire: each case is a clear 4xx problem (naming the field where there is
one), never a 500, and nothing is stored — no activity, site or event anywhere changes.

The filer is Civil, filing on top of Red's activity: a bad filing that slipped through,
even in part, would show as a new event in Red's stream (or Civil's).
"""

from __future__ import annotations

import copy
import json
import math
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from tests.api._hub import Hub, Party, activity_body, feature, iso, site_body, spot

MB2 = 2 * 1024 * 1024


@dataclass
class Target:
    lon: float
    lat: float
    body: dict[str, Any]
    own_id: str
    """An activity of Civil's, to amend badly."""
    site_body: dict[str, Any]
    site_id: str


@pytest.fixture(scope="module")
def target(civil: Party, red: Party) -> Target:
    lon, lat = spot()
    red.file(activity_body("Red on the spot", feature(lon, lat)))
    body = activity_body("Civil route", feature(lon, lat), remarks="r")
    own = civil.file(body)["activity"]["id"]
    sb = site_body("Civil radar", lon, lat, category="civilian_infrastructure")
    s = civil.op.post("/v1/sites", json=sb)
    assert s.status_code == 201, s.text
    return Target(lon, lat, body, own, sb, s.json()["site"]["id"])


def snapshot(hub: Hub, parties: dict[str, Party]) -> dict[str, Any]:
    civil = parties["Civil"]
    return {
        "seqs": {name: p.last_seq() for name, p in parties.items()},
        "activities": civil.op.get("/v1/activities", params={"limit": 10_000}).json(),
        "sites": civil.op.get("/v1/sites").json(),
        "db": hub.db_digest(),
    }


@pytest.fixture
def unchanged(hub: Hub, parties: dict[str, Party]) -> Iterator[None]:
    """Assert that the test stored nothing: every party's events, Civil's activities and
    sites, and (read-only) every row of the hub's database are as they were."""
    before = snapshot(hub, parties)
    yield
    assert snapshot(hub, parties) == before


def assert_problem(r: Any, status: int, fld: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    p = r.json()
    assert p["status"] == status
    assert p["title"]
    assert p["detail"]
    if fld is not None:
        fields = [e["field"] for e in p.get("errors", ())]
        assert fld in fields, p
        assert all(e["reason"] for e in p["errors"])
    return p  # type: ignore[no-any-return]


# ------------------------------------------------------------------------- body mutations

Mut = Callable[[dict[str, Any]], Any]


def setp(path: str, value: Any) -> Mut:
    """Set ``path`` (dots; ints index lists) in a copy of the body."""

    def f(body: dict[str, Any]) -> dict[str, Any]:
        b = copy.deepcopy(body)
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        obj: Any = b
        for k in keys[:-1]:
            obj = obj[k]
        obj[keys[-1]] = value
        return b

    return f


def delp(path: str) -> Mut:
    def f(body: dict[str, Any]) -> dict[str, Any]:
        b = copy.deepcopy(body)
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        obj: Any = b
        for k in keys[:-1]:
            obj = obj[k]
        del obj[keys[-1]]
        return b

    return f


F0 = "volumes.features.0"
RING = F0 + ".geometry.coordinates.0"
GEO_FIELD = "volumes.features[0].geometry.coordinates[0]"


def ring(*pts: tuple[float, float]) -> Mut:
    return setp(F0 + ".geometry.coordinates", [[list(p) for p in pts]])


@dataclass(frozen=True)
class At:
    """A mutation that depends on where the target is."""

    build: Callable[[Target], Mut]


def rel(*offsets: tuple[float, float]) -> At:
    """A ring of offsets (degrees) from the target."""
    return At(lambda t: ring(*[(t.lon + dx, t.lat + dy) for dx, dy in offsets]))


def many_vertices(n: int) -> At:
    """A ring of ``n`` vertices on a small circle around the target (valid but for ``n``)."""

    def build(t: Target) -> Mut:
        pts = [
            (
                t.lon + 0.05 * math.cos(2 * math.pi * i / n),
                t.lat + 0.05 * math.sin(2 * math.pi * i / n),
            )
            for i in range(n)
        ]
        return ring(*pts)

    return At(build)


def square_hole(t: Target) -> list[list[float]]:
    d = 0.01
    return [
        [t.lon - d, t.lat - d],
        [t.lon + d, t.lat - d],
        [t.lon + d, t.lat + d],
        [t.lon - d, t.lat - d],
    ]


def many_volumes(n: int) -> Mut:
    def f(body: dict[str, Any]) -> dict[str, Any]:
        b = copy.deepcopy(body)
        b["volumes"]["features"] = b["volumes"]["features"] * n
        return b

    return f


def when(hours: float) -> str:
    return iso(datetime.now(UTC) + timedelta(hours=hours))


NAIVE = (datetime.now(UTC) + timedelta(hours=3)).replace(tzinfo=None).isoformat()

# (id, mutation of a valid filing — or a callable of the target giving one, expected field)
ACTIVITY_CASES: list[tuple[str, Any, str | None]] = [
    ("unknown field", setp("colour", "red"), "colour"),
    ("not a FeatureCollection", setp("volumes.type", "Feature"), "volumes.type"),
    ("title wrong type", setp("title", 123), "title"),
    ("title empty", setp("title", ""), "title"),
    ("title too long", setp("title", "x" * 201), "title"),
    ("title control characters", setp("title", "a\x00b"), "title"),
    ("title blank", setp("title", "   "), "title"),
    ("remarks too long", setp("remarks", "x" * 4001), "remarks"),
    ("kind missing", delp("kind"), "kind"),
    ("bad kind", setp("kind", "bombing"), "kind"),
    ("bad priority", setp("priority", "asap"), "priority"),
    ("priority wrong type", setp("priority", 5), "priority"),
    ("volumes wrong type", setp("volumes", "everywhere"), "volumes"),
    ("features wrong type", setp("volumes.features", {"a": 1}), "volumes.features"),
    ("no volumes", setp("volumes.features", []), "volumes.features"),
    ("101 volumes", many_volumes(101), "volumes.features"),
    ("feature wrong type", setp(F0 + ".type", "Polygon"), "volumes.features[0].type"),
    ("geometry missing", delp(F0 + ".geometry"), "volumes.features[0].geometry"),
    (
        "geometry type",
        setp(F0 + ".geometry.type", "LineString"),
        "volumes.features[0].geometry.type",
    ),
    (
        "coordinates wrong type",
        setp(F0 + ".geometry.coordinates", "here"),
        "volumes.features[0].geometry.coordinates",
    ),
    (
        "vertex of strings",
        At(lambda t: ring(("a", "b"), (t.lon, t.lat), (t.lon + 0.1, t.lat))),
        None,
    ),
    (
        "vertex of booleans",
        At(lambda t: ring((True, False), (t.lon, t.lat + 0.1), (t.lon + 0.1, t.lat))),
        None,
    ),
    ("two vertices", rel((0, 0), (0.1, 0.1)), GEO_FIELD),
    ("two vertices closed", rel((0, 0), (0.1, 0.1), (0, 0)), GEO_FIELD),
    ("self-intersecting", rel((0, 0), (0.1, 0.1), (0.1, 0), (0, 0.1)), None),
    (
        "latitude 91",
        At(lambda t: ring((t.lon, 91), (t.lon + 0.1, 89.9), (t.lon - 0.1, 89.9))),
        None,
    ),
    ("longitude 181", At(lambda t: ring((181, t.lat), (179.9, t.lat), (179.9, t.lat + 0.1))), None),
    (
        "holes",
        At(
            lambda t: (
                lambda b: setp(
                    F0 + ".geometry.coordinates",
                    [*b["volumes"]["features"][0]["geometry"]["coordinates"], square_hole(t)],
                )(b)
            )
        ),
        "volumes.features[0].geometry.coordinates",
    ),
    ("10,001 vertices", many_vertices(10_001), GEO_FIELD),
    ("area above the cap", rel((-1, -1), (1, -1), (1, 1), (-1, 1)), None),
    (
        "circle without radius",
        setp(F0 + ".geometry", {"type": "Point", "coordinates": [2, 48]}),
        None,
    ),
    (
        "negative radius",
        At(
            lambda t: (
                lambda b: setp(F0 + ".properties.radius_m", -5)(
                    setp(F0 + ".geometry", {"type": "Point", "coordinates": [t.lon, t.lat]})(b)
                )
            )
        ),
        "volumes.features[0].properties.radius_m",
    ),
    ("altitude missing", delp(F0 + ".properties.altitude_lower_m"), None),
    ("altitude wrong type", setp(F0 + ".properties.altitude_upper_m", "high"), None),
    ("altitude upside down", setp(F0 + ".properties.altitude_lower_m", 9000), None),
    ("properties wrong type", setp(F0 + ".properties", [1, 2]), None),
    ("naive start", setp(F0 + ".properties.time_start", NAIVE), None),
    ("naive end", setp(F0 + ".properties.time_end", NAIVE), None),
    ("time not ISO", setp(F0 + ".properties.time_start", "tomorrow noon"), None),
    ("time wrong type", setp(F0 + ".properties.time_start", 1764000000), None),
    ("ends before it starts", setp(F0 + ".properties.time_end", when(1)), None),
    ("longer than 30 days", setp(F0 + ".properties.time_end", when(24 * 31 + 3)), None),
]


TEXT_RULES = {"title control characters", "title blank"}
"""Cases the model layer catches (not the request schema): see the dry-run test below."""


@pytest.mark.parametrize(
    ("mutation", "fld", "route"),
    [
        pytest.param(m, f, r, id=f"{r}-{i}")
        for r in ("file", "check", "amend")
        for i, m, f in ACTIVITY_CASES
        if not (r == "check" and i in TEXT_RULES)
    ],
)
@pytest.mark.usefixtures("unchanged")
def test_a_bad_activity_is_422_and_names_the_field(
    mutation: Any, fld: str | None, route: str, civil: Party, target: Target
) -> None:
    mut = mutation.build(target) if isinstance(mutation, At) else mutation
    body = mut(target.body)
    if route == "file":
        r = civil.op.post("/v1/activities", json=body, headers={"Idempotency-Key": str(uuid4())})
    elif route == "check":
        r = civil.op.post("/v1/activities/check", json=body)
    else:
        r = civil.op.put(f"/v1/activities/{target.own_id}", json=body, headers={"If-Match": '"1"'})
    p = assert_problem(r, 422, fld)
    errors = p.get("errors", [])
    assert errors, p
    if fld is None:  # a field under the volume, or the volume itself
        assert all(e["field"].startswith("volumes") for e in errors), p


@pytest.mark.parametrize("title", ["a\x00b", "   ", "line\nbreak\x07"])
@pytest.mark.usefixtures("unchanged")
def test_the_dry_run_refuses_what_filing_refuses(title: str, civil: Party, target: Target) -> None:
    """BUG: ``POST /v1/activities/check`` answers 200 with the conflicts for a title that
    ``POST /v1/activities`` refuses with 422 (control characters, blank). ``Hotline.check``
    (``hotline/_activities.py``) validates only the volumes (``_validate``); the title and
    remarks rules live in ``Activity.__post_init__`` (``model._checks.text``), which only
    ``file``/``amend`` build. A dry run must predict the filing's outcome."""
    body = target.body | {"title": title}
    filed = civil.op.post("/v1/activities", json=body)
    assert_problem(filed, 422, "title")
    checked = civil.op.post("/v1/activities/check", json=body)
    assert_problem(checked, 422, "title")


# ------------------------------------------------------------------------- raw bodies


RAW_CASES: list[tuple[str, bytes, int, str | None]] = [
    ("truncated JSON", b'{"kind": "flight", "title": ', 400, "body"),
    ("trailing garbage", b'{"kind": "flight"} x', 400, "body"),
    ("not UTF-8", b'{"kind": "\xff\xfe"}', 400, None),
    ("empty", b"", 422, None),
    ("a list", b"[]", 422, None),
    ("a string", b'"flight"', 422, None),
    ("deeply nested", b"[" * 100_000 + b"]" * 100_000, 400, None),
]


@pytest.mark.parametrize(
    ("raw", "status", "fld"), [pytest.param(b, s, f, id=i) for i, b, s, f in RAW_CASES]
)
@pytest.mark.usefixtures("unchanged")
def test_malformed_json_is_a_clear_4xx(
    raw: bytes, status: int, fld: str | None, civil: Party
) -> None:
    r = civil.op.post("/v1/activities", content=raw, headers={"Content-Type": "application/json"})
    assert_problem(r, status, fld)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
@pytest.mark.parametrize("where", ["lon", "lat", "altitude", "radius"])
@pytest.mark.usefixtures("unchanged")
def test_non_finite_numbers_in_a_raw_body_are_refused(
    token: str, where: str, civil: Party, target: Target
) -> None:
    body = copy.deepcopy(target.body)
    props = body["volumes"]["features"][0]["properties"]
    if where == "radius":
        body["volumes"]["features"][0]["geometry"] = {
            "type": "Point",
            "coordinates": [target.lon, target.lat],
        }
        props["radius_m"] = "@@"
    elif where == "altitude":
        props["altitude_upper_m"] = "@@"
    else:
        body["volumes"]["features"][0]["geometry"]["coordinates"][0][1][
            0 if where == "lon" else 1
        ] = "@@"
    raw = json.dumps(body).replace('"@@"', token).encode()
    r = civil.op.post("/v1/activities", content=raw, headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    p = assert_problem(r, r.status_code)
    if r.status_code == 422:
        assert all(e["field"].startswith("volumes") for e in p["errors"]), p


def test_json_with_a_wrong_content_type_is_refused(civil: Party, target: Target) -> None:
    before = civil.last_seq()
    r = civil.op.post(
        "/v1/activities",
        content=json.dumps(target.body).encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code in (400, 415, 422), r.text
    assert_problem(r, r.status_code)
    assert civil.last_seq() == before


# ------------------------------------------------------------------------- sizes


def _big_body(target: Target) -> bytes:
    body = copy.deepcopy(target.body)
    body["remarks"] = "x" * (MB2 + 10)
    return json.dumps(body).encode()


@pytest.mark.usefixtures("unchanged")
def test_a_body_over_2_mb_with_content_length_is_413(civil: Party, target: Target) -> None:
    raw = _big_body(target)
    r = civil.op.post("/v1/activities", content=raw, headers={"Content-Type": "application/json"})
    assert_problem(r, 413)


@pytest.mark.usefixtures("unchanged")
def test_a_chunked_body_over_2_mb_is_413(civil: Party, target: Target) -> None:
    raw = _big_body(target)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(raw), 64 * 1024):
            yield raw[i : i + 64 * 1024]

    r = civil.op.post(
        "/v1/activities", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in r.request.headers
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert_problem(r, 413)


@pytest.mark.usefixtures("unchanged")
def test_a_lying_content_length_is_refused_without_reading_2_mb(hub: Hub, civil: Party) -> None:
    """A declared length over the cap is refused at once (before any byte of the body)."""
    with socket.create_connection(("127.0.0.1", hub.port), timeout=5) as s:
        s.sendall(
            b"POST /v1/activities HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {civil.operator}\r\n".encode()
            + f"Content-Type: application/json\r\nContent-Length: {MB2 + 1}\r\n\r\n".encode()
        )
        head = s.recv(4096).decode(errors="replace")
    assert head.startswith("HTTP/1.1 413"), head


@pytest.mark.usefixtures("unchanged")
def test_a_body_just_under_the_cap_is_parsed(civil: Party, target: Target) -> None:
    """Not refused for its size: the remarks are then too long (422), nothing else."""
    body = copy.deepcopy(target.body)
    body["remarks"] = "x" * (MB2 - 4096)
    r = civil.op.post("/v1/activities", json=body)
    assert_problem(r, 422, "remarks")


# ------------------------------------------------------------------------- ids and headers


@dataclass
class Req:
    method: str
    url: str
    kw: dict[str, Any] = field(default_factory=dict)


def _id_cases(t: Target) -> dict[str, tuple[Req, int, str | None]]:
    u = str(uuid4())
    m = {"If-Match": '"1"'}
    return {
        "unknown activity": (Req("GET", f"/v1/activities/{u}"), 404, None),
        "unknown activity amend": (
            Req("PUT", f"/v1/activities/{u}", {"json": t.body, "headers": m}),
            404,
            None,
        ),
        "unknown activity cancel": (
            Req("POST", f"/v1/activities/{u}/cancel", {"headers": m}),
            404,
            None,
        ),
        "unknown activity notices": (Req("GET", f"/v1/activities/{u}/notices"), 404, None),
        "unknown site": (Req("GET", f"/v1/sites/{u}"), 404, None),
        "unknown site withdraw": (Req("DELETE", f"/v1/sites/{u}", {"headers": m}), 404, None),
        "unknown conflict": (Req("GET", f"/v1/conflicts/{u}"), 404, None),
        "unknown notice": (Req("GET", f"/v1/notices/{u}"), 404, None),
        "unknown party": (Req("GET", f"/v1/parties/{u}"), 404, None),
        "malformed id": (Req("GET", "/v1/activities/not-a-uuid"), 422, "activity_id"),
        "malformed id on write": (
            Req("POST", "/v1/activities/12345/activate", {"headers": m}),
            422,
            "activity_id",
        ),
        "unknown route": (Req("GET", "/v1/nothing-here"), 404, None),
        "wrong method": (Req("PATCH", f"/v1/activities/{t.own_id}"), 405, None),
        "If-Match not a version": (
            Req(
                "PUT",
                f"/v1/activities/{t.own_id}",
                {"json": t.body, "headers": {"If-Match": '"abc"'}},
            ),
            422,
            "If-Match",
        ),
        "If-Match star": (
            Req("POST", f"/v1/activities/{t.own_id}/activate", {"headers": {"If-Match": "*"}}),
            422,
            "If-Match",
        ),
        "If-Match negative": (
            Req("DELETE", f"/v1/sites/{t.site_id}", {"headers": {"If-Match": '"-1"'}}),
            422,
            "If-Match",
        ),
        "If-Match huge": (
            Req("POST", f"/v1/activities/{t.own_id}/end", {"headers": {"If-Match": "9" * 40}}),
            422,
            "If-Match",
        ),
        "If-Match stale": (
            Req("POST", f"/v1/activities/{t.own_id}/cancel", {"headers": {"If-Match": '"7"'}}),
            409,
            None,
        ),
        "If-Match missing on withdraw": (Req("DELETE", f"/v1/sites/{t.site_id}"), 428, None),
        "ending a notified activity": (
            Req("POST", f"/v1/activities/{t.own_id}/end", {"headers": m}),
            409,
            None,
        ),
        "Idempotency-Key too long": (
            Req(
                "POST",
                "/v1/activities",
                {"json": t.body, "headers": {"Idempotency-Key": "k" * 201}},
            ),
            422,
            "Idempotency-Key",
        ),
        "bad scope": (
            Req("GET", "/v1/activities", {"params": {"scope": "everyone"}}),
            422,
            "scope",
        ),
        "bad bbox": (Req("GET", "/v1/activities", {"params": {"bbox": "1,2,3"}}), 422, "bbox"),
        "bbox NaN": (Req("GET", "/v1/activities", {"params": {"bbox": "nan,0,1,1"}}), 422, "bbox"),
        "start without end": (
            Req("GET", "/v1/activities", {"params": {"start": when(0)}}),
            422,
            "end",
        ),
        "naive window": (
            Req("GET", "/v1/activities", {"params": {"start": NAIVE, "end": NAIVE}}),
            422,
            None,
        ),
        "window upside down": (
            Req("GET", "/v1/activities", {"params": {"start": when(5), "end": when(1)}}),
            422,
            None,
        ),
        "limit 0": (Req("GET", "/v1/notices", {"params": {"limit": 0}}), 422, "limit"),
        "since negative": (Req("GET", "/v1/events", {"params": {"since": -1}}), 422, "since"),
        "since not a number": (Req("GET", "/v1/events", {"params": {"since": "x"}}), 422, "since"),
    }


ID_CASE_NAMES = list(_id_cases(Target(0, 0, {}, "x", {}, "y")))


@pytest.mark.parametrize("case", ID_CASE_NAMES)
@pytest.mark.usefixtures("unchanged")
def test_unknown_ids_bad_headers_and_queries(case: str, civil: Party, target: Target) -> None:
    req, status, fld = _id_cases(target)[case]
    r = civil.op.request(req.method, req.url, **req.kw)
    assert_problem(r, status, fld)


# ------------------------------------------------------------------------- sites, parties

SITE_CASES: list[tuple[str, Mut, str | None]] = [
    ("unknown field", setp("colour", 1), "colour"),
    ("bad category", setp("category", "barracks"), "category"),
    ("name missing", delp("name"), "name"),
    ("naive validity", setp("valid_from", NAIVE), "valid_from"),
    ("validity upside down", setp("valid_to", when(-5)), None),
    ("negative buffer", setp("buffer_m", -1), "buffer_m"),
    ("huge buffer", setp("buffer_m", 1e9), "buffer_m"),
    ("no radius", delp("footprint.properties.radius_m"), None),
    ("lat 91", setp("footprint.geometry.coordinates", [2, 91]), None),
    (
        "altitude upside down",
        lambda b: setp("altitude_upper_m", 1000)(setp("altitude_lower_m", 5000)(b)),
        None,
    ),
]


@pytest.mark.parametrize(("mut", "fld"), [pytest.param(m, f, id=i) for i, m, f in SITE_CASES])
@pytest.mark.parametrize("route", ["register", "amend"])
@pytest.mark.usefixtures("unchanged")
def test_a_bad_site_is_422(
    mut: Mut, fld: str | None, route: str, civil: Party, target: Target
) -> None:
    body = mut(target.site_body)
    if route == "register":
        r = civil.op.post("/v1/sites", json=body)
    else:
        r = civil.op.put(f"/v1/sites/{target.site_id}", json=body, headers={"If-Match": '"1"'})
    p = assert_problem(r, 422, fld)
    assert p["errors"]


@pytest.mark.parametrize(
    ("body", "fld"),
    [
        pytest.param({"name": "X", "kind": "militia"}, "kind", id="bad kind"),
        pytest.param({"name": "", "kind": "other"}, "name", id="empty name"),
        pytest.param({"name": "Blue", "kind": "other"}, "name", id="duplicate name"),
        pytest.param({"name": "blue", "kind": "other"}, "name", id="duplicate, other case"),
        pytest.param({"name": "Y", "kind": "other", "languages": []}, "languages", id="no lang"),
        pytest.param({"name": "Z", "kind": "other", "admin": True}, "admin", id="unknown field"),
    ],
)
def test_bad_party_is_422(
    body: dict[str, Any], fld: str, admin: str, hub: Hub, parties: dict[str, Party]
) -> None:
    with hub.client(admin) as c:
        before = c.get("/v1/parties").json()
        assert_problem(c.post("/v1/parties", json=body), 422, fld)
        assert c.get("/v1/parties").json() == before


@pytest.mark.parametrize(
    ("body", "fld"),
    [
        pytest.param({"role": "god"}, "role", id="bad role"),
        pytest.param({"role": "observer", "secret": "mine"}, "secret", id="choose own secret"),
        pytest.param({"label": "x" * 201}, "label", id="label too long"),
    ],
)
def test_bad_token_request_is_422(
    body: dict[str, Any], fld: str, admin: str, hub: Hub, civil: Party
) -> None:
    with hub.client(admin) as c:
        before = c.get(f"/v1/parties/{civil.id}/tokens").json()
        assert_problem(c.post(f"/v1/parties/{civil.id}/tokens", json=body), 422, fld)
        assert c.get(f"/v1/parties/{civil.id}/tokens").json() == before
