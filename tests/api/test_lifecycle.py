"""End to end on the real server: a notice's lifecycle and the ledger behind it.

Delivery confirmed on the WebSocket, read, acknowledged or objected (the owner sees each
step on its stream), one answer only, receipts that verify with the hub key, expiry at the
deadline (a second hub with a 2-second answer deadline) and each party's ledger view
verifying offline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from deconfliction.audit import PublicKey, Receipt, verify_bundle
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


def hub_key(hub: Hub) -> PublicKey:
    with hub.client() as c:
        r = c.get("/v1/ledger/key")
    assert r.status_code == 200, r.text
    doc = r.json()
    key = PublicKey.from_text(doc["public_key"])
    assert PublicKey.from_text(doc["pem"]) == key
    assert doc["key_id"] == key.key_id
    return key


def receipt_ok(doc: dict[str, Any] | None, key: PublicKey) -> bool:
    assert doc is not None, "no receipt"
    return Receipt.from_json(doc).verify(key)


def crossing(blue: Party, red: Party, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Blue files; Red files over it: Red's filing result and Blue's notice."""
    lon, lat = spot()
    blue.file(activity_body("blue patrol", feature(lon, lat)))
    r = red.file(activity_body("red sortie", feature(lon, lat), **kw))
    (notice,) = r["notices"]
    return r, notice


def test_filing_and_notice_carry_receipts_that_verify(hub: Hub, blue: Party, red: Party) -> None:
    key = hub_key(hub)
    since = blue.last_seq()
    with blue.stream(since=since) as s:
        r, notice = crossing(blue, red)
        event, _ = s.until(lambda e: e["type"] == "notice", timeout=5)
    assert receipt_ok(r["receipt"], key)
    assert receipt_ok(notice["receipt"], key)
    assert event["data"]["notice"]["receipt"] == notice["receipt"]
    assert notice["receipt"]["seq"] > r["receipt"]["seq"]  # the filing is recorded first
    forged = dict(notice["receipt"], hash="00" * 32)
    assert not receipt_ok(forged, key)
    stored = blue.op.get(f"/v1/notices/{notice['id']}").json()
    assert stored["receipt"] == notice["receipt"]
    assert stored["status"] == "queued"


def test_delivery_read_and_acknowledgement(hub: Hub, blue: Party, red: Party) -> None:
    key = hub_key(hub)
    red_since = red.last_seq()
    with blue.stream(since=blue.last_seq()) as s:
        r, notice = crossing(blue, red)
        event, _ = s.until(lambda e: e["type"] == "notice", timeout=5)
        s.ws.send(json.dumps({"type": "delivered", "seq": event["seq"]}))
        deadline = time.monotonic() + 5
        while blue.op.get(f"/v1/notices/{notice['id']}").json()["status"] != "delivered":
            assert time.monotonic() < deadline, "delivery confirmation not taken"
            time.sleep(0.05)
        s.ws.send(json.dumps({"type": "delivered", "seq": 10**9}))  # ahead: an error, no close
        err = json.loads(s.ws.recv(timeout=5))
        while err.get("type") != "error":
            err = json.loads(s.ws.recv(timeout=5))
        assert "ahead" in err["detail"]
    read = blue.obs.post(f"/v1/notices/{notice['id']}/read")  # an observer may mark read
    assert read.status_code == 200, read.text
    assert read.json()["notice"]["status"] == "read"
    assert receipt_ok(read.json()["receipt"], key)
    ack = blue.op.post(f"/v1/notices/{notice['id']}/acknowledge")
    assert ack.status_code == 200, ack.text
    body = ack.json()
    assert body["notice"]["status"] == "acknowledged"
    assert receipt_ok(body["receipt"], key)
    n = body["notice"]
    assert n["sent_at"] <= n["delivered_at"] <= n["read_at"] <= n["answered_at"]
    again = blue.op.post(f"/v1/notices/{notice['id']}/object", json={"reason": "changed mind"})
    assert again.status_code == 409, again.text
    # the owner saw each step, in order, on its stream
    steps = [
        e["type"]
        for e in red.events(red_since)
        if e["type"].startswith("notice.") and e["data"]["notice"]["id"] == notice["id"]
    ]
    assert steps == ["notice.delivered", "notice.read", "notice.acknowledged"]
    owned = red.op.get(f"/v1/activities/{r['activity']['id']}/notices").json()
    assert [x["status"] for x in owned] == ["acknowledged"]


def test_an_objection_reaches_the_owner_with_its_reason(blue: Party, red: Party) -> None:
    red_since = red.last_seq()
    _, notice = crossing(blue, red)
    bad = blue.op.post(f"/v1/notices/{notice['id']}/object", json={"reason": "  "})
    assert bad.status_code == 422, bad.text
    r = blue.op.post(
        f"/v1/notices/{notice['id']}/object", json={"reason": "our convoy is on that road"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["notice"]["status"] == "objected"
    (objection,) = [e for e in red.events(red_since) if e["type"] == "notice.objected"]
    assert objection["data"]["notice"]["objection"] == "our convoy is on that road"
    assert objection["data"]["receipt"] == r.json()["receipt"]


def test_a_party_ledger_view_verifies_offline_and_hides_others(
    hub: Hub, blue: Party, red: Party, green: Party
) -> None:
    key = hub_key(hub)
    crossing(blue, red)
    for party in (blue, green):
        r = party.op.get("/v1/ledger", params={"limit": 10_000})
        assert r.status_code == 200, r.text
        report = verify_bundle(r.content, key)
        assert report.ok, report.summary()
        assert report.result.redacted > 0
        if party is green:  # concerned by nothing here: sees hashes only, no content
            assert "red sortie" not in r.text
            assert "blue patrol" not in r.text
        else:
            assert "red sortie" in r.text  # the notice entry shows Blue what it was told
    head = int(r.headers["Ledger-Head"])
    tail = green.op.get("/v1/ledger", params={"since": head - 1})
    assert verify_bundle(tail.content, key).ok


# ------------------------------------------------------------------------- deadlines


@pytest.fixture(scope="module")
def quick_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, dict[str, Party]]]:
    """A second hub whose policy gives 2 s to answer (and sweeps every 0.2 s)."""
    with data_dir("quick") as data:
        policy: Path = data / "policy.toml"
        policy.write_text(
            "[defaults]\nack_deadline_min = 0.0334\nack_expected = true\n"
            "[links]\ndegraded_after_min = 0.02\ndown_after_min = 0.04\n"  # 1.2 s, 2.4 s
        )
        h = Hub(
            data,
            env={
                "DECONFLICTION_POLICY": str(policy),
                "DECONFLICTION_SWEEP_INTERVAL_S": "0.2",
            },
        )
        h.admin = bootstrap(data)
        h.start()
        parties = add_parties(h, h.admin)
        try:
            yield h, parties
        finally:
            for p in parties.values():
                p.close()
            h.stop()


def test_an_unanswered_notice_expires_and_the_owner_is_told(
    quick_hub: tuple[Hub, dict[str, Party]],
) -> None:
    hub, ps = quick_hub
    blue, red = ps["Blue"], ps["Red"]
    red_since = red.last_seq()
    lon, lat = spot()
    soon = timedelta(minutes=1)
    blue.file(activity_body("blue patrol", feature(lon, lat, start=soon)))
    r = red.file(activity_body("red sortie", feature(lon, lat, start=soon)))
    (notice,) = r["notices"]
    assert notice["late"] is True
    assert notice["needs_answer"] is True
    deadline = time.monotonic() + 15
    while (n := blue.op.get(f"/v1/notices/{notice['id']}").json())["status"] != "expired":
        assert time.monotonic() < deadline, f"never expired: {n}"
        time.sleep(0.1)
    assert n["expired_at"] >= n["deadline"]
    (told,) = [e for e in red.events(red_since) if e["type"] == "notice.expired"]
    assert told["data"]["message"] == "Blue has not answered"
    # a late answer is still taken and recorded; the expiry stays on the record
    late = blue.op.post(f"/v1/notices/{notice['id']}/acknowledge")
    assert late.status_code == 200, late.text
    assert late.json()["notice"]["status"] == "acknowledged"
    assert late.json()["notice"]["expired_at"] == n["expired_at"]
    assert verify_bundle(blue.op.get("/v1/ledger").content, hub_key(hub)).ok


def test_the_motivating_scenario(quick_hub: tuple[Hub, dict[str, Party]]) -> None:
    """Red files an air operation a minute before it starts, over the area where Blue's slow
    helicopter is: Blue's notice is *late* and *insufficient* (with the numbers), Red is
    told at once, nobody answers, the notice expires and Red is told, the ledger verifies."""
    hub, ps = quick_hub
    blue, red = ps["Civil"], ps["Red"]  # Civil's slow helicopter; Red's strike
    with hub.client(hub.admin) as admin:
        ladder = admin.put(
            f"/v1/parties/{blue.id}/escalation",
            json={"levels": [{"name": "watch supervisor", "deadline_min": 0.05}]},
        )
        assert ladder.status_code == 200, ladder.text
        sup = admin.post(f"/v1/parties/{blue.id}/tokens", json={"role": "operator", "level": 1})
        assert sup.status_code == 201, sup.text
        assert sup.json()["level"] == 1
        too_high = admin.post(f"/v1/parties/{blue.id}/tokens", json={"level": 2})
        assert too_high.status_code == 422, too_high.text
    lon, lat = spot()
    rep = blue.op.post(
        "/v1/assets",
        json={
            "assets": [
                {"ref": "HELO-7", "lon": lon, "lat": lat, "altitude_ft": 1500, "max_speed_kt": 80},
                {"ref": "FAR-AWAY", "lon": lon + 1.5, "lat": lat, "max_speed_kt": 80},
            ]
        },
    )
    assert rep.status_code == 200, rep.text
    helo = next(a for a in rep.json() if a["ref"] == "HELO-7")
    assert helo["max_speed_mps"] == pytest.approx(80 * 1852 / 3600)
    red_since = red.last_seq()
    soon = timedelta(minutes=1)
    r = red.file(
        activity_body(
            "strike package", feature(lon, lat, half=0.1, start=soon), kind="air_operation"
        )
    )
    (notice,) = r["notices"]  # Blue had declared nothing there: its helicopter makes it affected
    assert notice["recipient"] == blue.id
    assert notice["late"] is True
    assert notice["insufficient"] is True
    (need,) = notice["clearance"]  # the far-away asset is not involved
    assert need["asset_id"] == helo["id"]
    # ~11 km to the edge + 9.26 km buffer at 41 m/s: about 8 minutes; about 55 s are left
    assert 15_000 < need["distance_m"] < 25_000
    assert need["required_s"] == pytest.approx(need["distance_m"] / helo["max_speed_mps"], abs=0.1)
    assert need["available_s"] < 60
    assert "INSUFFICIENT NOTICE" in notice["summary"]
    (filed,) = [e for e in red.events(red_since) if e["type"] == "activity.filed"]
    assert filed["data"]["insufficient_notice"][0]["party"] == blue.id
    # unanswered at the deadline: up to Civil's watch supervisor, then (3 s on) expired
    deadline = time.monotonic() + 20
    while (n := blue.op.get(f"/v1/notices/{notice['id']}").json())["status"] != "expired":
        assert time.monotonic() < deadline, n
        time.sleep(0.1)
    assert n["insufficient"] is True
    assert n["level"] == 1
    (step,) = n["escalations"]
    assert step["name"] == "watch supervisor"
    assert step["at"] >= notice["deadline"]
    told = [e for e in red.events(red_since) if e["type"] in ("notice.escalated", "notice.expired")]
    assert [e["type"] for e in told] == ["notice.escalated", "notice.expired"]
    assert (
        told[0]["data"]["message"]
        == "Civil has not acknowledged; escalated to its watch supervisor"
    )
    mine = [e for e in blue.events() if e["type"] == "notice.escalated"]
    assert mine[-1]["data"]["level"] == 1
    # air operations expect acknowledgement here: Red's view lists who has not answered
    view = red.op.get(f"/v1/activities/{r['activity']['id']}").json()
    (waiting,) = view["awaiting_acknowledgement"]
    assert (waiting["party"], waiting["status"], waiting["level"]) == (blue.id, "expired", 1)
    # Red's timeline of the strike tells the whole story, in order
    tl = red.op.get(f"/v1/activities/{r['activity']['id']}/timeline")
    assert tl.status_code == 200, tl.text
    story = tl.json()
    (told,) = story["notices"]
    assert (told["late"], told["insufficient"], told["status"]) == (True, True, "expired")
    assert told["clearance"][0]["asset_id"] == helo["id"]
    kinds = [e["type"] for e in story["events"]]
    for step in ("activity.filed", "notice.sent", "notice.escalated", "notice.expired"):
        assert step in kinds, (step, kinds)
    assert (
        kinds.index("notice.sent") < kinds.index("notice.escalated") < kinds.index("notice.expired")
    )
    assert blue.op.get(f"/v1/activities/{r['activity']['id']}/timeline").status_code == 404
    key = hub_key(hub)
    for party in (blue, red):
        report = verify_bundle(party.op.get("/v1/ledger", params={"limit": 10_000}).content, key)
        assert report.ok, report.summary()


def test_links_down_degraded_and_back(quick_hub: tuple[Hub, dict[str, Party]]) -> None:
    """Green has no client: a filing over it tells Red at once that the notice waits; Green's
    heartbeat brings its link up (Red told), silence takes it down again (Red told)."""
    _, ps = quick_hub
    green, red = ps["Green"], ps["Red"]
    lon, lat = spot()
    green.file(activity_body("green convoy", feature(lon, lat)))
    time.sleep(3.0)  # whatever Green's link was, it is down now
    red_since = red.last_seq()
    r = red.file(activity_body("red sortie", feature(lon, lat)))
    assert r["links"] == {green.id: "down"}
    (filed,) = [e for e in red.events(red_since) if e["type"] == "activity.filed"]
    assert filed["data"]["undeliverable_now"] == [{"party": green.id, "link": "down"}]
    beat = green.obs.post("/v1/heartbeat")
    assert beat.status_code == 200, beat.text
    assert beat.json()["status"] == "normal"
    links = {x["name"]: x["status"] for x in red.op.get("/v1/links").json()}
    assert links["Green"] == "normal"
    deadline = time.monotonic() + 10
    while True:
        seen = [e["data"]["status"] for e in red.events(red_since) if e["type"] == "party.link"]
        if seen[-1:] == ["down"]:
            break
        assert time.monotonic() < deadline, seen
        time.sleep(0.2)
    assert seen[0] == "normal"  # up when it heartbeat, then degraded/down as it fell silent
    assert {red.op.get("/v1/links").json()[0]["status"]} <= {"normal", "degraded", "down"}
