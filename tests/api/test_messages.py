"""Hotline messages on the real server: threads per activity and per conflict, templates,
the notice lifecycle (delivery, answer, escalation deadline), and who may write."""

from __future__ import annotations

from datetime import datetime

from tests.api._hub import Party, activity_body, feature, spot


def _crossing(blue: Party, red: Party) -> tuple[dict, dict]:
    lon, lat = spot()
    mine = blue.file(activity_body("blue patrol", feature(lon, lat)))["activity"]
    theirs = red.file(activity_body("red sortie", feature(lon, lat)))
    return mine, theirs


def test_a_thread_on_an_activity_answered_like_a_notice(
    blue: Party, red: Party, green: Party
) -> None:
    mine, theirs = _crossing(blue, red)
    red_since, blue_since = red.last_seq(), blue.last_seq()
    r = red.op.post(
        f"/v1/activities/{mine['id']}/messages",
        json={"template": "request_delay", "text": "can you start 30 minutes later?"},
    )
    assert r.status_code == 201, r.text
    m = r.json()
    assert (m["recipient"], m["owner"], m["reason"]) == (blue.id, red.id, "message")
    assert m["template"] == "request_delay"
    assert "30 minutes later" in m["summary"]
    assert m["receipt"]["seq"] > 0
    (ev,) = [e for e in blue.events(blue_since) if e["type"] == "message"]
    assert ev["data"]["notice"]["id"] == m["id"]
    assert ev["data"]["urgent"] is False
    ack = blue.op.post(f"/v1/notices/{m['id']}/acknowledge")
    assert ack.status_code == 200, ack.text
    assert [e["type"] for e in red.events(red_since) if e["type"].startswith("notice.")] == [
        "notice.acknowledged"
    ]
    for party in (blue, red):
        (got,) = party.op.get(f"/v1/activities/{mine['id']}/messages").json()
        assert got["status"] == "acknowledged"
    assert green.op.get(f"/v1/activities/{mine['id']}/messages").status_code == 404
    nosy = green.op.post(f"/v1/activities/{mine['id']}/messages", json={"text": "hello"})
    assert nosy.status_code == 404
    # the owner may write back; the thread then has both, oldest first
    back = blue.op.post(
        f"/v1/activities/{mine['id']}/messages",
        json={"template": "confirm_clear", "to": red.id},
    )
    assert back.status_code == 201, back.text
    thread = red.op.get(f"/v1/activities/{mine['id']}/messages").json()
    assert [x["template"] for x in thread] == ["request_delay", "confirm_clear"]
    del theirs


def test_cease_harm_on_a_conflict_is_urgent_with_a_short_deadline(blue: Party, red: Party) -> None:
    _, theirs = _crossing(blue, red)
    (conflict,) = theirs["conflicts"]
    since = red.last_seq()
    r = blue.op.post(
        f"/v1/conflicts/{conflict['id']}/messages",
        json={"template": "cease_harm", "text": "our field hospital is being hit"},
    )
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["recipient"] == red.id
    sent, deadline = (datetime.fromisoformat(m[k]) for k in ("sent_at", "deadline"))
    assert (deadline - sent).total_seconds() == 120.0
    assert m["needs_answer"] is True
    assert "URGENT" in m["summary"]
    (ev,) = [e for e in red.events(since) if e["type"] == "message"]
    assert ev["data"]["urgent"] is True
    assert red.op.get(f"/v1/conflicts/{conflict['id']}/messages").json()[0]["id"] == m["id"]


def test_bad_messages(blue: Party, red: Party, green: Party) -> None:
    mine, _ = _crossing(blue, red)
    url = f"/v1/activities/{mine['id']}/messages"
    for body, why in (
        ({"text": "  "}, "needs text"),
        ({"template": "please", "text": "x"}, "template"),
        ({"text": "x", "to": green.id}, "not another party on this thread"),
        ({"text": "x" * 4001}, "text"),
        ({"text": "x", "colour": "red"}, "colour"),
    ):
        r = blue.op.post(url, json=body)
        assert r.status_code == 422, (body, r.text)
        assert why in r.text, (body, r.text)
    assert blue.obs.post(url, json={"text": "x"}).status_code == 403
    assert blue.op.get(url).json() == []  # nothing was sent
