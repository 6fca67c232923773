"""End to end on the real server: ``GET /v1/figures`` for two fresh parties."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api._hub import Hub, Party, activity_body, feature, spot

_names = itertools.count()


def _party(hub: Hub, admin: str, name: str) -> Party:
    with hub.client(admin) as c:
        p = c.post("/v1/parties", json={"name": name, "kind": "other"}).json()
        tokens = [
            c.post(f"/v1/parties/{p['id']}/tokens", json={"role": role}).json()["secret"]
            for role in ("operator", "observer")
        ]
    return Party(name, "other", p["id"], tokens[0], tokens[1], hub)


@pytest.fixture(scope="module")
def pair(hub: Hub, admin: str) -> Iterator[tuple[Party, Party]]:
    """Kite gave Lark one notice 2 h ahead (on time, never answered); Lark gave Kite one
    30 min ahead (late: a flight needs 1 h), which Kite acknowledged."""
    n = next(_names)
    kite, lark = _party(hub, admin, f"Kite {n}"), _party(hub, admin, f"Lark {n}")
    s1, s2 = spot(), spot()
    kite.file(activity_body("kite survey", feature(*s1, start=timedelta(hours=3))))
    (to_kite,) = lark.file(
        activity_body("lark flight", feature(*s1, start=timedelta(minutes=30), hours=3))
    )["notices"]
    lark.file(activity_body("lark survey", feature(*s2, start=timedelta(hours=3))))
    (to_lark,) = kite.file(
        activity_body("kite flight", feature(*s2, start=timedelta(hours=2), hours=2))
    )["notices"]
    assert (to_kite["late"], to_lark["late"]) == (True, False)
    assert kite.op.post(f"/v1/notices/{to_kite['id']}/acknowledge").status_code == 200
    yield kite, lark
    kite.close()
    lark.close()


def _row(doc: dict[str, Any], direction: str) -> dict[str, Any]:
    (row,) = [r for r in doc["pairs"] if r["direction"] == direction]
    return row


def test_a_partys_figures_per_counterpart_and_direction(pair: tuple[Party, Party]) -> None:
    kite, lark = pair
    r = kite.op.get("/v1/figures")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["party"] == {"id": kite.id, "name": kite.name}
    assert (doc["since"], doc["until"], doc["all"]) == (None, None, False)
    assert [(p["counterpart"]["name"], p["direction"]) for p in doc["pairs"]] == [
        (lark.name, "sent"),
        (lark.name, "received"),
    ]
    sent = _row(doc, "sent")
    assert (sent["from"]["id"], sent["to"]["id"]) == (kite.id, lark.id)
    assert sent["median_lead_time_s"] == pytest.approx(7200, abs=30)
    assert {k: sent[k] for k in sent if k not in ("from", "to", "counterpart", "direction")} == {
        "notices": 1,
        "answer_expected": 1,
        "median_lead_time_s": sent["median_lead_time_s"],
        "late": 0,
        "late_share": 0.0,
        "insufficient": 0,
        "insufficient_share": 0.0,
        "answered": 0,
        "median_time_to_ack_s": None,
        "unanswered": 1,
        "expired": 0,
        "expired_share": 0.0,
    }
    got = _row(doc, "received")
    assert got["median_lead_time_s"] == pytest.approx(1800, abs=30)
    assert (got["late"], got["late_share"], got["answered"], got["unanswered"]) == (1, 1.0, 1, 0)
    assert 0 <= got["median_time_to_ack_s"] < 30
    # Lark sees the same two pairs from its side
    mirror = lark.obs.get("/v1/figures").json()
    assert _row(mirror, "received") | {"direction": "sent", "counterpart": None} == sent | {
        "counterpart": None
    }


def test_since_until_and_all(pair: tuple[Party, Party], admin: str, hub: Hub) -> None:
    kite, lark = pair
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = kite.op.get("/v1/figures", params={"since": future})
    assert r.status_code == 200, r.text
    assert r.json()["pairs"] == []
    assert r.json()["since"].endswith("Z")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert len(kite.op.get("/v1/figures", params={"since": past}).json()["pairs"]) == 2
    assert kite.op.get("/v1/figures", params={"until": past}).json()["pairs"] == []
    # only an admin may see every pair
    refused = kite.op.get("/v1/figures", params={"all": "true"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    with hub.client(admin) as a:
        every = a.get("/v1/figures", params={"all": "true"}).json()
    assert every["all"] is True
    ours = [p for p in every["pairs"] if {p["from"]["id"], p["to"]["id"]} == {kite.id, lark.id}]
    assert len(ours) == 2
    assert all(p["direction"] is None for p in ours)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-11-25T12:00:00"}, "since"),  # naive: ambiguous
        ({"until": "yesterday"}, "until"),
        ({"since": "2026-11-25T12:00:00Z", "until": "2026-11-25T11:00:00Z"}, "until"),
        ({"all": "maybe"}, "all"),
    ],
)
def test_bad_parameters_are_problems(
    pair: tuple[Party, Party], params: dict[str, str], field: str
) -> None:
    r = pair[0].op.get("/v1/figures", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == field
