"""Constraint references, subscriptions, USS availability and reports: each operation and
error case of the interface."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

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
    subscription,
    t,
)

CR = f"{DSS}/constraint_references"
SUB = f"{DSS}/subscriptions"


def _constraint(dss: InProcess, lon: float, lat: float, *scopes: str) -> Any:
    body = {"extents": [circle(lon, lat)], "uss_base_url": "https://uss.test/c"}
    return dss.client.put(
        f"{CR}/{uuid4()}", json=body, headers=dss.as_("uss-c", *(scopes or (CM,)))
    )


def _sub(dss: InProcess, uss: str, body: dict[str, Any], *scopes: str, sid: str = "") -> Any:
    return dss.client.put(
        f"{SUB}/{sid or uuid4()}", json=body, headers=dss.as_(uss, *(scopes or (SC, CP)))
    )


# -- constraints --------------------------------------------------------------------------------


def test_constraint_lifecycle(dss: InProcess) -> None:
    lon, lat = spot()
    sid = str(uuid4())
    watch = subscription(circle(lon, lat, 3_000), ops=False, constraints=True)
    assert _sub(dss, "uss-a", watch, CP, sid=sid).status_code == 200
    r = _constraint(dss, lon, lat)
    assert r.status_code == 201, r.text
    ref = r.json()["constraint_reference"]
    assert r.json()["subscribers"][0]["subscriptions"] == [
        {"subscription_id": sid, "notification_index": 1}
    ]
    assert ref["manager"] == "uss-c"
    assert ref["version"] == 1
    seen = dss.client.get(f"{CR}/{ref['id']}", headers=dss.as_("uss-a", CP)).json()
    assert seen["constraint_reference"]["ovn"] == "Available from USS"
    q = dss.client.post(
        f"{CR}/query", json={"area_of_interest": circle(lon, lat)}, headers=dss.as_("uss-a", CP)
    )
    assert [c["id"] for c in q.json()["constraint_references"]] == [ref["id"]]
    body = {"extents": [circle(lon, lat, 800)], "uss_base_url": "https://uss.test/c"}
    h = dss.as_("uss-c", CM)
    assert dss.client.put(f"{CR}/{ref['id']}/{'x' * 16}", json=body, headers=h).status_code == 409
    assert (
        dss.client.put(
            f"{CR}/{ref['id']}/{ref['ovn']}", json=body, headers=dss.as_("uss-a", CM)
        ).status_code
        == 403
    )
    upd = dss.client.put(f"{CR}/{ref['id']}/{ref['ovn']}", json=body, headers=h)
    assert upd.status_code == 200
    new = upd.json()["constraint_reference"]
    assert new["version"] == 2
    d = dss.client.delete(f"{CR}/{ref['id']}/{new['ovn']}", headers=h)
    assert d.status_code == 200
    assert d.json()["subscribers"][0]["subscriptions"][0]["notification_index"] == 3
    assert dss.client.get(f"{CR}/{ref['id']}", headers=h).status_code == 404
    assert dss.client.delete(f"{CR}/{ref['id']}/{new['ovn']}", headers=h).status_code == 404


def _constraint_activities(dss: InProcess, eid: str) -> list[dict[str, Any]]:
    r = dss.client.get("/v1/activities", params={"scope": "mine"}, headers=dss.hotline("Drones C"))
    assert r.status_code == 200, r.text
    return [x for x in r.json() if eid in x["title"]]


def test_each_constraint_is_an_airspace_reservation_of_the_managers_party(
    dss: InProcess,
) -> None:
    """A constraint reaches every party of the hotline: its manager's party holds it as an
    airspace reservation, amended with it and cancelled when it is deleted; a party filing
    over it is told, and an intent in it is too."""
    lon, lat = spot()
    ref = _constraint(dss, lon, lat).json()["constraint_reference"]
    (act,) = _constraint_activities(dss, ref["id"])
    assert act["kind"] == "airspace_reservation"
    assert act["state"] == "notified"
    filed = dss.client.post(
        "/v1/activities",
        json={
            "kind": "flight",
            "title": "Medevac",
            "volumes": {"type": "FeatureCollection", "features": [_feature(lon, lat)]},
        },
        headers=dss.hotline("Drones A"),
    )
    assert filed.status_code == 201, filed.text
    assert [c["other"]["owner"] for c in filed.json()["conflicts"]] == [act["owner"]]
    body = {"extents": [circle(lon + 0.001, lat, 900)], "uss_base_url": "https://uss.test/c"}
    h = dss.as_("uss-c", CM)
    upd = dss.client.put(f"{CR}/{ref['id']}/{ref['ovn']}", json=body, headers=h)
    assert upd.status_code == 200, upd.text
    (moved,) = _constraint_activities(dss, ref["id"])
    assert moved["id"] == act["id"]
    assert moved["version"] == 2
    new = upd.json()["constraint_reference"]
    assert dss.client.delete(f"{CR}/{ref['id']}/{new['ovn']}", headers=h).status_code == 200
    (gone,) = _constraint_activities(dss, ref["id"])
    assert gone["state"] == "cancelled"


def _feature(lon: float, lat: float) -> dict[str, Any]:
    """A GeoJSON volume over the constraint of :func:`_constraint`, for the hotline API."""
    c = circle(lon, lat)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "radius_m": 500.0,
            "altitude_lower_m": 0.0,
            "altitude_upper_m": 100.0,
            "time_start": c["time_start"]["value"],
            "time_end": c["time_end"]["value"],
        },
    }


def test_constraints_need_the_management_scope_to_write(dss: InProcess) -> None:
    lon, lat = spot()
    assert _constraint(dss, lon, lat, CP).status_code == 403
    assert _constraint(dss, lon, lat, SC).status_code == 403


def test_a_constraint_processor_must_hold_constraint_ovns_in_its_key(dss: InProcess) -> None:
    lon, lat = spot()
    c = _constraint(dss, lon, lat).json()["constraint_reference"]
    sub = {
        "new_subscription": {"uss_base_url": "https://uss.test/a", "notify_for_constraints": True}
    }
    body = intent(circle(lon, lat), **sub)
    h = dss.as_("uss-a", SC, CP)
    r = dss.client.put(f"{DSS}/operational_intent_references/{uuid4()}", json=body, headers=h)
    assert r.status_code == 409
    assert [m["id"] for m in r.json()["missing_constraints"]] == [c["id"]]
    body["key"] = [c["ovn"]]  # as the constraint's USS gives it
    r = dss.client.put(f"{DSS}/operational_intent_references/{uuid4()}", json=body, headers=h)
    assert r.status_code == 201, r.text
    # a USS that does not process constraints needs no constraint OVN
    plain = dss.client.put(
        f"{DSS}/operational_intent_references/{uuid4()}",
        json=intent(circle(lon, lat), key=[r.json()["operational_intent_reference"]["ovn"]]),
        headers=dss.as_("uss-b", SC),
    )
    assert plain.status_code == 201, plain.text


# -- subscriptions ------------------------------------------------------------------------------


def test_subscription_lifecycle(dss: InProcess) -> None:
    lon, lat = spot()
    existing = dss.client.put(
        f"{DSS}/operational_intent_references/{uuid4()}",
        json=intent(circle(lon, lat)),
        headers=dss.as_("uss-b", SC),
    ).json()["operational_intent_reference"]
    sid = str(uuid4())
    r = _sub(dss, "uss-a", subscription(circle(lon, lat, 2_000)), sid=sid)
    assert r.status_code == 200, r.text
    s = r.json()["subscription"]
    assert s["id"] == sid
    assert s["version"] == "1"
    assert s["notification_index"] == 0
    assert s["implicit_subscription"] is False
    assert [o["id"] for o in r.json()["operational_intent_references"]] == [existing["id"]]
    assert "constraint_references" not in r.json()
    h = dss.as_("uss-a", SC)
    assert dss.client.get(f"{SUB}/{sid}", headers=h).json()["subscription"] == s
    q = dss.client.post(f"{SUB}/query", json={"area_of_interest": circle(lon, lat)}, headers=h)
    assert [x["id"] for x in q.json()["subscriptions"]] == [sid]
    theirs = dss.as_("uss-b", SC)
    q = dss.client.post(f"{SUB}/query", json={"area_of_interest": circle(lon, lat)}, headers=theirs)
    assert q.json()["subscriptions"] == []  # only the caller's own
    assert dss.client.get(f"{SUB}/{sid}", headers=theirs).status_code == 403
    again = _sub(dss, "uss-a", subscription(circle(lon, lat)), sid=sid)
    assert again.status_code == 409
    upd_body = subscription(circle(lon, lat, 1_000))
    assert dss.client.put(f"{SUB}/{sid}/7", json=upd_body, headers=h).status_code == 409
    assert dss.client.put(f"{SUB}/{sid}/1", json=upd_body, headers=theirs).status_code == 409
    assert dss.client.put(f"{SUB}/{uuid4()}/1", json=upd_body, headers=h).status_code == 404
    upd = dss.client.put(f"{SUB}/{sid}/1", json=upd_body, headers=h)
    assert upd.json()["subscription"]["version"] == "2"
    assert dss.client.delete(f"{SUB}/{sid}/1", headers=h).status_code == 409
    assert dss.client.delete(f"{SUB}/{sid}/2", headers=theirs).status_code == 409
    d = dss.client.delete(f"{SUB}/{sid}/2", headers=h)
    assert d.status_code == 200
    assert d.json()["subscription"]["id"] == sid
    assert dss.client.get(f"{SUB}/{sid}", headers=h).status_code == 404
    assert dss.client.delete(f"{SUB}/{sid}/2", headers=h).status_code == 404


def test_a_subscription_lasts_at_most_a_day(dss: InProcess) -> None:
    lon, lat = spot()
    ext = circle(lon, lat)
    del ext["time_start"], ext["time_end"]
    r = _sub(dss, "uss-a", subscription(ext))
    assert r.status_code == 200, r.text
    s = r.json()["subscription"]
    start = datetime.fromisoformat(s["time_start"]["value"])
    end = datetime.fromisoformat(s["time_end"]["value"])
    assert end - start == timedelta(hours=24)
    assert abs((start - datetime.now(UTC)).total_seconds()) < 60
    long = circle(lon, lat, start=datetime.now(UTC), minutes=24 * 60 + 1)
    r = _sub(dss, "uss-a", subscription(long))
    assert r.status_code == 400
    assert "24 hours" in r.json()["message"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (subscription(circle(0, 0), ops=False), 400),  # asks for nothing
        ({"uss_base_url": "https://u.test", "notify_for_operational_intents": True}, 400),
        (subscription(circle(0, 0, start=datetime(2020, 1, 1, tzinfo=UTC))), 400),
        (subscription(circle(0, 0, 30_000)), 400),  # over the area cap: 400 (no 413 listed)
        (subscription(circle(0, 0), base="not a url"), 400),
    ],
)
def test_bad_subscriptions(dss: InProcess, body: dict[str, Any], status: int) -> None:
    assert _sub(dss, "uss-a", body).status_code == status


def test_subscription_scopes_per_kind_of_notification(dss: InProcess) -> None:
    lon, lat = spot()
    ops = subscription(circle(lon, lat))
    cons = subscription(circle(lon, lat), ops=False, constraints=True)
    assert _sub(dss, "uss-a", ops, CP).status_code == 403
    assert _sub(dss, "uss-a", cons, SC).status_code == 403
    assert _sub(dss, "uss-a", ops, CM).status_code == 403
    assert _sub(dss, "uss-a", cons, CP).status_code == 200
    bad = dss.client.get(f"{SUB}/not-a-uuid", headers=dss.as_("uss-a", SC))
    assert bad.status_code == 400


def test_a_subscription_intents_depend_on_cannot_go(dss: InProcess) -> None:
    lon, lat = spot()
    sid = str(uuid4())
    watch = subscription(circle(lon, lat, 2_000, minutes=120))
    assert _sub(dss, "uss-a", watch, sid=sid).status_code == 200
    r = dss.client.put(
        f"{DSS}/operational_intent_references/{uuid4()}",
        json=intent(circle(lon, lat), state="Activated", subscription_id=sid),
        headers=dss.as_("uss-a", SC),
    )
    assert r.status_code == 201, r.text
    h = dss.as_("uss-a", SC, CP)
    assert dss.client.delete(f"{SUB}/{sid}/1", headers=h).status_code == 400
    cons = subscription(circle(lon, lat), ops=False, constraints=True)
    assert dss.client.put(f"{SUB}/{sid}/1", json=cons, headers=h).status_code == 400
    got = dss.client.get(f"{SUB}/{sid}", headers=h).json()["subscription"]
    assert got["dependent_operational_intents"] == [r.json()["operational_intent_reference"]["id"]]


# -- availability and reports -------------------------------------------------------------------


def test_availability_get_and_set(dss: InProcess) -> None:
    arb = dss.as_("uss-a", AA)
    url = f"{DSS}/uss_availability/uss-unheard-of"
    assert dss.client.get(url, headers=dss.as_("uss-b", SC)).json() == {
        "status": {"uss": "uss-unheard-of", "availability": "Unknown"},
        "version": "",
    }
    assert dss.client.put(url, json={"availability": "Down"}, headers=dss.as_("uss-b", SC)).status_code == 403  # fmt: skip
    r = dss.client.put(url, json={"old_version": "", "availability": "Normal"}, headers=arb)
    assert r.status_code == 200
    assert r.json() == {
        "status": {"uss": "uss-unheard-of", "availability": "Normal"},
        "version": "1",
    }
    stale = dss.client.put(url, json={"old_version": "", "availability": "Down"}, headers=arb)
    assert stale.status_code == 409
    assert dss.client.put(url, json={"old_version": "1", "availability": "Sleepy"}, headers=arb).status_code == 400  # fmt: skip
    assert dss.client.get(url, headers=dss.as_("uss-b", CMSA)).json()["version"] == "1"


def test_reports_are_archived_with_an_id(dss: InProcess) -> None:
    report = {
        "exchange": {
            "url": "https://uss.test/a/uss/v1/operational_intents/x",
            "method": "GET",
            "recorder_role": "Client",
            "request_time": t(datetime.now(UTC)),
            "request_source": "uss-b",
            "problem": "timed out",
        }
    }
    r = dss.client.post(f"{DSS}/reports", json=report, headers=dss.as_("uss-b", CMSA))
    assert r.status_code == 201, r.text
    assert r.json()["exchange"]["problem"] == "timed out"
    assert len(r.json()["report_id"]) == 36
    assert (
        dss.client.post(f"{DSS}/reports", json={}, headers=dss.as_("uss-b", SC)).status_code == 400
    )
    assert dss.client.post(f"{DSS}/reports", json=report, headers=dss.as_("uss-b", "other")).status_code == 403  # fmt: skip
