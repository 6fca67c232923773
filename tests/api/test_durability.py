"""``kill -9`` the hub between a filing and its delivery, and in a burst of filings.

What the client saw acknowledged is there after the restart; the notice is delivered once
the recipient's client (reconnecting with ``since=SEQ``) confirms it; every missed event
comes exactly once, in order; the ledger verifies and has no gap.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from deconfliction.audit import PublicKey, verify_bundle
from deconfliction.cli import main
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


def _ledger_ok(hub: Hub, party: Party) -> int:
    key = PublicKey.from_text(hub.client().get("/v1/ledger/key").json()["public_key"])
    r = party.op.get("/v1/ledger", params={"limit": 10_000})
    report = verify_bundle(r.content, key)
    assert report.ok, report.summary()
    return int(r.headers["Ledger-Head"])


def _reconnect(party: Party, hub: Hub) -> Party:
    return type(party)(party.name, party.kind, party.id, party.operator, party.observer, hub)


def test_kill_between_filing_and_delivery_then_deliver_once() -> None:
    with data_dir("kill-delivery") as data:
        hub = Hub(data)
        admin = bootstrap(data)
        hub.start()
        try:
            ps = add_parties(hub, admin)
            blue, red = ps["Blue"], ps["Red"]
            lon, lat = spot()
            blue.file(activity_body("blue patrol", feature(lon, lat)))
            seen = blue.last_seq()
            r = red.file(activity_body("red sortie", feature(lon, lat)))  # acknowledged: 201
            (notice,) = r["notices"]
            hub.kill()  # before Blue's client confirmed anything
            hub.start()
            blue, red = _reconnect(blue, hub), _reconnect(red, hub)
            assert blue.op.get(f"/v1/notices/{notice['id']}").json()["status"] == "queued"
            with blue.stream(since=seen) as s:
                events = s.drain(quiet=0.5)
                assert [e["seq"] for e in events] == list(range(seen + 1, seen + 1 + len(events)))
                mine = [e for e in events if e["type"] == "notice"]
                assert [e["data"]["notice"]["id"] for e in mine] == [notice["id"]]  # once
                s.ws.send(json.dumps({"type": "delivered", "seq": events[-1]["seq"]}))
                s.ws.send(json.dumps({"type": "delivered", "seq": events[-1]["seq"]}))  # again
                deadline = time.monotonic() + 5
                while (n := blue.op.get(f"/v1/notices/{notice['id']}").json())[
                    "status"
                ] == "queued":
                    assert time.monotonic() < deadline, n
                    time.sleep(0.05)
            assert n["status"] == "delivered"
            time.sleep(0.3)  # the second confirmation is taken (and changes nothing)
            told = [e for e in red.events() if e["type"] == "notice.delivered"]
            assert [e["data"]["notice"]["id"] for e in told] == [notice["id"]]  # told once
            _ledger_ok(hub, blue)
            for p in (blue, red, *ps.values()):
                p.close()
        finally:
            hub.stop()


def test_kill_in_a_burst_of_filings_loses_nothing_acknowledged() -> None:
    with data_dir("kill-burst") as data:
        hub = Hub(data)
        admin = bootstrap(data)
        hub.start()
        try:
            ps = add_parties(hub, admin)
            blue, red = ps["Blue"], ps["Red"]
            lon, lat = spot()
            blue.file(activity_body("blue area", feature(lon, lat, half=0.5)))
            acknowledged: list[dict[str, Any]] = []
            stop = threading.Event()

            def burst() -> None:
                with httpx.Client(base_url=hub.url, timeout=5.0) as c:
                    c.headers["Authorization"] = f"Bearer {red.operator}"
                    i = 0
                    while not stop.is_set():
                        body = activity_body(f"red {i}", feature(lon, lat, half=0.01))
                        try:
                            r = c.post("/v1/activities", json=body)
                        except httpx.HTTPError:
                            return  # the hub died under us: that filing is unknown
                        if r.status_code == 201:
                            acknowledged.append(r.json())
                        i += 1

            t = threading.Thread(target=burst)
            t.start()
            time.sleep(1.5)
            hub.kill()
            stop.set()
            t.join(timeout=15)
            assert len(acknowledged) >= 3, "the burst did not get going"
            hub.start()
            blue, red = _reconnect(blue, hub), _reconnect(red, hub)
            for f in acknowledged:  # every acknowledged filing and its notice survived
                a = red.op.get(f"/v1/activities/{f['activity']['id']}")
                assert a.status_code == 200, a.text
                (n,) = f["notices"]
                assert blue.op.get(f"/v1/notices/{n['id']}").status_code == 200
            events = blue.events(0)
            assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
            notices = [e["data"]["notice"]["id"] for e in events if e["type"] == "notice"]
            assert len(notices) == len(set(notices))  # none twice
            assert {n["id"] for f in acknowledged for n in f["notices"]} <= set(notices)
            head = _ledger_ok(hub, blue)
            assert head == _ledger_ok(hub, red)
            for p in (blue, red, *ps.values()):
                p.close()
        finally:
            hub.stop()
        # offline, on the database itself: the whole chain and every signature
        assert main(["ledger", "verify", "--data-dir", str(data), "--quiet"]) == 0
