"""Hardening: headers on every route, CORS closed unless listed, the per-address rate limit,
WebSocket message caps and rates, TLS settings, constant-time secret comparisons."""

from __future__ import annotations

import ast
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

from deconfliction.api import Settings
from deconfliction.web import create_console_app
from tests.api._hub import bootstrap

SRC = Path(__file__).resolve().parents[2] / "src" / "deconfliction"
HARDENING = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    d = tmp_path_factory.mktemp("sec")
    return d, bootstrap(d)


def _client(data: Path, base: str = "http://testserver", **settings: Any) -> TestClient:
    s = Settings(data_dir=data, progress=False, **settings)
    return TestClient(create_console_app(s), base_url=base)


@pytest.fixture(scope="module")
def client(data: tuple[Path, str]) -> Iterator[TestClient]:
    with _client(data[0]) as c:
        yield c


def _concrete(path: str) -> str:
    """A URL for a route path: every parameter a fresh UUID (or a tile's 0)."""
    out = path.replace("{z}", "0").replace("{x}", "0").replace("{y}", "0")
    out = out.replace("{level}", "0").replace("{path:path}", "app.js")
    while "{" in out:
        a, b = out.index("{"), out.index("}")
        out = out[:a] + "00000000-0000-4000-8000-000000000000" + out[b + 1 :]
    return out


def test_every_route_has_the_hardening_headers(client: TestClient, data: tuple[Path, str]) -> None:
    from tests.api.test_access import _walk

    routes = sorted(
        (m, p)
        for m, p in _walk(client.app.routes)
        if m not in {"WS", "MOUNT"}  # type: ignore[attr-defined]
    )
    assert len(routes) > 60
    for auth in (None, data[1]):
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        for method, path in routes:
            r = client.request(method, _concrete(path), headers=headers)
            where = f"{method} {path} -> {r.status_code}"
            assert r.status_code < 500, where
            for name, value in HARDENING.items():
                assert r.headers.get_list(name) == [value], where
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"], where
            assert len(r.headers.get_list("content-security-policy")) == 1, where
            assert "strict-transport-security" not in r.headers, where  # plain HTTP
            if path.startswith("/v1/") and r.headers["content-type"].endswith("json"):
                assert r.headers["cache-control"] == "no-store", where


def test_the_console_keeps_its_strict_policy(client: TestClient) -> None:
    for path in ("/", "/console/config.json", "/static/console.css"):
        r = client.get(path)
        assert r.status_code == 200, path
        (csp,) = r.headers.get_list("content-security-policy")
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers.get_list("x-frame-options") == ["DENY"]
    assert client.get("/").headers["cache-control"] == "no-cache"  # its own, kept


def test_hsts_only_over_tls(data: tuple[Path, str]) -> None:
    with _client(data[0], "https://testserver") as c:
        r = c.get("/healthz")
    assert r.headers["strict-transport-security"].startswith("max-age=")


def test_cors_is_closed_by_default(client: TestClient, data: tuple[Path, str]) -> None:
    evil = {"Origin": "https://evil.example"}
    auth = {"Authorization": f"Bearer {data[1]}"}
    for r in (
        client.get("/healthz", headers=evil),
        client.get("/v1/me", headers=evil | auth),
        client.options(
            "/v1/me",
            headers=evil
            | {
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        ),
    ):
        assert not any(k.lower().startswith("access-control-") for k in r.headers), r.headers


def test_cors_allows_only_listed_origins(data: tuple[Path, str]) -> None:
    ops = "https://ops.example.org"
    pre = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,if-match",
    }
    with _client(data[0], cors_origins=[ops]) as c:
        ok = c.options("/v1/activities", headers={"Origin": ops} | pre)
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == ops
        assert "access-control-allow-credentials" not in ok.headers
        got = c.get("/v1/me", headers={"Origin": ops, "Authorization": f"Bearer {data[1]}"})
        assert got.headers["access-control-allow-origin"] == ops
        assert "etag" in got.headers["access-control-expose-headers"].lower()
        bad = c.options("/v1/activities", headers={"Origin": "https://evil.example"} | pre)
        assert "access-control-allow-origin" not in bad.headers
        assert (
            "access-control-allow-origin"
            not in c.get("/healthz", headers={"Origin": "https://evil.example"}).headers
        )


@pytest.mark.parametrize("origin", ["*", "ops.example.org", "https://ops.example.org/path"])
def test_cors_origins_must_be_origins(origin: str) -> None:
    with pytest.raises(ValidationError, match="cors_origins"):
        Settings(cors_origins=[origin])


def test_tls_files_go_in_pairs(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="both or neither"):
        Settings(tls_cert=tmp_path / "c.pem")
    with pytest.raises(ValidationError, match="both or neither"):
        Settings(tls_key=tmp_path / "k.pem")
    with pytest.raises(ValidationError, match="tls_client_ca needs"):
        Settings(tls_client_ca=tmp_path / "ca.pem")


def test_requests_without_a_valid_token_are_limited_per_address(data: tuple[Path, str]) -> None:
    limits = {"rate_limit_anonymous_per_s": 0.01, "rate_limit_anonymous_burst": 3}
    with _client(data[0], **limits) as c:
        assert [c.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
        r = c.get("/healthz")
        assert r.status_code == 429
        assert r.headers["content-type"] == "application/problem+json"
        assert int(r.headers["retry-after"]) >= 1
        assert r.headers["x-content-type-options"] == "nosniff"
        # a party's own requests are not spent from the address's bucket ...
        assert c.get("/v1/me", headers={"Authorization": f"Bearer {data[1]}"}).status_code == 200
    with _client(data[0], **limits) as c:
        bad = {"Authorization": "Bearer dh_guess"}
        # ... but refused tokens are: guessing is bounded too
        assert [c.get("/v1/me", headers=bad).status_code for _ in range(4)] == [401, 401, 401, 429]


def _read_until(ws: Any, kind: str) -> dict[str, Any]:
    """The stream's next message of type ``kind`` (stored events before it skipped)."""
    while True:
        msg: dict[str, Any] = ws.receive_json()
        if msg.get("type") == kind:
            return msg


def test_stream_messages_are_capped_and_rate_limited(data: tuple[Path, str]) -> None:
    auth = {"Authorization": f"Bearer {data[1]}"}
    with _client(data[0]) as c:
        with c.websocket_connect("/v1/stream", headers=auth) as ws:
            ws.send_text("x" * (64 * 1024 + 1))
            with pytest.raises(WebSocketDisconnect) as exc:
                _read_until(ws, "never")
        assert exc.value.code == 1009
    with _client(data[0], rate_limit_per_s=0.01, rate_limit_burst=2) as c:
        with c.websocket_connect("/v1/stream", headers=auth) as ws:
            for _ in range(3):
                ws.send_text('{"type": "delivered", "seq": 0}')
            answer = _read_until(ws, "error")
        assert "requests/s" in answer["detail"]


def test_track_stream_messages_are_capped(data: tuple[Path, str]) -> None:
    auth = {"Authorization": f"Bearer {data[1]}"}
    with _client(data[0], max_track_body_bytes=2048) as c:
        with c.websocket_connect("/v1/tracks/stream", headers=auth) as ws:
            ws.send_text("[" + " " * 4096 + "]")
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_text()
        assert exc.value.code == 1009


# ------------------------------------------------------------------------- constant time

_SECRET_WORDS = ("secret", "signature", "digest", "mac", "sig", "token", "password")
_NOT_SECRETS = {"token_id", "tokens", "token_source", "sigs", "signatures", "tag"}


# Reviewed: comparisons of values that are public, each with its reason.
_PUBLIC_COMPARISONS = {
    # the ledger's verifier recomputes the hash chain of an exported ledger: every hash and
    # digest in it is public (the holder of the file has them all); nothing to hide by timing
    "audit/_verify.py": {
        "sha256(item.body).digest() != item.digest",
        "entry_hash != sha256(seq.to_bytes(8, 'big') + self._prev + digest).digest()",
    },
    # the token lookup: an indexed equality on the SHA-256 of a 256-bit random secret; its
    # timing can only tell a prefix of the hash of the attacker's own guess
    "store/_statements.py": {"tokens.c.secret_hash == _B('b_hash')"},
}


def _names(node: ast.AST) -> set[str]:
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Attribute):
            out.add(n.attr)
    return out


def _secretish(name: str) -> bool:
    parts = name.lower().split("_")
    return name not in _NOT_SECRETS and any(w in parts for w in _SECRET_WORDS)


def test_no_secret_is_compared_with_equality() -> None:
    """Every ``==``/``!=`` in the package whose operands name a secret, a signature, a MAC
    or a token would leak by timing: such values go through ``hmac.compare_digest``
    (tokens are looked up by their SHA-256, never compared)."""
    found = []
    for f in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(
                isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
            ):
                operands = [node.left, *node.comparators]
                if any(isinstance(o, ast.Constant) for o in operands):
                    continue  # a comparison with a literal (a kind, a scheme) tests no secret
                if any(
                    isinstance(o, ast.Call) and getattr(o.func, "id", "") == "len" for o in operands
                ):
                    continue  # a length is not a secret
                where = str(f.relative_to(SRC))
                if ast.unparse(node) in _PUBLIC_COMPARISONS.get(where, set()):
                    continue
                names = set().union(*(_names(o) for o in operands))
                if any(_secretish(n) for n in names):
                    found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    assert found == [], "\n".join(found)


def test_webhook_signatures_are_checked_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from deconfliction.hotline import _signature

    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(_signature.hmac, "compare_digest", spy)
    header = _signature.sign_webhook("whsec_x", b"{}", timestamp=1000)
    assert _signature.verify_webhook("whsec_x", header, b"{}", now=1000)
    assert not _signature.verify_webhook("whsec_y", header, b"{}", now=1000)
    assert len(calls) == 2


def test_refused_dss_tokens_are_limited_per_address(data: tuple[Path, str], tmp_path: Path) -> None:
    from tests.interop.dss_support import AUD, SC, Authority, write_keys

    keys = write_keys(tmp_path, Authority())
    limits = {"rate_limit_anonymous_per_s": 0.01, "rate_limit_anonymous_burst": 2}
    with _client(data[0], dss_jwt_keys=str(keys), dss_audience=AUD, **limits) as c:
        forged = {"Authorization": f"Bearer {Authority().token('uss-a', SC)}"}
        path = "/dss/v1/operational_intent_references/00000000-0000-4000-8000-000000000000"
        got = [c.get(path, headers=forged) for _ in range(3)]
        assert [r.status_code for r in got] == [401, 401, 429]
        assert int(got[2].headers["retry-after"]) >= 1
        assert got[2].headers["x-frame-options"] == "DENY"  # the hub's headers on /dss/v1 too


def test_websockets_without_a_header_are_limited_per_address(data: tuple[Path, str]) -> None:
    limits = {"rate_limit_anonymous_per_s": 0.01, "rate_limit_anonymous_burst": 2}
    with _client(data[0], heartbeat_s=0.2, **limits) as c:
        for _ in range(2):  # the token as the first message: counted against the address
            with c.websocket_connect("/v1/stream") as ws:
                ws.send_json({"token": data[1]})
                assert _read_until(ws, "heartbeat")["type"] == "heartbeat"
        with pytest.raises(WebSocketDisconnect) as exc, c.websocket_connect("/v1/stream"):
            pass
        assert exc.value.code == 1013
        with c.websocket_connect("/v1/stream", headers={"Authorization": f"Bearer {data[1]}"}):
            pass  # a header-authenticated stream is its party's business
