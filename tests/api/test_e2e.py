"""End to end against the real server on loopback: filing, notices on the WebSocket, lead
time and the late flag, versions, idempotency, stream resume, need-to-know, restart."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

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

HOURS_3 = 3 * 3600.0


def is_notice_about(activity_id: str) -> Any:
    return lambda e: e["type"] == "notice" and e["data"]["notice"]["activity_id"] == activity_id


def assert_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"].startswith("https://")
    assert body["detail"]
    return body  # type: ignore[no-any-return]


# ------------------------------------------------------------------------- notices


def test_filing_reaches_the_affected_partys_websocket_within_1_s(blue: Party, red: Party) -> None:
    lon, lat = spot()
    b = blue.file(activity_body("Blue patrol", feature(lon, lat), remarks="blue-internal-7731"))
    with blue.stream(since=blue.last_seq()) as s:
        time.sleep(0.1)  # let the server subscribe (a missed event would still be replayed)
        t0 = time.monotonic()
        r = red.file(activity_body("Red strike", feature(lon + 0.02, lat), remarks="red-x-9911"))
        e, _ = s.until(is_notice_about(r["activity"]["id"]), timeout=1.0)
        elapsed = time.monotonic() - t0
    assert elapsed < 1.0
    n = e["data"]["notice"]
    assert n["recipient"] == blue.id
    assert n["reason"] == "new"
    assert n["late"] is False
    assert n["required_lead_time_s"] == 3600.0
    assert HOURS_3 - 120 < n["lead_time_s"] <= HOURS_3
    # the hub timestamps it; its lead time is the start minus that time
    assert e["data"]["activity"]["id"] == r["activity"]["id"]
    assert "remarks" not in e["data"]["activity"]
    assert "red-x-9911" not in json.dumps(e)
    assert [c["other"]["id"] for c in e["data"]["conflicts"]] == [b["activity"]["id"]]
    # the filer's result lists the same notice
    assert [x["id"] for x in r["notices"]] == [n["id"]]
    assert r["late"] is False
    assert len(r["conflicts"]) == 1


def test_a_late_filing_is_accepted_and_flagged_on_the_result_and_the_notice(
    blue: Party, red: Party
) -> None:
    lon, lat = spot()
    blue.file(activity_body("Blue convoy", feature(lon, lat, start=timedelta(minutes=2))))
    with blue.stream(since=blue.last_seq()) as s:
        r = red.file(
            activity_body("Red fire mission", feature(lon, lat, start=timedelta(minutes=1)))
        )
        e, _ = s.until(is_notice_about(r["activity"]["id"]), timeout=1.0)
    assert r["late"] is True
    assert 30 < r["lead_time_s"] <= 60
    assert r["required_lead_time_s"] == 3600.0
    n = e["data"]["notice"]
    assert n["late"] is True
    assert 30 < n["lead_time_s"] <= 60
    assert r["notices"][0]["late"] is True
    # and it is kept: the recipient can read it back
    got = blue.op.get(f"/v1/notices/{n['id']}").json()
    assert got["late"] is True
    assert got["sent_at"] == n["sent_at"]


def test_heartbeats_and_first_message_authentication(hub: Hub, civil: Party) -> None:
    with connect(hub.ws_url + f"?since={civil.last_seq()}", open_timeout=5) as ws:
        ws.send(json.dumps({"token": civil.observer}))
        msg = json.loads(ws.recv(timeout=3.0))  # heartbeat_s = 1 on the test hub
    assert msg["type"] == "heartbeat"
    assert msg["last_seq"] == civil.last_seq()


def test_stream_refuses_a_bad_token(hub: Hub) -> None:
    with (
        pytest.raises(ConnectionClosed) as exc,
        hub.stream("not-a-token") as s,
    ):
        s.next(timeout=3.0)
    assert exc.value.rcvd is not None
    assert exc.value.rcvd.code == 1008


def test_stream_refuses_a_seq_ahead_of_the_party(hub: Hub, civil: Party) -> None:
    with (
        pytest.raises(ConnectionClosed) as exc,
        hub.stream(civil.operator, since=civil.last_seq() + 1000) as s,
    ):
        s.next(timeout=3.0)
    assert exc.value.rcvd is not None
    assert exc.value.rcvd.code == 1008
    assert "ahead" in exc.value.rcvd.reason


# ------------------------------------------------------------------------- versions


def test_amend_needs_the_current_version(blue: Party) -> None:
    lon, lat = spot()
    body = activity_body("Blue recce", feature(lon, lat))
    a = blue.file(body)["activity"]
    url = f"/v1/activities/{a['id']}"
    assert blue.op.get(url).headers["etag"] == '"1"'

    missing = assert_problem(blue.op.put(url, json=body | {"title": "no version"}), 428)
    assert "If-Match" in missing["detail"]

    ok = blue.op.put(url, json=body | {"title": "Blue recce v2"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    assert ok.json()["activity"]["version"] == 2
    assert ok.headers["etag"] == '"2"'

    stale = assert_problem(
        blue.op.put(url, json=body | {"title": "stale"}, headers={"If-Match": '"1"'}), 409
    )
    assert stale["current_version"] == 2
    assert_problem(blue.op.post(url + "/activate", headers={"If-Match": '"1"'}), 409)
    assert_problem(blue.op.post(url + "/activate"), 428)

    now = blue.op.get(url).json()
    assert (now["version"], now["title"], now["state"]) == (2, "Blue recce v2", "notified")

    act = blue.op.post(url + "/activate", headers={"If-Match": 'W/"2"'})
    assert act.status_code == 200, act.text
    assert act.json()["activity"]["state"] == "active"


# ------------------------------------------------------------------------- idempotency


def test_idempotent_retry_returns_the_same_filing_and_no_second_notice(
    blue: Party, red: Party
) -> None:
    lon, lat = spot()
    blue.file(activity_body("Blue picket", feature(lon, lat)))
    body = activity_body("Red sweep", feature(lon, lat), remarks="retry me")
    key = {"Idempotency-Key": f"red-sweep-{lon}-{lat}"}
    before_red = len(red.op.get("/v1/activities", params={"scope": "mine"}).json())
    blue_seq = blue.last_seq()

    first = red.file(body, **key)
    again = red.file(body, **key)
    assert first["replayed"] is False
    assert again["replayed"] is True
    assert again["activity"]["id"] == first["activity"]["id"]
    assert again["activity"]["version"] == first["activity"]["version"]
    assert [n["id"] for n in again["notices"]] == [n["id"] for n in first["notices"]]
    assert [c["id"] for c in again["conflicts"]] == [c["id"] for c in first["conflicts"]]

    other = body | {"title": "Red sweep, changed"}
    p = assert_problem(red.op.post("/v1/activities", json=other, headers=key), 409)
    assert key["Idempotency-Key"] in p["detail"]

    assert len(red.op.get("/v1/activities", params={"scope": "mine"}).json()) == before_red + 1
    notices = [e for e in blue.events(blue_seq) if e["type"] == "notice"]
    assert [e["data"]["notice"]["activity_id"] for e in notices] == [first["activity"]["id"]]
    assert (
        len(blue.op.get("/v1/notices", params={"activity_id": first["activity"]["id"]}).json()) == 1
    )


def test_an_answer_re_sent_with_its_key_gets_the_first_response_not_a_conflict(
    blue: Party, red: Party
) -> None:
    """After a lost response (the hub killed before answering), the same acknowledgement or
    objection re-sent with its Idempotency-Key returns what the first did — one answer on
    the ledger, one event for the owner — while a different answer still gets 409."""
    lon, lat = spot()
    blue.file(activity_body("Blue patrol", feature(lon, lat)))
    filed = red.file(activity_body("Red transit", feature(lon, lat)))
    (to_blue,) = [n for n in filed["notices"] if n["recipient"] == blue.id]
    url = f"/v1/notices/{to_blue['id']}"
    key = {"Idempotency-Key": f"ack-{to_blue['id']}"}
    red_seq = red.last_seq()
    first = blue.op.post(url + "/acknowledge", headers=key)
    again = blue.op.post(url + "/acknowledge", headers=key)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json()["receipt"] == first.json()["receipt"] is not None
    assert again.json()["notice"]["status"] == "acknowledged"
    assert_problem(blue.op.post(url + "/acknowledge"), 409)  # no key: one answer per notice
    p = assert_problem(blue.op.post(url + "/object", json={"reason": "no"}, headers=key), 409)
    assert key["Idempotency-Key"] in p["detail"]  # the key, reused for another request
    told = [e for e in red.events(red_seq) if e["type"] == "notice.acknowledged"]
    assert len(told) == 1


# ------------------------------------------------------------------------- stream resume


def test_stream_resumes_with_exactly_the_missed_events(blue: Party, red: Party) -> None:
    lon, lat = spot()
    blue.file(activity_body("Blue area", feature(lon, lat, half=0.2)))
    with blue.stream(since=0) as s:
        everything = []
        last = blue.last_seq()
        while not everything or everything[-1]["seq"] < last:
            everything.append(s.next(timeout=2.0))
    assert [e["seq"] for e in everything] == list(range(1, last + 1))

    # disconnected: three filings affect Blue
    ids = [
        red.file(activity_body(f"Red {i}", feature(lon + 0.05 * i, lat)))["activity"]["id"]
        for i in range(3)
    ]
    stored = blue.events(last)
    assert len(stored) >= 3

    with blue.stream(since=last) as s:
        got = [s.next(timeout=2.0) for _ in stored]
        assert s.drain(quiet=0.3) == []  # nothing more, nothing twice
        # and it goes live after the replay, with the next seq
        r = red.file(activity_body("Red live", feature(lon, lat)))
        live, _ = s.until(is_notice_about(r["activity"]["id"]), timeout=1.0)
    assert got == stored
    assert [e["seq"] for e in got] == list(range(last + 1, last + 1 + len(stored)))
    assert [e["data"]["notice"]["activity_id"] for e in got if e["type"] == "notice"] == ids
    assert live["seq"] > got[-1]["seq"]
    after = [e["seq"] for e in blue.events(last)]
    assert after == list(range(last + 1, last + 1 + len(after)))  # still gap-free
    assert live["seq"] in after


# ------------------------------------------------------------------------- need-to-know


def test_another_party_sees_an_activity_only_while_it_is_affected(
    blue: Party, red: Party, green: Party
) -> None:
    lon, lat = spot()
    b = blue.file(
        activity_body("Blue secret-ish patrol", feature(lon, lat), remarks="BLUE-REMARK-4410")
    )
    bid = b["activity"]["id"]
    # nobody else sees it yet
    for p in (red, green):
        assert_problem(p.op.get(f"/v1/activities/{bid}"), 404)
        assert bid not in p.op.get("/v1/activities").text
    red_seq = red.last_seq()
    body = activity_body("Red crossing", feature(lon, lat), remarks="RED-REMARK-5520")
    r = red.file(body)
    rid = r["activity"]["id"]

    # while they conflict: each sees the other's activity, without its remarks
    seen_by_red = red.op.get(f"/v1/activities/{bid}")
    assert seen_by_red.status_code == 200
    assert seen_by_red.json()["owner"] == blue.id
    assert seen_by_red.json()["volumes"]["features"]
    assert seen_by_red.json().get("remarks") is None
    seen_by_blue = blue.op.get(f"/v1/activities/{rid}")
    assert seen_by_blue.status_code == 200
    assert seen_by_blue.json().get("remarks") is None
    affecting = blue.op.get("/v1/activities", params={"scope": "affecting"}).json()
    assert rid in [a["id"] for a in affecting]
    assert all(a.get("remarks") is None for a in affecting)
    assert "RED-REMARK-5520" not in blue.op.get("/v1/activities").text
    assert "RED-REMARK-5520" not in json.dumps(blue.events())
    assert "BLUE-REMARK-4410" not in json.dumps(red.events())
    assert "BLUE-REMARK-4410" not in seen_by_red.text
    assert "BLUE-REMARK-4410" not in json.dumps(r)
    # an unaffected party sees neither
    for aid in (bid, rid):
        assert_problem(green.op.get(f"/v1/activities/{aid}"), 404)
    assert rid not in green.op.get("/v1/activities").text
    assert rid not in json.dumps(green.events())
    # the owner sees its own remarks
    assert blue.op.get(f"/v1/activities/{bid}").json()["remarks"] == "BLUE-REMARK-4410"

    # Red moves away: the conflict resolves and the view is withdrawn
    far = spot()
    moved = red.op.put(
        f"/v1/activities/{rid}",
        json=body | {"volumes": activity_body("x", feature(*far))["volumes"]},
        headers={"If-Match": '"1"'},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["conflicts"] == []
    assert_problem(red.op.get(f"/v1/activities/{bid}"), 404)
    assert_problem(blue.op.get(f"/v1/activities/{rid}"), 404)
    assert rid not in [
        a["id"] for a in blue.op.get("/v1/activities", params={"scope": "affecting"}).json()
    ]
    assert "BLUE-REMARK-4410" not in json.dumps(red.events(red_seq))


def test_site_names_stay_with_their_owner_footprint_and_category_reach_the_crosser(
    blue: Party, red: Party, green: Party, civil: Party
) -> None:
    lon, lat = spot()
    name, remarks = "Hopital Sainte-Discrete 3391", "GREEN-SITE-REMARK-3391"
    sr = green.op.post("/v1/sites", json=site_body(name, lon, lat, remarks=remarks))
    assert sr.status_code == 201, sr.text
    sid = sr.json()["site"]["id"]
    assert sr.json()["site"]["name"] == name
    for p in (blue, red, civil):
        assert_problem(p.op.get(f"/v1/sites/{sid}"), 404)

    # a dry run shows the site's footprint and category, not its name
    chk = civil.op.post(
        "/v1/activities/check", json=activity_body("Civil probe", feature(lon, lat))
    )
    assert chk.status_code == 200, chk.text
    assert [s["id"] for s in chk.json()["sites"]] == [sid]
    assert chk.json()["sites"][0]["category"] == "medical"
    assert name not in chk.text
    assert remarks not in chk.text

    seq = blue.last_seq()
    green_seq = green.last_seq()
    f = blue.file(activity_body("Blue crossing the hospital", feature(lon, lat)))
    assert [c["kind"] for c in f["conflicts"]] == ["activity_site"]
    assert f["conflicts"][0]["other"]["id"] == sid
    events = blue.events(seq)
    detected = [e for e in events if e["type"] == "conflict.detected"]
    assert len(detected) == 1
    site = detected[0]["data"]["site"]
    assert site["id"] == sid
    assert site["category"] == "medical"
    assert site["footprint"]["geometry"] == {"type": "Point", "coordinates": [lon, lat]}
    assert site["footprint"]["properties"]["radius_m"] == 500.0
    got = blue.op.get(f"/v1/sites/{sid}")
    assert got.status_code == 200
    assert got.json()["category"] == "medical"
    assert got.json().get("name") is None
    assert sid not in blue.op.get("/v1/sites").text  # "my sites" stays mine
    # the site owner is told about the activity
    told = [e for e in green.events(green_seq) if e["type"] == "notice"]
    assert [e["data"]["notice"]["activity_id"] for e in told] == [f["activity"]["id"]]
    # the name and remarks never leave the owner
    for p in (blue, red, civil):
        everything = json.dumps(p.events()) + p.op.get("/v1/activities").text
        everything += p.op.get("/v1/conflicts").text + p.op.get("/v1/notices").text
        assert name not in everything
        assert remarks not in everything
    assert name not in json.dumps(f)
    assert name not in got.text
    # Red, not involved, still sees nothing
    assert_problem(red.op.get(f"/v1/sites/{sid}"), 404)


def test_moving_away_resolves_the_conflict_and_supersedes_the_old_notice(
    blue: Party, red: Party
) -> None:
    lon, lat = spot()
    blue.file(activity_body("Blue hold", feature(lon, lat)))
    body = activity_body("Red transit", feature(lon, lat))
    r = red.file(body)
    rid = r["activity"]["id"]
    (old_notice,) = r["notices"]
    (conflict,) = r["conflicts"]
    assert old_notice["recipient"] == blue.id
    with blue.stream(since=blue.last_seq()) as s:
        far = feature(*spot())
        amended = red.op.put(
            f"/v1/activities/{rid}",
            json=body | {"volumes": {"type": "FeatureCollection", "features": [far]}},
            headers={"If-Match": '"1"'},
        )
        assert amended.status_code == 200, amended.text
        _, seen = s.until(lambda e: e["type"] == "notice", timeout=1.0)
        seen += s.drain(quiet=0.2)
    types = [e["type"] for e in seen]
    assert "notice.superseded" in types
    assert "conflict.resolved" in types
    sup = next(e for e in seen if e["type"] == "notice.superseded")["data"]["notice"]
    assert sup["id"] == old_notice["id"]
    assert sup["status"] == "superseded"
    new = next(e for e in seen if e["type"] == "notice")["data"]["notice"]
    assert new["reason"] == "no_longer_affected"
    assert new["activity_version"] == 2
    assert new["late"] is False  # a no-longer-affected notice has no lead-time rule

    assert blue.op.get(f"/v1/notices/{old_notice['id']}").json()["status"] == "superseded"
    c = blue.op.get(f"/v1/conflicts/{conflict['id']}").json()
    assert c["status"] == "resolved"
    assert c["resolved_at"] is not None
    assert amended.json()["conflicts"] == []
    open_ids = [x["id"] for x in blue.op.get("/v1/conflicts", params={"open": True}).json()]
    assert conflict["id"] not in open_ids


# ------------------------------------------------------------------------- restart


def _snapshot(p: Party) -> dict[str, Any]:
    return {
        "me": p.op.get("/v1/me").json(),
        "activities": p.op.get("/v1/activities").json(),
        "sites": p.op.get("/v1/sites").json(),
        "conflicts": p.op.get("/v1/conflicts").json(),
        "notices": p.op.get("/v1/notices").json(),
        "events": p.events(),
    }


def test_restart_keeps_objects_notices_seqs_and_rebuilds_the_index() -> None:
    with data_dir("restart") as data:
        _restart(data)


def _restart(data: Path, database_url: str | None = None) -> None:
    """Also run on PostgreSQL (``test_postgres.py``) with its ``database_url``."""
    hub = Hub(data, database_url=database_url)
    admin = bootstrap(data, database_url)
    hub.start()
    try:
        ps = add_parties(hub, admin)
        blue, red, green = ps["Blue"], ps["Red"], ps["Green"]
        spots = [spot() for _ in range(4)]
        olds = [
            blue.file(activity_body(f"Blue {i}", feature(lon, lat), remarks=f"b{i}"))
            for i, (lon, lat) in enumerate(spots)
        ]
        red.file(activity_body("Red on Blue 0", feature(*spots[0])))
        site = green.op.post(
            "/v1/sites", json=site_body("Depot", *spots[1], category="humanitarian")
        )
        assert site.status_code == 201
        ended = olds[3]["activity"]
        assert blue.op.post(
            f"/v1/activities/{ended['id']}/cancel", headers={"If-Match": '"1"'}
        ).is_success
        before = {n: _snapshot(p) for n, p in ps.items()}
        volumes = hub.client().get("/readyz").json()["volumes"]
        for p in ps.values():
            p.close()
        hub.stop()

        hub.start()
        ps = {n: type(p)(p.name, p.kind, p.id, p.operator, p.observer, hub) for n, p in ps.items()}
        blue, red = ps["Blue"], ps["Red"]
        assert hub.client().get("/readyz").json()["volumes"] == volumes
        after = {n: _snapshot(p) for n, p in ps.items()}
        assert after == before

        # the index was rebuilt: a new filing against an old (live) activity is detected,
        # a cancelled one is not, and Blue's seqs continue without a gap
        last = blue.last_seq()
        with blue.stream(since=last) as s:
            r = red.file(activity_body("Red on Blue 2", feature(*spots[2])))
            e, seen = s.until(is_notice_about(r["activity"]["id"]), timeout=1.0)
        assert [c["other"]["id"] for c in r["conflicts"]] == [olds[2]["activity"]["id"]]
        assert seen[0]["seq"] == last + 1
        assert e["data"]["notice"]["recipient"] == blue.id
        r3 = red.file(activity_body("Red on cancelled Blue 3", feature(*spots[3])))
        assert r3["conflicts"] == []
        r1 = red.file(activity_body("Red on Green's depot", feature(*spots[1])))
        assert {c["other"]["id"] for c in r1["conflicts"]} == {
            site.json()["site"]["id"],
            olds[1]["activity"]["id"],
        }
        for p in ps.values():
            p.close()
    finally:
        hub.stop()


def test_the_common_area_of_a_conflict_comes_on_request(blue: Party, red: Party) -> None:
    lon, lat = spot()
    blue.file(activity_body("Blue block", feature(lon, lat)))
    r = red.file(activity_body("Red block", feature(lon + 0.02, lat)))
    (c,) = r["conflicts"]
    assert all(o["intersection"] is None for o in c["overlaps"])  # not computed on filing
    for party in (blue, red):
        plain = party.op.get(f"/v1/conflicts/{c['id']}")
        assert plain.status_code == 200
        shown = party.op.get(f"/v1/conflicts/{c['id']}", params={"geometry": "true"})
        assert shown.status_code == 200, shown.text
        (o,) = shown.json()["overlaps"]
        assert o["horizontal_distance_m"] == 0
        assert o["intersection"]["type"] == "Polygon"
