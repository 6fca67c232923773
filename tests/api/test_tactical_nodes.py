"""The tactical engine sharded over two real nodes (uvicorn on one PostgreSQL and one
``nats-server -js``): two aircraft converging, one reported to node A and the other to
node B, are judged together — by one node — and the alert is told once to each party; a
node killed (-9) hands its cells to the other once its membership lapses."""

from __future__ import annotations

import time
from typing import Any

import httpx

from deconfliction.detect import ShardGrid, owner
from tests.api._hub import Hub, Party, spot
from tests.api.test_alerts import _post, _track, _wait
from tests.api.test_nodes import LEASE_S, two_nodes
from tests.natsserver import NatsServer

KT = 1852 / 3600
CYCLE_S = 0.5
"""The nodes' tactical cycle here (``tactical_cycle_s``)."""
MEMBERS_S = 1.0
"""How late a node learns of a change of the membership, at most (it reads it every second)."""
FAILOVER_S = LEASE_S + MEMBERS_S + 3 * CYCLE_S + 3.0
"""From a node killed to the survivor telling an alert of the dead node's cells: the dead
node's membership lapses at most ``LEASE_S`` after the kill (it renewed it every third of
that), the survivor learns of it within ``MEMBERS_S`` and takes the cells at its next
cycle, receives the next reports once subscribed and judges them the cycle after; 3 s
more for a loaded 2-core machine and the test's polling (7.5 s in all; seen ~3 s)."""


def _tactical(hub: Hub) -> dict[str, Any]:
    r = httpx.get(hub.url + "/readyz", timeout=5.0)
    assert r.status_code == 200, r.text
    return r.json()["tactical"]  # type: ignore[no-any-return]


def _raised(p: Party, since: int, keys: set[str]) -> list[dict[str, Any]]:
    """``p``'s alert.raised events since ``since`` about the pair of ``keys``."""
    out = []
    for e in p.events(since):
        if e["type"] != "alert.raised":
            continue
        a = e["data"]["alert"]
        if a["kind"] == "proximity" and {t["key"] for t in a["tracks"]} == keys:
            out.append(a)
    return out


def _converge(blue: Party, red: Party, lon: float, lat: float, tag: str) -> set[str]:
    """Blue's aircraft west of (lon, lat) flying east, Red's east of it flying west, 12 km
    apart at one altitude: separation is lost within the look-ahead."""
    kb, kr = f"BLU{tag}", f"RED{tag}"
    _post(blue, _track(kb, lon - 0.08, lat, ground_speed_kt=250, track_deg=90.0))
    _post(red, _track(kr, lon + 0.08, lat, ground_speed_kt=250, track_deg=270.0))
    return {kb, kr}


def test_a_pair_split_between_nodes_is_judged_once_and_a_killed_node_hands_over(
    pg_url: str, nats_server: NatsServer
) -> None:
    env = {"DECONFLICTION_TACTICAL_CYCLE_S": str(CYCLE_S)}
    with two_nodes(pg_url, nats_server.url, env=env) as (a, b, ps):
        blue_a, red_a = ps["Blue"], ps["Red"]
        red_b = red_a.on(b)

        def settled(h: Hub) -> bool:  # both members seen, and no cell kept from before
            t = _tactical(h)
            return len(t["members"]) == 2 and t["cells_watched"] == t["cells_owned"]

        for hub in (a, b):
            _wait("both nodes in the membership", lambda h=hub: settled(h))
        ta, tb = _tactical(a), _tactical(b)
        assert ta["sharded"]
        assert tb["sharded"]
        assert ta["exchange"] == "up"
        assert ta["cells_owned"] + tb["cells_owned"] == ta["cells_total"]  # a partition
        assert 0 < ta["cells_owned"] < ta["cells_total"]

        # Blue reports to node A, Red to node B: neither node received both tracks
        lon, lat = spot()
        since_b, since_r = blue_a.last_seq(), red_a.last_seq()
        keys = _converge(blue_a, red_b, lon, lat, "1")
        for p, since in ((blue_a, since_b), (red_a, since_r)):
            _wait("the proximity alert", lambda p=p, s=since: _raised(p, s, keys))
        time.sleep(3.0)  # six cycles of both nodes: told once, by one node
        (ab,) = _raised(blue_a, since_b, keys)
        (ar,) = _raised(red_a, since_r, keys)
        assert ab["id"] == ar["id"]
        grid = ShardGrid(500.0)
        pair = min(grid.home(lon - 0.08, lat), grid.home(lon + 0.08, lat))  # its cell
        who = owner(pair, ["node-a", "node-b"])
        blue_b = blue_a.on(b)
        for p in (blue_a, red_a, blue_b, red_b):  # every node lists it
            r = p.op.get("/v1/alerts")
            assert r.status_code == 200, r.text
            assert [x["id"] for x in r.json() if x["kind"] == "proximity"] == [ab["id"]]
        blue_b.close()
        counts = _tactical(a if who == "node-a" else b)["exchange_counts"]
        assert counts["received"] >= 2
        assert counts["malformed"] == 0

        # the judging node is killed: once its membership lapses, the other owns every
        # cell and judges the pair (both now report to the survivor)
        killed, alive = (a, b) if who == "node-a" else (b, a)
        blue_s, red_s = blue_a.on(alive), red_a.on(alive)
        since_b = blue_s.last_seq()
        killed.kill()
        t0 = time.monotonic()
        _wait(
            "the survivor owning every cell",
            lambda: _tactical(alive)["cells_owned"] == _tactical(alive)["cells_total"],
            timeout=FAILOVER_S * 2,  # a guard against a hang: the bound is asserted below
        )

        def again() -> list[dict[str, Any]]:
            _converge(blue_s, red_s, lon, lat, "1")
            return _raised(blue_s, since_b, keys)

        (raised,) = _wait("the alert from the survivor", again, timeout=20.0)
        failover_s = time.monotonic() - t0
        assert raised["id"] != ab["id"]  # the dead node's alert is not the survivor's
        # the dead node's alert was cleared by the survivor (orphaned), and is listed no more
        cleared = [
            e["data"]["alert"] for e in blue_s.events(since_b) if e["type"] == "alert.cleared"
        ]
        assert [(x["id"], x.get("orphaned")) for x in cleared] == [(ab["id"], True)]
        r = blue_s.op.get("/v1/alerts")
        assert [x["id"] for x in r.json() if x["kind"] == "proximity"] == [raised["id"]]
        print(f"\nthe survivor told the killed node's pair after {failover_s:.1f} s")
        assert failover_s < FAILOVER_S, f"failover took {failover_s:.1f} s"
        blue_s.close()
        red_s.close()
        red_b.close()
