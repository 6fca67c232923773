"""An activity's timeline through the hotline, over a real SQLite store, the real ledger and a
clock the test moves: every version, conflict and notice step with its hub time, in order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from deconfliction.audit import Ledger
from deconfliction.audit import Receipt as LedgerReceipt
from deconfliction.errors import NotFound
from deconfliction.hotline import (
    ActivityTimeline,
    AssetReport,
    Hotline,
    Principal,
    timeline_json,
)
from deconfliction.model import (
    ConflictStatus,
    EscalationLevel,
    NoticeReason,
    NoticeStatus,
    Policy,
    Role,
)
from deconfliction.store import open_store, sqlite_url
from tests.hotline.conftest import T0, Hub, Recorder, StepClock, circle, draft

HERE = (2.0, 50.0)
THERE = (3.0, 50.0)  # ~71 km from HERE


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass
class LedgerHub(Hub):
    ledger: Ledger | None = None


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LedgerHub]:
    clock, sink = StepClock(), Recorder()
    store = open_store(sqlite_url(tmp_path))
    ledger = Ledger.open(tmp_path)
    h = Hotline(store, Policy.default(), clock=clock, sink=sink, recorder=ledger)
    h.rebuild_index()
    boot = h.bootstrap()
    assert boot is not None
    yield LedgerHub(h, clock, sink, h.authenticate(boot[1]), tmp_path, boot[1], ledger)
    store.close()


@dataclass
class Story:
    blue: Principal
    red: Principal
    green: Principal
    civil: Principal
    activity_id: object


def play(hub: LedgerHub) -> Story:
    """Blue files an air operation 2 minutes before it starts over Red's activity and
    Green's slow asset; Red confirms, reads and objects; Green never answers (escalated,
    then expired); Blue moves it over Civil's activity (Civil acknowledges), then cancels."""
    h, clock = hub.hotline, hub.clock
    blue, red, green, civil = (hub.party(n) for n in ("Blue", "Red", "Green", "Civil"))
    h.set_escalation(hub.admin, green.party_id, [EscalationLevel("duty officer", 120.0)])
    h.file(red, draft(circle(*HERE)))  # 14:00–16:00
    h.file(civil, draft(circle(*THERE, start_min=60, hours=4)))  # 13:00–17:00
    h.report_assets(green, [AssetReport("SLOW-1", HERE[0], HERE[1], max_speed_mps=5.0)])

    clock.advance(minutes=10)  # 12:10: 2 minutes before the start (policy: 1 h)
    filed = h.file(blue, draft(circle(*HERE, start_min=12, hours=3), title="Sweep"))
    to_red = next(n for n in filed.notices if n.recipient == red.party_id)

    clock.advance(minutes=1)  # 12:11
    h.confirm_delivery(red, h.last_seq(red))
    clock.advance(minutes=1)  # 12:12
    h.read_notice(red, to_red.id)
    clock.advance(minutes=1)  # 12:13
    h.object(red, to_red.id, "our sortie is there")

    clock.t = at(25)  # Green's deadline: up to its duty officer
    assert len(h.expire_due()) == 1
    clock.t = at(27)  # the duty officer's deadline: expired
    assert len(h.expire_due()) == 1

    clock.t = at(30)  # moved over Civil's activity
    v = h.get_activity(blue, filed.activity.id)[0].version
    moved = h.amend(blue, filed.activity.id, v, draft(circle(*THERE, start_min=90), title="Sweep"))
    (to_civil,) = [n for n in moved.notices if n.recipient == civil.party_id]
    clock.t = at(35)
    h.acknowledge(civil, to_civil.id)
    clock.t = at(50)
    h.cancel(blue, filed.activity.id, moved.activity.version)
    return Story(blue, red, green, civil, filed.activity.id)


def test_the_timeline_tells_the_whole_story_in_order(hub: LedgerHub) -> None:
    s = play(hub)
    hub.clock.t = at(60)
    t = hub.hotline.timeline(s.blue, s.activity_id)  # type: ignore[arg-type]
    assert t.generated_at == at(60)
    assert t.activity.version == 3
    assert t.activity.state.value == "cancelled"
    assert [(v.activity.version, v.change, v.at) for v in t.versions] == [
        (1, "filed", at(10)),
        (2, "amended", at(30)),
        (3, "cancelled", at(50)),
    ]
    # conflicts: Red's (resolved by the amendment), Civil's (resolved by the cancellation)
    got = [(t.name(t.other_party(c)), c.detected_at, c.resolved_at, c.status) for c in t.conflicts]
    assert got == [
        ("Red", at(10), at(30), ConflictStatus.RESOLVED),
        ("Civil", at(30), at(50), ConflictStatus.RESOLVED),
    ]
    by = {(t.name(n.recipient), n.activity_version): n for n in t.notices}
    assert sorted(by) == [
        ("Civil", 2),
        ("Civil", 3),
        ("Green", 1),
        ("Green", 2),
        ("Red", 1),
        ("Red", 2),
    ]
    red = by["Red", 1]
    assert (red.sent_at, red.lead_time_s, red.required_lead_time_s) == (at(10), 120.0, 3600.0)
    assert red.late
    assert not red.insufficient
    assert (red.delivered_at, red.read_at, red.answered_at) == (at(11), at(12), at(13))
    assert red.objection == "our sortie is there"
    assert (red.status, red.status_at) == (NoticeStatus.SUPERSEDED, at(30))
    green = by["Green", 1]
    assert green.late
    assert green.insufficient
    (need,) = green.clearance
    assert need["max_speed_mps"] == 5.0
    assert need["required_s"] > need["available_s"]
    assert [(e["level"], e["name"], e["at"]) for e in green.escalations] == [
        (1, "duty officer", "2026-11-25T12:25:00Z")
    ]
    assert green.expired_at == at(27)
    assert green.answered_at is None
    assert by["Red", 2].reason is NoticeReason.NO_LONGER_AFFECTED
    assert by["Green", 2].reason is NoticeReason.NO_LONGER_AFFECTED  # its asset is clear
    assert by["Civil", 2].answered_at == at(35)
    assert by["Civil", 3].reason is NoticeReason.CANCELLED
    # every notice carries the receipt of the ledger entry that sent it, which verifies
    assert hub.ledger is not None
    for n in t.notices:
        assert n.receipt is not None
        assert LedgerReceipt.from_json(dict(n.receipt)).verify(hub.ledger.public_key)

    steps = [(e.at, e.type, t.name(e.party)) for e in t.events]
    assert steps == [
        (at(10), "activity.filed", "Blue"),
        (at(10), "conflict.detected", "Red"),
        (at(10), "notice.sent", "Green"),
        (at(10), "notice.sent", "Red"),
        (at(11), "notice.delivered", "Red"),
        (at(12), "notice.read", "Red"),
        (at(13), "notice.objected", "Red"),
        (at(25), "notice.escalated", "Green"),
        (at(27), "notice.expired", "Green"),
        (at(30), "activity.amended", "Blue"),
        (at(30), "notice.superseded", "Green"),
        (at(30), "notice.superseded", "Red"),
        (at(30), "conflict.detected", "Civil"),
        (at(30), "conflict.resolved", "Red"),
        (at(30), "notice.sent", "Civil"),
        (at(30), "notice.sent", "Green"),
        (at(30), "notice.sent", "Red"),
        (at(35), "notice.delivered", "Civil"),  # implied by the answer: stamped with it
        (at(35), "notice.read", "Civil"),
        (at(35), "notice.acknowledged", "Civil"),
        (at(50), "activity.cancelled", "Blue"),
        (at(50), "notice.superseded", "Civil"),
        (at(50), "notice.superseded", "Green"),
        (at(50), "notice.superseded", "Red"),
        (at(50), "conflict.resolved", "Civil"),
        (at(50), "notice.sent", "Civil"),
        (at(90), "activity.starts", "Blue"),
        (at(90 + 120), "activity.ends", "Blue"),
    ]


def test_only_the_owner_sees_the_timeline(hub: LedgerHub) -> None:
    s = play(hub)
    h = hub.hotline
    # an affected party, an unrelated one and the hub admin: as if it did not exist
    for other in (s.red, s.civil, hub.party("Yellow"), hub.admin):
        with pytest.raises(NotFound) as exc:
            h.timeline(other, s.activity_id)  # type: ignore[arg-type]
        assert exc.value.status == 404
    with pytest.raises(NotFound):
        h.timeline(s.blue, uuid4())
    # the owner's observers read it too
    _info, secret = h.create_token(hub.admin, s.blue.party_id, Role.OBSERVER)
    seen = h.timeline(h.authenticate(secret), s.activity_id)  # type: ignore[arg-type]
    assert seen.activity.id == s.activity_id


def test_the_json_has_every_part_and_names_the_parties(hub: LedgerHub) -> None:
    s = play(hub)
    t: ActivityTimeline = hub.hotline.timeline(s.blue, s.activity_id)  # type: ignore[arg-type]
    doc = json.loads(json.dumps(timeline_json(t)))
    assert doc["owner"] == {"id": str(s.blue.party_id), "name": "Blue"}
    assert doc["activity"]["remarks"] == ""  # the owner's view
    assert [v["change"] for v in doc["versions"]] == ["filed", "amended", "cancelled"]
    assert [v["at"] for v in doc["versions"]] == [
        "2026-11-25T12:10:00Z",
        "2026-11-25T12:30:00Z",
        "2026-11-25T12:50:00Z",
    ]
    assert all(v["volumes"]["features"] for v in doc["versions"])
    assert [c["other_party"]["name"] for c in doc["conflicts"]] == ["Red", "Civil"]
    assert {c["other_type"] for c in doc["conflicts"]} == {"activity"}
    red = next(n for n in doc["notices"] if n["recipient_name"] == "Red" and n["objection"])
    assert (red["time_to_answer_s"], red["late"], red["lead_time_s"]) == (180.0, True, 120.0)
    assert red["receipt"]["seq"] > 0
    green = next(n for n in doc["notices"] if n["recipient_name"] == "Green")
    assert green["insufficient"] is True
    assert green["time_to_answer_s"] is None
    assert green["expired_at"] == "2026-11-25T12:27:00Z"
    assert green["escalations"][0]["name"] == "duty officer"
    assert len(doc["events"]) == len(t.events)
    times = [e["time"] for e in doc["events"]]
    assert times == sorted(times)
    sent = [e for e in doc["events"] if e["type"] == "notice.sent" and e["party"] == "Green"]
    assert "LATE" in sent[0]["details"]
    assert "INSUFFICIENT NOTICE" in sent[0]["details"]
    assert sent[0]["ref"] == {"notice": green["id"], "version": 1}
    objected = next(e for e in doc["events"] if e["type"] == "notice.objected")
    assert objected["details"] == "Red objected: our sortie is there (3 min after sending)"


def test_a_quiet_activity_has_its_version_and_schedule_only(hub: LedgerHub) -> None:
    blue = hub.party("Blue")
    a = hub.hotline.file(blue, draft(circle(*HERE))).activity
    t = hub.hotline.timeline(blue, a.id)
    assert (t.conflicts, t.notices) == ((), ())
    assert [e.type for e in t.events] == ["activity.filed", "activity.starts", "activity.ends"]
    assert [e.at for e in t.events] == [T0, at(120), at(240)]
