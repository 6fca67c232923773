"""End to end on the real server: webhooks POST a party's events to a loopback receiver.

The receiver is a tiny ``http.server`` in a thread that answers as each test scripts it
(fail the first two, hang while the hub restarts…) and records every request. Checked: one
successful delivery per event, in seq order, contiguous, retried after failures with
backoff, signed so that the README's receiver snippet verifies it, the notice made
*delivered* via the webhook (ledger and owner told), a restart that resumes from the
stored cursor, level ≥ 1 webhooks that get only escalated notices, and bad input refused
with problem details.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.api._hub import (
    Hub,
    Party,
    activity_body,
    add_parties,
    bootstrap,
    data_dir,
    feature,
    spot,
)

README = Path(__file__).resolve().parents[2] / "README.md"

# -------------------------------------------------------------------------- the receiver


@dataclass
class Received:
    """One request the receiver got, and what it answered."""

    seq: int
    headers: dict[str, str]
    body: bytes
    at: float
    status: int = 0
    """0 while it is being answered."""


Plan = Callable[[int, int], tuple[int, float]]
"""(request number from 0, event seq) → (status to answer, seconds to wait first)."""


class Receiver:
    """A loopback HTTP server recording every POST and answering as ``plan`` says."""

    def __init__(self, plan: Plan | None = None) -> None:
        self.plan: Plan = plan or (lambda i, seq: (200, 0.0))
        self.requests: list[Received] = []
        self.probes: list[Received] = []
        """The hub's heartbeat probes (kept apart from the events)."""
        self.probe_status = 200
        self.lock = threading.Lock()
        rx = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                seq = int(self.headers.get("Deconfliction-Seq", "0"))
                if self.headers.get("Deconfliction-Event") == "heartbeat":
                    probe = Received(seq, dict(self.headers.items()), body, time.monotonic())
                    probe.status = rx.probe_status
                    with rx.lock:
                        rx.probes.append(probe)
                    self.send_response(probe.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with rx.lock:
                    i = len(rx.requests)
                    got = Received(seq, dict(self.headers.items()), body, time.monotonic())
                    rx.requests.append(got)
                status, wait = rx.plan(i, seq)
                time.sleep(wait)
                got.status = status
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the hub went away while we waited
                    got.status = -1

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hotline/hook?tenant=t1"

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.requests)

    def ok_seqs(self) -> list[int]:
        return [r.seq for r in self.snapshot() if 200 <= r.status < 300]

    def wait_ok(self, seq: int, timeout: float = 20.0) -> None:
        """Until ``seq`` was answered 2xx (then a moment more, to catch any extra request)."""
        deadline = time.monotonic() + timeout
        while seq not in self.ok_seqs():
            assert time.monotonic() < deadline, f"seq {seq} never delivered: {self.summary()}"
            time.sleep(0.05)
        time.sleep(0.5)

    def summary(self) -> list[tuple[int, int]]:
        return [(r.seq, r.status) for r in self.snapshot()]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rx = Receiver()
    yield rx
    rx.close()


def readme_receiver() -> dict[str, Any]:
    """The receiver snippet of the README, executed: what a party is told to run."""
    text = README.read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(# A webhook receiver.*?)```", text, flags=re.S)
    ns: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), ns)
    return ns


# -------------------------------------------------------------------------- hubs

FAST = {
    "DECONFLICTION_WEBHOOK_RETRY_BASE_S": "0.3",
    "DECONFLICTION_WEBHOOK_RETRY_MAX_S": "2",
    "DECONFLICTION_WEBHOOK_POLL_S": "0.5",
    "DECONFLICTION_WEBHOOK_TIMEOUT_S": "3",
    "DECONFLICTION_SWEEP_INTERVAL_S": "0.2",
}


@pytest.fixture(scope="module")
def hook_hub() -> Iterator[tuple[Hub, dict[str, Party]]]:
    """A hub that retries webhooks fast (0.3 s, doubling, ≤ 2 s) and gives 2 s to answer a
    hazard notice."""
    with data_dir("webhooks") as data:
        policy = data / "policy.toml"
        policy.write_text("[kinds.hazard]\nack_deadline_min = 0.0334\n")
        h = Hub(data, env=FAST | {"DECONFLICTION_POLICY": str(policy)})
        h.admin = bootstrap(data)
        h.start()
        parties = add_parties(h, h.admin)
        try:
            yield h, parties
        finally:
            for p in parties.values():
                p.close()
            h.stop()


def put_hook(hub: Hub, party: str, url: str, level: int = 0) -> dict[str, Any]:
    with hub.client(hub.admin) as admin:
        r = admin.put(f"/v1/parties/{party}/webhooks/{level}", json={"url": url})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def hooks_of(hub: Hub, party: str) -> list[dict[str, Any]]:
    with hub.client(hub.admin) as admin:
        r = admin.get(f"/v1/parties/{party}/webhooks")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def ledger_bodies(p: Party) -> list[dict[str, Any]]:
    """The entries of ``p``'s ledger view that it sees in full."""
    r = p.op.get("/v1/ledger", params={"limit": 10_000})
    assert r.status_code == 200, r.text
    lines = [json.loads(line) for line in r.text.splitlines()]
    return [line["body"] for line in lines if "body" in line]


# -------------------------------------------------------------------------- delivery


def test_retried_in_order_signed_once_each_and_the_notice_delivered(
    hook_hub: tuple[Hub, dict[str, Party]], receiver: Receiver
) -> None:
    hub, ps = hook_hub
    blue, red = ps["Blue"], ps["Red"]
    receiver.plan = lambda i, seq: (500, 0.0) if i < 2 else (200, 0.0)
    made = put_hook(hub, blue.id, receiver.url)
    secret, start = made["secret"], made["cursor"]
    assert secret.startswith("whsec_")
    assert start == blue.last_seq()
    assert (made["level"], made["backlog"], made["enabled"]) == (0, 0, True)
    listed = hooks_of(hub, blue.id)
    assert secret not in json.dumps(listed)  # shown once
    assert [h["url"] for h in listed] == [receiver.url]

    lon, lat = spot()
    blue.file(activity_body("blue patrol", feature(lon, lat)))
    r = red.file(activity_body("red sortie", feature(lon, lat)))
    (notice,) = r["notices"]
    assert notice["recipient"] == blue.id
    last = blue.last_seq()
    assert last >= start + 2  # Blue's filing, then its notice
    receiver.wait_ok(last)

    got = receiver.snapshot()
    # the first event failed twice (500), then each event was taken exactly once, in order
    assert [(q.seq, q.status) for q in got[:3]] == [(start + 1, 500)] * 2 + [(start + 1, 200)]
    assert receiver.ok_seqs() == list(range(start + 1, last + 1))
    assert [q.seq for q in got] == sorted(q.seq for q in got)  # never a later one first
    assert len(got) == (last - start) + 2
    # backoff: about 0.3 s, then about 0.6 s (±20 %)
    gaps = [b.at - a.at for a, b in itertools.pairwise(got[:3])]
    assert gaps[0] >= 0.3 * 0.8 - 0.05
    assert gaps[1] >= 0.6 * 0.8 - 0.05

    # each POST is signed as the README tells receivers to check, and is the stream's event
    verify = readme_receiver()["verify_signature"]
    stream = {e["seq"]: e for e in blue.events(start)}
    for q in got:
        assert verify(secret.encode(), q.headers["Deconfliction-Signature"], q.body)
        assert not verify(b"whsec_wrong", q.headers["Deconfliction-Signature"], q.body)
        doc = json.loads(q.body)
        assert set(doc) == {"party", "seq", "type", "at", "data"}
        assert doc["party"] == blue.id == q.headers["Deconfliction-Party"]
        assert (str(doc["seq"]), doc["type"]) == (
            q.headers["Deconfliction-Seq"],
            q.headers["Deconfliction-Event"],
        )
        assert q.headers["Content-Type"] == "application/json"
        assert {k: v for k, v in doc.items() if k != "party"} == stream[doc["seq"]]

    # the notice is delivered, via the webhook; Red (its owner) is told; on the ledger
    n = blue.op.get(f"/v1/notices/{notice['id']}").json()
    assert (n["status"], n["delivered_via"]) == ("delivered", "webhook")
    told = [e for e in red.events() if e["type"] == "notice.delivered"]
    assert [e["data"]["notice"]["id"] for e in told][-1:] == [notice["id"]]
    assert told[-1]["data"]["notice"]["delivered_via"] == "webhook"
    (entry,) = [
        b
        for b in ledger_bodies(blue)
        if b["type"] == "notice.delivered" and notice["id"] in b["payload"]["notices"]
    ]
    assert entry["actor"] == {"party": None, "token": None}  # the hub acted
    assert entry["payload"]["via"] == "webhook"
    (state,) = hooks_of(hub, blue.id)
    assert (state["cursor"], state["backlog"], state["last_seq"]) == (last, 0, last)
    assert (state["attempts"], state["last_status"], state["last_error"]) == (0, 200, None)
    assert state["next_attempt_at"] is None
    # the failures are logged with the URL's origin only, never the secret or the query
    log = hub.log()
    assert f"event {start + 1} failed (HTTP 500)" in log
    assert receiver.url.split("/hotline")[0] in log
    assert secret not in log
    assert "tenant=t1" not in log


def test_failures_show_in_the_status_and_nothing_is_skipped(
    hook_hub: tuple[Hub, dict[str, Party]], receiver: Receiver
) -> None:
    hub, ps = hook_hub
    green = ps["Green"]
    failing = threading.Event()
    failing.set()
    receiver.plan = lambda i, seq: (503, 0.0) if failing.is_set() else (200, 0.0)
    start = put_hook(hub, green.id, receiver.url)["cursor"]
    for _ in range(3):
        green.file(activity_body("green convoy", feature(*spot())))
    last = green.last_seq()
    deadline = time.monotonic() + 10
    while (state := hooks_of(hub, green.id)[0])["attempts"] < 3:
        assert time.monotonic() < deadline, state
        time.sleep(0.1)
    assert (state["cursor"], state["backlog"]) == (start, last - start)
    assert (state["last_status"], state["last_error"]) == (503, "HTTP 503")
    assert state["next_attempt_at"] is not None
    assert {q.seq for q in receiver.snapshot()} == {start + 1}  # later events wait
    failing.clear()
    receiver.wait_ok(last)
    assert receiver.ok_seqs() == list(range(start + 1, last + 1))
    assert hooks_of(hub, green.id)[0]["backlog"] == 0


def test_a_restart_resumes_from_the_cursor(receiver: Receiver) -> None:
    """The hub stops while an event is in flight: after the restart that event is sent
    again (the only duplicate) and the rest follow, with no gap."""
    with data_dir("webhooks-restart") as data:
        hub = Hub(data, env=FAST)
        hub.admin = bootstrap(data)
        hub.start()
        try:
            (blue,) = [p for p in add_parties(hub, hub.admin).values() if p.name == "Blue"]
            start = put_hook(hub, blue.id, receiver.url)["cursor"]
            stuck = start + 3
            hang = threading.Event()
            receiver.plan = lambda i, seq: (
                (200, 4.0)
                if seq == stuck and not hang.is_set()
                else (
                    200,
                    0.0,
                )
            )
            for _ in range(6):
                blue.file(activity_body("blue transit", feature(*spot())))
            last = blue.last_seq()
            assert last >= start + 6
            deadline = time.monotonic() + 10
            while stuck not in [q.seq for q in receiver.snapshot()]:
                assert time.monotonic() < deadline, receiver.summary()
                time.sleep(0.05)
            blue.close()
            hub.stop()  # while the POST of `stuck` waits for its answer
            hang.set()
            before = receiver.snapshot()
            assert [q.seq for q in before] == list(range(start + 1, stuck + 1))
            hub.start()
            receiver.wait_ok(last)
            seqs = [q.seq for q in receiver.snapshot()]
            assert sorted(set(seqs)) == list(range(start + 1, last + 1))  # no gap
            assert [s for s in set(seqs) if seqs.count(s) > 1] == [stuck]  # in flight only
            assert seqs.count(stuck) == 2
            assert seqs == sorted(seqs)
            with hub.client(hub.admin) as admin:
                (state,) = admin.get(f"/v1/parties/{blue.id}/webhooks").json()
            assert (state["cursor"], state["backlog"]) == (last, 0)
        finally:
            hub.stop()


def test_a_level_one_webhook_gets_only_escalated_notices(
    hook_hub: tuple[Hub, dict[str, Party]], receiver: Receiver
) -> None:
    hub, ps = hook_hub
    civil, red = ps["Civil"], ps["Red"]
    with hub.client(hub.admin) as admin:
        r = admin.put(
            f"/v1/parties/{civil.id}/escalation",
            json={"levels": [{"name": "watch supervisor", "deadline_min": 0.05}]},
        )
        assert r.status_code == 200, r.text
    desk = Receiver()
    try:
        put_hook(hub, civil.id, desk.url, level=0)
        start = put_hook(hub, civil.id, receiver.url, level=1)["cursor"]
        lon, lat = spot()
        soon = timedelta(minutes=30)
        civil.file(activity_body("calibration flight", feature(lon, lat, start=soon)))
        filed = red.file(activity_body("range", feature(lon, lat, start=soon), kind="hazard"))
        (notice,) = filed["notices"]  # 2 s to answer, then 3 s at the supervisor's level
        deadline = time.monotonic() + 20
        while notice_status(civil, notice["id"]) != "expired":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        last = civil.last_seq()
        desk.wait_ok(last)
        got = [json.loads(q.body) for q in receiver.snapshot() if q.status == 200]
        assert [(e["type"], e["data"]["notice"]["id"]) for e in got] == [
            ("notice.escalated", notice["id"]),
            ("notice.expired", notice["id"]),
        ]
        assert got[0]["data"]["level"] == 1
        assert all(q.headers["Deconfliction-Level"] == "1" for q in receiver.snapshot())
        # the duty desk got everything, the notice itself included (delivered via it)
        assert desk.ok_seqs() == list(range(start + 1, last + 1))
        assert "notice" in [json.loads(q.body)["type"] for q in desk.snapshot()]
        states = {h["level"]: h for h in hooks_of(hub, civil.id)}
        assert states[1]["cursor"] == last  # events not for level 1 are passed over
        assert states[1]["backlog"] == 0
    finally:
        desk.close()


def notice_status(p: Party, notice_id: str) -> str:
    r = p.op.get(f"/v1/notices/{notice_id}")
    assert r.status_code == 200, r.text
    return str(r.json()["status"])


def test_delete_stops_delivery_and_replace_keeps_the_cursor(
    hook_hub: tuple[Hub, dict[str, Party]], receiver: Receiver
) -> None:
    hub, ps = hook_hub
    red = ps["Red"]
    first = put_hook(hub, red.id, receiver.url)
    with hub.client(hub.admin) as admin:
        again = admin.put(f"/v1/parties/{red.id}/webhooks/0", json={"url": receiver.url})
        assert again.status_code == 200, again.text  # replaced, not created
        assert again.json()["secret"] != first["secret"]
        assert again.json()["cursor"] == first["cursor"]
        gone = admin.delete(f"/v1/parties/{red.id}/webhooks/0")
        assert gone.status_code == 200, gone.text
        assert "secret" not in gone.json()
        assert admin.get(f"/v1/parties/{red.id}/webhooks").json() == []
        assert admin.delete(f"/v1/parties/{red.id}/webhooks/0").status_code == 404
    red.file(activity_body("red transit", feature(*spot())))
    time.sleep(1.0)
    assert receiver.snapshot() == []


# -------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("level", "body", "field"),
    [
        (0, {"url": "http://ops.example/hook"}, "url"),
        (0, {"url": "ftp://ops.example/hook"}, "url"),
        (0, {"url": "https://user:pw@ops.example/hook"}, "url"),
        (0, {"url": ""}, "url"),
        (0, {}, "url"),
        (0, {"url": "https://ops.example/h", "secret": "mine"}, "secret"),
        (1, {"url": "https://ops.example/hook"}, "level"),  # Green has no ladder
        (6, {"url": "https://ops.example/hook"}, "level"),
        (-1, {"url": "https://ops.example/hook"}, "level"),
    ],
)
def test_bad_webhooks_are_422_problem_details(
    hub: Hub, admin: str, green: Party, level: int, body: dict[str, Any], field: str
) -> None:
    with hub.client(admin) as c:
        r = c.put(f"/v1/parties/{green.id}/webhooks/{level}", json=body)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["status"] == 422
        assert any(field in e["field"] for e in problem["errors"]), problem
        assert c.get(f"/v1/parties/{green.id}/webhooks").json() == []


def test_an_unknown_party_is_404(hub: Hub, admin: str) -> None:
    nobody = uuid4()
    with hub.client(admin) as c:
        for method in ("PUT", "GET", "DELETE"):
            path = f"/v1/parties/{nobody}/webhooks" + ("" if method == "GET" else "/0")
            kw = {"json": {"url": "https://ops.example/hook"}} if method == "PUT" else {}
            r = c.request(method, path, **kw)
            assert r.status_code == 404, (method, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["status"] == 404


def test_a_webhook_only_party_is_probed_and_its_link_follows_the_answers(
    receiver: Receiver,
) -> None:
    """Green has no client, only a webhook: the hub probes it when idle (signed, seq 0), its
    2xx answers keep Green's link normal; when it stops answering 2xx the link goes down."""
    with data_dir("webhook-probes") as data:
        policy = data / "policy.toml"
        policy.write_text("[links]\ndegraded_after_min = 0.02\ndown_after_min = 0.04\n")
        hub = Hub(data, env=FAST | {"DECONFLICTION_POLICY": str(policy)})  # 1.2 s, 2.4 s
        hub.admin = bootstrap(data)
        hub.start()
        ps = add_parties(hub, hub.admin)
        try:
            green, red = ps["Green"], ps["Red"]

            def link() -> str:
                links = {x["name"]: x["status"] for x in red.op.get("/v1/links").json()}
                return str(links["Green"])

            assert link() == "down"  # never heard from
            secret = put_hook(hub, green.id, receiver.url)["secret"]
            deadline = time.monotonic() + 15
            while link() != "normal":
                assert time.monotonic() < deadline, f"never normal; probes {receiver.probes}"
                time.sleep(0.1)
            time.sleep(3.0)  # longer than the down threshold: the probes keep it up
            assert link() == "normal"
            probes = list(receiver.probes)
            assert len(probes) >= 3
            verify = readme_receiver()["verify_signature"]
            for q in probes:
                assert verify(secret.encode(), q.headers["Deconfliction-Signature"], q.body)
                doc = json.loads(q.body)
                assert (doc["party"], doc["seq"], doc["type"], doc["data"]) == (
                    green.id,
                    0,
                    "heartbeat",
                    {},
                )
            # about one probe per 0.6 s of idleness, not one per worker round
            gaps = [b.at - a.at for a, b in itertools.pairwise(probes)]
            assert min(gaps) >= 0.45, gaps
            assert receiver.ok_seqs() == []  # no event was sent

            receiver.probe_status = 503
            deadline = time.monotonic() + 15
            while link() != "down":
                assert time.monotonic() < deadline, "a failing webhook kept the link up"
                time.sleep(0.1)
            assert "heartbeat probe failed (HTTP 503)" in hub.log()
            receiver.probe_status = 200
            deadline = time.monotonic() + 15
            while link() != "normal":
                assert time.monotonic() < deadline, "the link never came back"
                time.sleep(0.1)
        finally:
            for p in ps.values():
                p.close()
            hub.stop()


def test_the_readme_snippet_refuses_a_forgery() -> None:
    ns = readme_receiver()
    body = b'{"party":"p","seq":1,"type":"notice","at":"2026-12-01T00:00:00Z","data":{}}'
    t = str(int(time.time()))
    good = hmac.new(b"whsec_k", t.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert ns["verify_signature"](b"whsec_k", f"t={t},v1={good}", body)
    assert not ns["verify_signature"](b"whsec_k", f"t={t},v1={good}", body + b" ")
    assert not ns["verify_signature"](b"whsec_k", f"t={int(t) - 3600},v1={good}", body)
    assert not ns["verify_signature"](b"whsec_k", "v1=" + good, body)
    # duplicates (at least once) are acknowledged without being handled twice
    handled: list[int] = []
    ns["process"] = lambda event: handled.append(event["seq"])
    headers = {"Deconfliction-Signature": f"t={t},v1={good}"}
    ns["SECRET"] = b"whsec_k"
    assert ns["handle"](headers, body) == 200
    assert ns["handle"](headers, body) == 200
    assert handled == [1]
    assert ns["handle"]({"Deconfliction-Signature": "t=1,v1=00"}, body) == 401
