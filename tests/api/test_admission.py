"""Admission control on the real server: a flood of writes beyond ``max_writes_in_flight``
is shed with 429 + Retry-After (problem details, nothing done), never a 5xx; every write
admitted is whole; a client within its share still gets through; the hub takes writes
again at once when the flood stops."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from deconfliction.api._admission import Admission
from tests.api._hub import Hub, activity_body, add_parties, bootstrap, data_dir, feature, spot


def test_the_fair_share_rule() -> None:
    a = Admission(max_in_flight=6)
    assert all(a.enter("flood") for _ in range(6))
    assert not a.enter("flood")  # full, and the flood holds all of it
    assert a.enter("quiet")
    assert a.enter("quiet")
    assert a.enter("quiet")  # share of 6 among two: 3 each
    assert not a.enter("quiet")
    for _ in range(6):
        a.leave("flood")
    assert a.in_flight == 3
    assert a.enter("flood")  # below the limit again: admitted
    big = Admission(max_in_flight=2)
    for k in range(4):
        assert big.enter(f"c{k}") == (k < 4)  # one each while under twice the limit
    assert not big.enter("c9")  # never beyond twice the limit
    assert big.refused == 1


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
