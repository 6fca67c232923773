"""Access tokens of /dss/v1: RS256 JWTs checked for signature, exp, aud, iss and the scopes
each operation lists; the token's sub must be mapped to a hotline party."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from deconfliction.errors import InvalidInput
from deconfliction.interop._dss_auth import KeySet
from deconfliction.interop._dss_errors import DssError
from tests.api._hub import data_dir, spot
from tests.interop.dss_support import (
    AA,
    AUD,
    CM,
    CMSA,
    CP,
    DSS,
    SC,
    Authority,
    InProcess,
    circle,
    in_process,
)

QUERY = f"{DSS}/operational_intent_references/query"


def _query(dss: InProcess, headers: dict[str, str] | None) -> Any:
    lon, lat = spot()
    return dss.client.post(QUERY, json={"area_of_interest": circle(lon, lat)}, headers=headers)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_good_token_is_taken(dss: InProcess) -> None:
    r = _query(dss, dss.as_("uss-a", SC))
    assert r.status_code == 200, r.text
    assert r.json() == {"operational_intent_references": []}


def test_no_token_is_401_with_a_message(dss: InProcess) -> None:
    r = _query(dss, None)
    assert r.status_code == 401
    assert "Bearer" in r.json()["message"]
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("mint", "reason"),
    [
        (lambda a: "not.a.jwt", "decoded"),
        (lambda a: a.token("uss-a", SC, exp_in=-60), "expired"),
        (lambda a: a.token("uss-a", SC, aud="other.example"), "Audience"),
        (lambda a: a.token("uss-a", SC, aud=None), "aud"),
        (lambda a: a.token("uss-a", SC, iss="https://elsewhere"), "issuer"),
        (lambda a: Authority().token("uss-a", SC), "not valid"),
        (
            lambda a: jwt.encode({"sub": "uss-a", "scope": SC}, "s" * 32, algorithm="HS256"),
            "RS256",
        ),
        (lambda a: a.token("", SC), "sub"),
    ],
)
def test_bad_tokens_are_401(dss: InProcess, mint: Any, reason: str) -> None:
    r = _query(dss, _bearer(mint(dss.authority)))
    assert r.status_code == 401, r.text
    assert reason in r.json()["message"]


def test_a_token_without_the_operations_scope_is_403(dss: InProcess) -> None:
    r = _query(dss, dss.as_("uss-a", CM, CP, AA))
    assert r.status_code == 403
    assert SC in r.json()["message"]


@pytest.mark.parametrize(
    ("method", "path", "good", "bad"),
    [
        ("post", QUERY, CMSA, CP),
        ("post", f"{DSS}/constraint_references/query", CP, SC),
        ("post", f"{DSS}/subscriptions/query", CP, CM),
        ("get", f"{DSS}/uss_availability/uss-a", CMSA, CP),
    ],
)
def test_each_operation_takes_its_alternatives(
    dss: InProcess, method: str, path: str, good: str, bad: str
) -> None:
    lon, lat = spot()
    kw: dict[str, Any] = {} if method == "get" else {"json": {"area_of_interest": circle(lon, lat)}}
    ok = getattr(dss.client, method)(path, headers=dss.as_("uss-a", good), **kw)
    assert ok.status_code == 200, ok.text
    no = getattr(dss.client, method)(path, headers=dss.as_("uss-a", bad), **kw)
    assert no.status_code == 403, no.text


def test_an_unmapped_uss_is_403_with_the_reason(dss: InProcess) -> None:
    r = _query(dss, dss.as_("uss-stranger", SC))
    assert r.status_code == 403
    assert "dss_managers" in r.json()["message"]
    r = _query(dss, dss.as_("uss-ghost", SC))
    assert r.status_code == 403
    assert "no party" in r.json()["message"]


@pytest.fixture(scope="module")
def jwks_hub(authority: Authority) -> Iterator[InProcess]:
    with data_dir("dss-jwks") as d, in_process(d, authority, jwks=True, dss_max_results=2) as h:
        yield h


def test_a_jwks_file_verifies_by_kid(jwks_hub: InProcess) -> None:
    assert _query(jwks_hub, jwks_hub.as_("uss-a", SC)).status_code == 200
    other = Authority(kid="k1")  # same kid, another key: refused
    assert _query(jwks_hub, _bearer(other.token("uss-a", SC))).status_code == 401


def test_results_are_capped(jwks_hub: InProcess) -> None:
    from uuid import uuid4

    lon, lat = spot()
    for i in range(3):
        body = {
            "extents": [circle(lon + i * 0.05, lat)],
            "state": "Accepted",
            "uss_base_url": "https://uss.test/a",
        }
        r = jwks_hub.client.put(
            f"{DSS}/operational_intent_references/{uuid4()}",
            json=body,
            headers=jwks_hub.as_("uss-a", SC),
        )
        assert r.status_code == 201, r.text
    aoi = circle(lon + 0.05, lat, 20_000)
    r = jwks_hub.client.post(
        QUERY, json={"area_of_interest": aoi}, headers=jwks_hub.as_("uss-a", SC)
    )
    assert len(r.json()["operational_intent_references"]) == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "not a PEM or JWKS"), ("{}", "not a PEM or JWKS"), ("-----BEGIN x-----END", "PEM")],
)
def test_bad_key_files_are_refused_at_start(tmp_path: Path, text: str, reason: str) -> None:
    f = tmp_path / "keys"
    f.write_text(text)
    with pytest.raises(InvalidInput, match=reason):
        KeySet.load(str(f))
    with pytest.raises(InvalidInput, match="cannot read"):
        KeySet.load(str(tmp_path / "missing.pem"))


def test_the_service_publishes_its_openapi_document(dss: InProcess) -> None:
    doc = dss.client.get(f"{DSS}/openapi.json").json()
    assert {
        "/operational_intent_references/query",
        "/operational_intent_references/{entityid}",
        "/operational_intent_references/{entityid}/{ovn}",
        "/constraint_references/query",
        "/constraint_references/{entityid}/{ovn}",
        "/subscriptions/{subscriptionid}/{version}",
        "/uss_availability/{uss_id}",
        "/reports",
    } <= set(doc["paths"])


def test_a_jwks_url_is_fetched(authority: Authority) -> None:
    """Keys from a JWKS URL (a loopback server here), as from an authority's jwks_uri."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from deconfliction.interop._dss_auth import TokenVerifier

    body = json.dumps(authority.jwks()).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
        v = TokenVerifier(KeySet.load(url), AUD)
        claims = v.verify(authority.token("uss-a", SC, CP))
        assert claims.manager == "uss-a"
        assert claims.scopes == frozenset({SC, CP})
        with pytest.raises(DssError) as e:
            v.verify(Authority(kid="other").token("uss-a", SC))
        assert e.value.status == 401
    finally:
        server.shutdown()


@pytest.mark.regression
def test_a_key_file_that_is_not_utf8_is_refused_at_start(tmp_path: Path) -> None:
    """Found while fuzzing (tests/fuzz): UnicodeDecodeError instead of InvalidInput."""
    f = tmp_path / "keys"
    f.write_bytes(b"\xff\xfe-----BEGIN PUBLIC KEY-----")
    with pytest.raises(InvalidInput, match="not UTF-8 text"):
        KeySet.load(str(f))
