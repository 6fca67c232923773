"""Operational intent references: each operation and error case of the interface, the
OVN/key rules, availability, and the activity that carries each intent on the hotline."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.api._hub import spot
from tests.interop.dss_support import (
    AA,
    CM,
    CMSA,
    CP,
    DSS,
    SC,
    InProcess,
    circle,
    intent,
    square,
    subscription,
)

OI = f"{DSS}/operational_intent_references"
NEW_SUB = {"new_subscription": {"uss_base_url": "https://uss.test/a"}}


def _create(dss: InProcess, uss: str, body: dict[str, Any], *scopes: str) -> Any:
    return dss.client.put(f"{OI}/{uuid4()}", json=body, headers=dss.as_(uss, *(scopes or (SC,))))


def _ok(r: Any, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, r.text
    ref: dict[str, Any] = r.json()["operational_intent_reference"]
    return ref


def _my_activities(dss: InProcess, party: str) -> list[dict[str, Any]]:
    r = dss.client.get("/v1/activities", params={"scope": "mine"}, headers=dss.hotline(party))
    assert r.status_code == 200, r.text
    return list(r.json())


def test_create_get_and_query(dss: InProcess) -> None:
    lon, lat = spot()
    ref = _ok(_create(dss, "uss-a", intent(circle(lon, lat), **NEW_SUB)))
    assert ref["manager"] == "uss-a"
    assert ref["version"] == 1
    assert ref["state"] == "Accepted"
    assert ref["uss_availability"] == "Unknown"
    assert len(ref["ovn"]) >= 16
    assert ref["time_start"]["format"] == "RFC3339"
    assert ref["time_start"]["value"].endswith("Z")
    mine = dss.client.get(f"{OI}/{ref['id']}", headers=dss.as_("uss-a", SC)).json()
    assert mine["operational_intent_reference"]["ovn"] == ref["ovn"]
    theirs = dss.client.get(f"{OI}/{ref['id']}", headers=dss.as_("uss-b", CMSA)).json()
    assert theirs["operational_intent_reference"]["ovn"] == "Available from USS"
    q = dss.client.post(
        f"{OI}/query",
        json={"area_of_interest": circle(lon + 0.01, lat, 2_000)},
        headers=dss.as_("uss-b", SC),
    )
    assert [r["id"] for r in q.json()["operational_intent_references"]] == [ref["id"]]
    far = dss.client.post(
        f"{OI}/query",
        json={"area_of_interest": circle(lon + 0.5, lat)},
        headers=dss.as_("uss-b", SC),
    )
    assert far.json()["operational_intent_references"] == []


def test_each_intent_is_an_activity_of_the_uss_party(dss: InProcess) -> None:
    lon, lat = spot()
    eid = uuid4()
    r = dss.client.put(f"{OI}/{eid}", json=intent(square(lon, lat)), headers=dss.as_("uss-c", SC))
    ref = _ok(r)
    acts = [a for a in _my_activities(dss, "Drones C") if str(eid) in a["title"]]
    assert len(acts) == 1
    assert acts[0]["kind"] == "uas_operation"
    assert acts[0]["state"] == "notified"
    upd = dss.client.put(
        f"{OI}/{eid}/{ref['ovn']}",
        json=intent(square(lon, lat, 0.02), state="Activated", **NEW_SUB),
        headers=dss.as_("uss-c", SC),
    )
    ref2 = _ok(upd, 200)
    assert ref2["version"] == 2
    assert ref2["ovn"] != ref["ovn"]
    assert ref2["state"] == "Activated"
    act = next(a for a in _my_activities(dss, "Drones C") if str(eid) in a["title"])
    assert act["state"] == "active"
    assert act["version"] == 3
    d = dss.client.delete(f"{OI}/{eid}/{ref2['ovn']}", headers=dss.as_("uss-c", SC))
    assert _ok(d, 200)["id"] == str(eid)
    got = dss.client.get(f"/v1/activities/{act['id']}", headers=dss.hotline("Drones C")).json()
    assert got["state"] == "cancelled"
    assert dss.client.get(f"{OI}/{eid}", headers=dss.as_("uss-c", SC)).status_code == 404


def test_a_key_must_hold_every_other_managers_intent_it_meets(dss: InProcess) -> None:
    lon, lat = spot()
    a = _ok(_create(dss, "uss-a", intent(circle(lon, lat))))
    own = _ok(_create(dss, "uss-b", intent(circle(lon + 0.3, lat))))  # elsewhere
    r = _create(dss, "uss-b", intent(circle(lon + 0.005, lat), base="https://uss.test/b"))
    assert r.status_code == 409, r.text
    body = r.json()
    assert [m["id"] for m in body["missing_operational_intents"]] == [a["id"]]
    assert body["missing_operational_intents"][0]["ovn"] == "Available from USS"
    assert body["missing_constraints"] == []
    assert "key" in body["message"]
    b = _ok(_create(dss, "uss-b", intent(circle(lon + 0.005, lat), key=[a["ovn"], own["ovn"]])))
    # A, changing its own intent, now needs B's OVN (not its own) ...
    upd = dss.client.put(
        f"{OI}/{a['id']}/{a['ovn']}", json=intent(circle(lon, lat)), headers=dss.as_("uss-a", SC)
    )
    assert upd.status_code == 409
    assert [m["id"] for m in upd.json()["missing_operational_intents"]] == [b["id"]]
    ok = dss.client.put(
        f"{OI}/{a['id']}/{a['ovn']}",
        json=intent(circle(lon, lat), key=[b["ovn"]]),
        headers=dss.as_("uss-a", SC),
    )
    assert _ok(ok, 200)["version"] == 2
    # ... and a USS's own other intents need no key: A files again over its own
    _ok(_create(dss, "uss-a", intent(circle(lon - 0.005, lat), key=[b["ovn"]])))


def test_nonconforming_and_contingent_need_no_key(dss: InProcess) -> None:
    lon, lat = spot()
    _ok(_create(dss, "uss-a", intent(circle(lon, lat))))
    for state in ("Nonconforming", "Contingent"):
        _ok(_create(dss, "uss-b", intent(circle(lon, lat), state=state, **NEW_SUB), CMSA))


def test_flying_states_need_a_subscription(dss: InProcess) -> None:
    lon, lat = spot()
    r = _create(dss, "uss-a", intent(circle(lon, lat), state="Activated"))
    assert r.status_code == 400
    assert "subscription" in r.json()["message"]
    ref = _ok(_create(dss, "uss-a", intent(circle(lon, lat), state="Activated", **NEW_SUB)))
    sub = dss.client.get(
        f"{DSS}/subscriptions/{ref['subscription_id']}", headers=dss.as_("uss-a", SC)
    ).json()["subscription"]
    assert sub["implicit_subscription"] is True
    assert sub["dependent_operational_intents"] == [ref["id"]]
    dss.client.delete(f"{OI}/{ref['id']}/{ref['ovn']}", headers=dss.as_("uss-a", SC))
    gone = dss.client.get(
        f"{DSS}/subscriptions/{ref['subscription_id']}", headers=dss.as_("uss-a", SC)
    )
    assert gone.status_code == 404  # the implicit subscription went with its intent


def test_a_named_subscription_must_be_the_uss_own(dss: InProcess) -> None:
    lon, lat = spot()
    sid = str(uuid4())
    r = dss.client.put(
        f"{DSS}/subscriptions/{sid}",
        json=subscription(circle(lon, lat, 5_000, minutes=120)),
        headers=dss.as_("uss-b", SC),
    )
    assert r.status_code == 200, r.text
    r = _create(dss, "uss-a", intent(circle(lon, lat), state="Activated", subscription_id=sid))
    assert r.status_code == 400
    ref = _ok(
        _create(dss, "uss-b", intent(circle(lon, lat), state="Activated", subscription_id=sid))
    )
    assert ref["subscription_id"] == sid


def test_a_named_subscription_must_cover_the_intent(dss: InProcess) -> None:
    """Its area must hold the intent's (to within a metre) and its time span the intent's."""
    lon, lat = spot()
    start = datetime.now(UTC) + timedelta(minutes=10)
    sid = str(uuid4())
    watch = subscription(circle(lon, lat, 1_000, start=start, minutes=60))
    assert (
        dss.client.put(
            f"{DSS}/subscriptions/{sid}", json=watch, headers=dss.as_("uss-b", SC)
        ).status_code
        == 200
    )

    def plan(extent: dict[str, Any]) -> Any:
        body = intent(extent, state="Activated", subscription_id=sid)
        return _create(dss, "uss-b", body)

    wider = plan(circle(lon, lat, 1_100, start=start, minutes=30))
    assert wider.status_code == 400
    assert "does not cover" in wider.json()["message"]
    longer = plan(circle(lon, lat, 500, start=start, minutes=90))
    assert longer.status_code == 400
    beside = plan(circle(lon + 0.03, lat, 500, start=start, minutes=30))
    assert beside.status_code == 400
    assert _ok(plan(circle(lon, lat, 1_000, start=start, minutes=60)))["subscription_id"] == sid


def test_writes_name_the_subscribers_and_raise_their_index(dss: InProcess) -> None:
    lon, lat = spot()
    sid = str(uuid4())
    sub = subscription(circle(lon, lat, 3_000), base="https://uss.test/watcher")
    assert (
        dss.client.put(
            f"{DSS}/subscriptions/{sid}", json=sub, headers=dss.as_("uss-b", SC)
        ).status_code
        == 200
    )
    r = _create(dss, "uss-a", intent(circle(lon, lat)))
    assert r.json()["subscribers"] == [
        {"uss_base_url": "https://uss.test/watcher",
         "subscriptions": [{"subscription_id": sid, "notification_index": 1}]}
    ]  # fmt: skip
    ref = _ok(r)
    d = dss.client.delete(f"{OI}/{ref['id']}/{ref['ovn']}", headers=dss.as_("uss-a", SC))
    assert d.json()["subscribers"][0]["subscriptions"][0]["notification_index"] == 2
    far = _create(dss, "uss-a", intent(circle(lon + 0.5, lat)))
    assert far.json()["subscribers"] == []


def test_changes_of_a_missing_stale_or_foreign_intent(dss: InProcess) -> None:
    lon, lat = spot()
    ref = _ok(_create(dss, "uss-a", intent(circle(lon, lat))))
    url = f"{OI}/{ref['id']}"
    stale = "0" * 20
    h = dss.as_("uss-a", SC)
    assert dss.client.get(f"{OI}/{uuid4()}", headers=h).status_code == 404
    assert dss.client.put(f"{OI}/{uuid4()}/{stale}", json=intent(circle(lon, lat)), headers=h).status_code == 404  # fmt: skip
    assert dss.client.delete(f"{OI}/{uuid4()}/{stale}", headers=h).status_code == 404
    assert dss.client.put(f"{url}/{stale}", json=intent(circle(lon, lat)), headers=h).status_code == 409  # fmt: skip
    assert dss.client.delete(f"{url}/{stale}", headers=h).status_code == 409
    other = dss.as_("uss-b", SC)
    assert dss.client.put(f"{url}/{ref['ovn']}", json=intent(circle(lon, lat)), headers=other).status_code == 403  # fmt: skip
    assert dss.client.delete(f"{url}/{ref['ovn']}", headers=other).status_code == 403
    again = dss.client.put(url, json=intent(circle(lon, lat)), headers=h)
    assert again.status_code == 409
    assert "exists" in again.json()["message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("not-a-uuid", intent(circle(0, 0))),
        ("0b0b0b0b-0b0b-1b0b-8b0b-0b0b0b0b0b0b", intent(circle(0, 0))),  # version 1
        ("{id}", {"state": "Accepted", "uss_base_url": "https://u.test"}),
        ("{id}", intent()),
        ("{id}", intent(circle(0, 0), state="Planned")),
        ("{id}", intent(circle(0, 0), base="https://u.test/")),
        ("{id}", intent(circle(0, 0), base="ftp://u.test")),
        ("{id}", intent(circle(0, 0), key="not a list")),
        ("{id}", intent(circle(0, 0, lo=None))),
        ("{id}", intent(circle(0, 0, minutes=-30))),
        ("{id}", intent(circle(0, 0, start=datetime(2020, 1, 1, tzinfo=UTC)))),
        ("{id}", intent(circle(0, 0), subscription_id="nope")),
        ("{id}", intent(circle(0, 0), requested_ovn_suffix=str(uuid4()))),
    ],
)
def test_malformed_writes_are_400(dss: InProcess, path: str, body: dict[str, Any]) -> None:
    r = dss.client.put(f"{OI}/{path.format(id=uuid4())}", json=body, headers=dss.as_("uss-a", SC))
    assert r.status_code == 400, r.text
    assert r.json()["message"]


def test_a_body_that_is_not_json_is_400(dss: InProcess) -> None:
    h = dss.as_("uss-a", SC) | {"Content-Type": "application/json"}
    r = dss.client.put(f"{OI}/{uuid4()}", content=b"{not json", headers=h)
    assert r.status_code == 400
    assert "malformed" in r.json()["message"]


def test_areas_over_the_cap_are_413(dss: InProcess) -> None:
    lon, lat = spot()
    r = _create(dss, "uss-a", intent(square(lon, lat, 0.5)))  # ~110 km × 80 km
    assert r.status_code == 413
    assert "too large" in r.json()["message"]
    q = dss.client.post(
        f"{OI}/query",
        json={"area_of_interest": circle(lon, lat, 40_000)},
        headers=dss.as_("uss-a", SC),
    )
    assert q.status_code == 413


def test_a_requested_ovn_suffix_sets_the_ovn(dss: InProcess) -> None:
    lon, lat = spot()
    ms = int(time.time() * 1000)
    suffix = str(UUID(int=(ms << 80) | (0x7 << 76) | (0x8 << 60) | 0x1234))
    eid = uuid4()
    r = dss.client.put(
        f"{OI}/{eid}",
        json=intent(circle(lon, lat), requested_ovn_suffix=suffix),
        headers=dss.as_("uss-a", SC),
    )
    assert _ok(r)["ovn"] == f"{eid}_{suffix}"


def test_a_down_uss_may_not_plan_activate_or_delete(dss: InProcess) -> None:
    lon, lat = spot()
    ref = _ok(_create(dss, "uss-c", intent(circle(lon, lat))))
    arb = dss.as_("uss-a", AA)
    av = f"{DSS}/uss_availability/uss-c"
    version = dss.client.get(av, headers=arb).json()["version"]
    down = dss.client.put(av, json={"old_version": version, "availability": "Down"}, headers=arb)
    assert down.status_code == 200, down.text
    try:
        r = _create(dss, "uss-c", intent(circle(lon + 0.1, lat)))
        assert r.status_code == 412
        assert "Down" in r.json()["message"]
        r = dss.client.put(
            f"{OI}/{ref['id']}/{ref['ovn']}",
            json=intent(circle(lon, lat), state="Activated", **NEW_SUB),
            headers=dss.as_("uss-c", SC),
        )
        assert r.status_code == 412
        d = dss.client.delete(f"{OI}/{ref['id']}/{ref['ovn']}", headers=dss.as_("uss-c", SC))
        assert d.status_code == 412
        got = dss.client.get(f"{OI}/{ref['id']}", headers=dss.as_("uss-a", SC)).json()
        assert got["operational_intent_reference"]["uss_availability"] == "Down"
        nc = _create(dss, "uss-c", intent(circle(lon, lat), state="Nonconforming", **NEW_SUB))
        assert nc.status_code == 201, nc.text
        assert not [
            a for a in _my_activities(dss, "Drones C") if a["title"].endswith("c)") and False
        ]
    finally:
        v = down.json()["version"]
        dss.client.put(av, json={"old_version": v, "availability": "Normal"}, headers=arb)
    assert (
        dss.client.delete(
            f"{OI}/{ref['id']}/{ref['ovn']}", headers=dss.as_("uss-c", SC)
        ).status_code
        == 200
    )


def test_the_constraint_processing_scope_is_needed_to_hear_of_constraints(dss: InProcess) -> None:
    lon, lat = spot()
    body = intent(circle(lon, lat), state="Activated",
                  new_subscription={"uss_base_url": "https://uss.test/a",
                                    "notify_for_constraints": True})  # fmt: skip
    assert _create(dss, "uss-a", body, SC).status_code == 403
    assert _create(dss, "uss-a", body, SC, CP).status_code == 201


@pytest.mark.regression
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{DSS}/operational_intent_references/a%0Ab"),
        ("DELETE", f"{DSS}/constraint_references/{UUID(int=9)}/ovn%0Aovn%0Aovn%0Aovn"),
        ("PUT", f"{DSS}/subscriptions/{UUID(int=9)}/%0A"),
    ],
)
def test_a_line_break_in_a_path_is_answered_by_the_dss(
    dss: InProcess, method: str, path: str
) -> None:
    """Found by fuzzing (tests/fuzz): Starlette's mount pattern stopped at a line break,
    so these fell through to the hub's 404 (problem+json), not an F3548 answer."""
    r = dss.client.request(method, path, headers=dss.as_("uss-a", SC, CM), json={})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json()["message"]
