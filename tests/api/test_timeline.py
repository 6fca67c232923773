"""End to end on the real server: ``GET /v1/activities/{id}/timeline``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from deconfliction.audit import Receipt
from tests.api._hub import Hub, Party, activity_body, feature, spot
from tests.api.test_lifecycle import hub_key


def _story(blue: Party, red: Party) -> tuple[dict[str, Any], dict[str, Any]]:
    """Red's activity; Blue files over it (late: 10 minutes, policy 1 h), Red reads and
    objects, Blue amends it away. Returns Blue's first filing and Red's notice."""
    lon, lat = spot()
    red.file(activity_body("red patrol", feature(lon, lat)))  # in 3 h, for 1 h
    soon = timedelta(minutes=10)
    filed = blue.file(activity_body("blue sweep", feature(lon, lat, start=soon, hours=4)))
    (notice,) = filed["notices"]
    assert red.op.post(f"/v1/notices/{notice['id']}/read").status_code == 200
    objected = red.op.post(f"/v1/notices/{notice['id']}/object", json={"reason": "too close"})
    assert objected.status_code == 200, objected.text
    far = spot()
    body = activity_body("blue sweep", feature(*far, start=soon, hours=4))
    moved = blue.op.put(
        f"/v1/activities/{filed['activity']['id']}", json=body, headers={"If-Match": '"1"'}
    )
    assert moved.status_code == 200, moved.text
    return filed, notice


def test_the_owner_gets_the_whole_story(hub: Hub, blue: Party, red: Party) -> None:
    filed, notice = _story(blue, red)
    aid = filed["activity"]["id"]
    r = blue.op.get(f"/v1/activities/{aid}/timeline")
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["activity"]["id"] == aid
    assert t["activity"]["version"] == 2
    assert t["owner"] == {"id": blue.id, "name": "Blue"}
    assert [(v["version"], v["change"]) for v in t["versions"]] == [(1, "filed"), (2, "amended")]
    (c,) = t["conflicts"]
    assert (c["other_party"]["name"], c["status"], c["other_type"]) == (
        "Red",
        "resolved",
        "activity",
    )
    assert c["resolved_at"] == t["versions"][1]["at"]
    sent = {(n["recipient_name"], n["activity_version"], n["reason"]) for n in t["notices"]}
    assert sent == {("Red", 1, "new"), ("Red", 2, "no_longer_affected")}
    n = next(x for x in t["notices"] if x["id"] == notice["id"])
    assert n["late"] is True
    assert n["required_lead_time_s"] == 3600.0
    assert 500 < n["lead_time_s"] < 601
    assert n["objection"] == "too close"
    assert n["status"] == "superseded"
    assert n["read_at"] is not None
    assert n["answered_at"] is not None
    assert 0 <= n["time_to_answer_s"] < 30
    assert Receipt.from_json(n["receipt"]).verify(hub_key(hub))
    types = [(e["type"], e["party"]) for e in t["events"]]
    assert types[:3] == [
        ("activity.filed", "Blue"),
        ("conflict.detected", "Red"),
        ("notice.sent", "Red"),
    ]
    for step in ("notice.read", "notice.objected", "activity.amended", "conflict.resolved"):
        assert any(ty == step for ty, _ in types), step
    times = [datetime.fromisoformat(e["time"]) for e in t["events"]]
    assert times == sorted(times)
    late = next(e for e in t["events"] if e["type"] == "notice.sent")
    assert "LATE" in late["details"]
    assert late["ref"] == {"notice": notice["id"], "version": 1}
    # the owner's observers read it too
    assert blue.obs.get(f"/v1/activities/{aid}/timeline").json()["events"] == t["events"]


def test_anyone_else_gets_the_same_404_as_for_the_notice_list(
    blue: Party, red: Party, green: Party, admin: str, hub: Hub
) -> None:
    filed, _ = _story(blue, red)
    aid = filed["activity"]["id"]

    def without_instance(r: Any) -> dict[str, Any]:
        doc: dict[str, Any] = r.json()
        doc.pop("instance")
        return doc

    with hub.client(admin) as a:
        for c in (red.op, red.obs, green.op, a):
            r = c.get(f"/v1/activities/{aid}/timeline")
            assert r.status_code == 404, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            same = c.get(f"/v1/activities/{aid}/notices")
            assert without_instance(r) == without_instance(same)
            assert "blue sweep" not in r.text


def test_bad_ids_are_problems(blue: Party) -> None:
    unknown = uuid4()
    r = blue.op.get(f"/v1/activities/{unknown}/timeline")
    assert r.status_code == 404
    assert r.json()["detail"] == f"activity {unknown} not found"
    r = blue.op.get("/v1/activities/not-a-uuid/timeline")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "activity_id"
