"""Admission control on the real server: a flood of writes beyond ``max_writes_in_flight``
is shed with 429 + Retry-After (problem details, nothing done), never a 5xx; every write
admitted is whole; a client within its share still gets through; the hub takes writes
again at once when the flood stops."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from deconfliction.api._admission import Admission, admission_key
from tests.api._hub import Hub, activity_body, add_parties, bootstrap, data_dir, feature, spot


def test_the_fair_share_rule() -> None:
    a = Admission(max_in_flight=8)  # room beyond it: a quarter, 2
    assert all(a.enter("flood") for _ in range(8))
    assert not a.enter("flood")  # full, and the flood holds all of it
    assert a.enter("quiet")
    assert a.enter("quiet")  # below its share of 8 among two, and within the room
    assert not a.enter("other")  # never beyond the bound and its room
    for _ in range(8):
        a.leave("flood")
    assert a.in_flight == 2
    assert a.enter("flood")  # below the limit again: admitted
    small = Admission(max_in_flight=2)  # room: at least one
    assert [small.enter(f"c{k}") for k in range(4)] == [True, True, True, False]
    assert a.refused + small.refused == 3


def test_a_track_feed_does_not_take_its_partys_filing_share() -> None:
    def scope(path: str) -> dict[str, object]:
        return {"type": "http", "path": path, "headers": [(b"authorization", b"Bearer t0k")]}

    filing, feed = admission_key(scope("/v1/activities")), admission_key(scope("/v1/tracks"))
    assert filing != feed
    assert admission_key(scope("/v1/activities/x/amend")) == filing  # one party, one share
    a = Admission(max_in_flight=1)
    assert a.enter(feed)  # a big batch being taken
    assert a.enter(filing)  # the same party's filing still gets its place
    assert not a.enter(filing)  # but no more than its share


def test_a_flood_is_shed_with_429_and_the_hub_recovers_at_once() -> None:
    with data_dir("admission") as data:
        admin = bootstrap(data)
        hub = Hub(
            data,
            env={
                "DECONFLICTION_MAX_WRITES_IN_FLIGHT": "2",
                "DECONFLICTION_RATE_LIMIT_PER_S": "10000",
                "DECONFLICTION_RATE_LIMIT_BURST": "10000",
            },
        )
        hub.admin = admin
        hub.start()
        ps = add_parties(hub, admin)
        blue, red = ps["Blue"], ps["Red"]
        try:
            lon, lat = spot()
            go = threading.Barrier(48)

            def file(i: int) -> httpx.Response:
                body = activity_body(f"Flood {i}", feature(lon + (i % 6) * 0.001, lat))
                go.wait(30)
                with hub.client(blue.operator) as c:
                    return c.post("/v1/activities", json=body)

            with ThreadPoolExecutor(48) as pool:
                answers = list(pool.map(file, range(48)))
            codes = [r.status_code for r in answers]
            assert set(codes) <= {201, 429}, codes
            assert codes.count(429) >= 1, "nothing was shed"
            shed = next(r for r in answers if r.status_code == 429)
            assert shed.headers["retry-after"] == "1"
            assert shed.headers["content-type"].startswith("application/problem+json")
            assert "nothing of it was done" in shed.json()["detail"]
            mine = blue.op.get("/v1/activities", params={"scope": "mine"}).json()
            assert len([a for a in mine if a["title"].startswith("Flood ")]) == codes.count(201)
            # at once, with the flood over: writes are taken again
            r = red.op.post("/v1/activities", json=activity_body("After", feature(lon, lat)))
            assert r.status_code == 201, r.text
            ready = httpx.get(hub.url + "/readyz").json()["admission"]
            assert ready["refused"] == codes.count(429)
            assert ready["writes_in_flight"] == 0
        finally:
            for p in ps.values():
                p.close()
            hub.stop()
