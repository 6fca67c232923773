"""``notices``, ``stream`` and ``whoami`` against a real hub."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from deconfliction.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "demo"


def test_whoami(as_party: Any, hub: Any) -> None:
    r = as_party("Green", "whoami", "--json")
    assert r.code == 0
    assert r.json()["party"]["id"] == hub.parties["Green"]
    assert r.json()["role"] == "operator"


def test_stream_receives_a_notice_live(hub: Any, as_party: Any, capsys: Any) -> None:
    since = max([e["seq"] for e in hub.http(hub.tokens["Green"]).get("/v1/events").json()] or [0])
    result: dict[str, int] = {}

    def listen() -> None:
        result["code"] = main(
            [
                "stream",
                "--since",
                str(since),
                "--count",
                "2",
                "--json",
                "--url",
                hub.url,
                "--token",
                hub.tokens["Green"],
            ]
        )

    t = threading.Thread(target=listen)
    t.start()
    time.sleep(0.5)
    with hub.http(hub.tokens["Green"]) as g:
        site = json.loads((EXAMPLES / "green-hospital.json").read_text())
        site["name"] = "Stream test hospital"
        site["footprint"]["geometry"]["coordinates"] = [-1.0, 47.0]
        site["valid_from"], site["valid_to"] = "2026-01-01T00:00:00Z", "2036-01-01T00:00:00Z"
        assert g.post("/v1/sites", json=site).status_code == 201
    vol = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-1.0, 47.0]},
        "properties": {
            "radius_m": 1000,
            "altitude_lower_m": 0,
            "altitude_upper_m": 500,
            "time_start": "2026-12-20T10:00:00Z",
            "time_end": "2026-12-20T11:00:00Z",
        },
    }
    with hub.http(hub.tokens["Blue"]) as b:
        r = b.post(
            "/v1/activities",
            json={
                "kind": "flight",
                "title": "Over the stream test hospital",
                "volumes": {"type": "FeatureCollection", "features": [vol]},
            },
        )
        assert r.status_code == 201, r.text
    t.join(timeout=30)
    assert not t.is_alive()
    assert result["code"] == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [e["type"] for e in lines] == ["site.registered", "notice"]
    assert lines[1]["data"]["notice"]["reason"] == "new"
    assert lines[1]["seq"] == lines[0]["seq"] + 1
    # the CLI showed it, so it confirmed receipt: the hub stamps the notice delivered
    nid = lines[1]["data"]["notice"]["id"]
    deadline = time.monotonic() + 10
    with hub.http(hub.tokens["Green"]) as g:
        while (n := g.get(f"/v1/notices/{nid}").json())["status"] != "delivered":
            assert time.monotonic() < deadline, n
            time.sleep(0.05)
    assert n["delivered_at"] is not None


def test_stream_refused_and_unreachable(hub: Any, cli: Any) -> None:
    r = cli("stream", "--url", hub.url, "--token", "dh_nope")
    assert r.code == 1
    assert r.err.startswith("deconfliction: error: 401 Unauthorized")
    r = cli("stream", "--url", "http://127.0.0.1:9", "--token", "x")
    assert (r.code, r.err) == (
        3,
        "deconfliction: error: cannot reach http://127.0.0.1:9: connection refused\n",
    )


def test_notices_table(as_party: Any) -> None:
    r = as_party("Red", "notices")
    assert r.code == 0
    assert r.out.splitlines()[0].split() == [
        "ID",
        "SENT",
        "REASON",
        "LEAD",
        "TIME",
        "REQUIRED",
        "LATE",
        "STATUS",
        "SUMMARY",
    ]


def test_notice_read_acknowledge_and_object(hub: Any, as_party: Any) -> None:
    """Blue files twice over Red's; Red reads and acknowledges one, objects to the other."""
    vol = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-3.0, 44.0]},
        "properties": {
            "radius_m": 2000,
            "altitude_lower_m": 0,
            "altitude_upper_m": 1000,
            "time_start": "2026-12-21T10:00:00Z",
            "time_end": "2026-12-21T11:00:00Z",
        },
    }
    body = {
        "kind": "flight",
        "title": "t",
        "volumes": {"type": "FeatureCollection", "features": [vol]},
    }
    with hub.http(hub.tokens["Red"]) as red:
        assert red.post("/v1/activities", json=body | {"title": "red base"}).status_code == 201
    ids = []
    with hub.http(hub.tokens["Blue"]) as blue:
        for title in ("blue one", "blue two"):
            r = blue.post("/v1/activities", json=body | {"title": title})
            assert r.status_code == 201, r.text
            ids += [n["id"] for n in r.json()["notices"] if n["recipient"] == hub.parties["Red"]]
    first, second = ids
    r = as_party("Red", "notice", "read", first)
    assert r.code == 0, r.err
    assert r.out.startswith(f"notice {first}: read at ")
    assert "ledger receipt: seq " in r.out
    r = as_party("Red", "notice", "acknowledge", first)
    assert (r.code, r.out.split(":")[1].split()[0]) == (0, "acknowledged")
    r = as_party("Red", "notice", "object", second, "--reason", "our tanker is there", "--json")
    assert r.code == 0, r.err
    assert r.json()["notice"]["objection"] == "our tanker is there"
    again = as_party("Red", "notice", "acknowledge", second)
    assert again.code == 1
    assert again.err.startswith("deconfliction: error: 409")
    assert as_party("Red", "notice", "object", first).code == 2  # --reason is required
