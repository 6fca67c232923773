"""No token, webhook secret or JWT in any log line: ``deconfliction serve --log-level debug``
(the real command, its own logging set-up) through a whole session — the admin creates
parties, tokens and a webhook; parties file crossing activities; a notice is delivered by
webhook and over the stream (token in the first message); refused and revoked tokens; a
token wrongly put in a URL; DSS requests with valid, forged and expired JWTs. Everything
the process writes (standard error and output) is then searched for every secret used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from uuid import uuid4

import httpx
import pytest
from websockets.sync.client import connect

from tests.api._hub import activity_body, bootstrap, data_dir, feature, spot
from tests.interop.dss_support import AUD, ISS, SC, Authority, write_keys


class _Hook(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        self.seen.append(dict(self.headers) | {"path": self.path})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, str]]]]:
    _Hook.seen = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", _Hook.seen
    finally:
        srv.shutdown()
        srv.server_close()


def _serve(data: Path, log: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    out = log.open("wb")
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
            "debug",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=os.environ | env,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("serving on "):
                url = line.split()[2]
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        return proc, url
                except httpx.TransportError:
                    pass
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited: {log.read_text()}")
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the hub did not become ready")


def test_no_secret_reaches_any_log(receiver: tuple[str, list[dict[str, str]]]) -> None:
    hook_base, deliveries = receiver
    with data_dir("nolog") as data:
        admin = bootstrap(data)
        authority = Authority()
        env = {
            "DECONFLICTION_PROGRESS": "false",
            "DECONFLICTION_HEARTBEAT_S": "0.5",
            "DECONFLICTION_WEBHOOK_POLL_S": "0.5",
            "DECONFLICTION_DSS_JWT_KEYS": str(write_keys(data, authority)),
            "DECONFLICTION_DSS_AUDIENCE": AUD,
            "DECONFLICTION_DSS_ISSUER": ISS,
            "DECONFLICTION_DSS_MANAGERS": json.dumps({"uss-a": "Blue"}),
        }
        log = data / "serve.log"
        proc, url = _serve(data, log, env)
        try:
            secrets = _session(url, admin, authority, hook_base, deliveries)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        text = log.read_text(errors="replace")
    # the log is real: debug on, access lines written (without their query strings)
    assert "DEBUG" in text
    assert "GET /v1/me 401" in text
    assert "GET /v1/notices 200" in text
    assert "POST /v1/activities 201" in text
    assert "GET /dss/v1/operational_intent_references/" in text
    leaked = [
        f"{name}: {line[:300]}"
        for name, s in sorted(secrets.items())
        for line in text.splitlines()
        if s in line
    ]
    assert leaked == [], "\n".join(leaked)


def _session(
    url: str, admin: str, authority: Authority, hook_base: str, deliveries: list[dict[str, str]]
) -> dict[str, str]:
    secrets: dict[str, str] = {"admin token": admin}
    adm = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=10)
    ids, ops = {}, {}
    for name in ("Blue", "Red"):
        r = adm.post("/v1/parties", json={"name": name, "kind": "armed_force"})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
        t = adm.post(f"/v1/parties/{ids[name]}/tokens", json={"role": "operator"})
        assert t.status_code == 201, t.text
        secrets[f"{name} token"] = t.json()["secret"]
        ops[name] = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {t.json()['secret']}"}, timeout=10
        )
    hook_key = "receiver-key-" + uuid4().hex
    secrets["webhook URL key"] = hook_key
    w = adm.put(
        f"/v1/parties/{ids['Red']}/webhooks/0", json={"url": f"{hook_base}/hook?key={hook_key}"}
    )
    assert w.is_success, w.text
    secrets["webhook secret"] = w.json()["secret"]

    lon, lat = spot()
    red = ops["Red"].post("/v1/activities", json=activity_body("red", feature(lon, lat)))
    assert red.status_code == 201, red.text
    blue = ops["Blue"].post("/v1/activities", json=activity_body("blue", feature(lon, lat)))
    assert blue.status_code == 201, blue.text
    assert blue.json()["notices"], "the crossing must notify Red"

    # mistakes and refusals
    wrong = "dh_" + uuid4().hex + uuid4().hex[:11]
    secrets["refused token"] = wrong
    assert (
        httpx.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    )
    r = httpx.get(f"{url}/v1/notices", params={"token": secrets["Red token"]})
    assert r.status_code == 401
    assert (
        ops["Red"].get("/v1/notices", params={"since": 0, "token": secrets["Red token"]}).is_success
    )
    spare = adm.post(f"/v1/parties/{ids['Blue']}/tokens", json={"role": "observer"}).json()
    secrets["revoked token"] = spare["secret"]
    assert adm.delete(f"/v1/tokens/{spare['id']}").is_success
    gone = httpx.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {spare['secret']}"})
    assert gone.status_code == 401

    # the stream, authenticated by its first message
    ws_url = url.replace("http://", "ws://") + "/v1/stream?since=0"
    with connect(ws_url) as ws:
        ws.send(json.dumps({"token": secrets["Red token"]}))
        while json.loads(ws.recv(timeout=10))["type"] != "heartbeat":
            pass
    with connect(ws_url) as ws:  # a refused one
        ws.send(json.dumps({"token": wrong + "x"}))
        with pytest.raises(Exception):  # noqa: B017, PT011 -- closed 1008, any client error
            ws.recv(timeout=10)

    # the discovery service: a valid JWT, a forged one, an expired one
    jwt_ok = authority.token("uss-a", SC)
    jwt_forged = Authority().token("uss-a", SC)
    jwt_old = authority.token("uss-a", SC, exp_in=-600)
    path = f"{url}/dss/v1/operational_intent_references/{uuid4()}"
    for name, tok, status in (
        ("JWT", jwt_ok, 404),
        ("forged JWT", jwt_forged, 401),
        ("expired JWT", jwt_old, 401),
    ):
        secrets[name] = tok
        secrets[f"{name} signature"] = tok.rsplit(".", 1)[1]
        r = httpx.get(path, headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == status, (name, r.text)

    # the webhook delivery (its signature is a MAC under the secret: not logged either)
    deadline = time.monotonic() + 30
    while not deliveries and time.monotonic() < deadline:
        time.sleep(0.2)
    assert deliveries, "no webhook delivery"
    secrets["webhook signature"] = deliveries[0]["Deconfliction-Signature"].split("v1=")[1]
    for c in (adm, *ops.values()):
        c.close()
    return secrets
