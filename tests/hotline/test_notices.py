"""The notice lifecycle through the hotline, over a real SQLite store and a clock the test
moves: delivery confirmation by stream seq, reading, answers, expiry, supersession — each
run without a ledger and with the real one (``deconfliction.audit.Ledger``) as recorder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from deconfliction.audit import Ledger
from deconfliction.audit import Receipt as LedgerReceipt
from deconfliction.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from deconfliction.hotline import AssetReport, Event, Hotline, NoticeStep, Principal
from deconfliction.model import EscalationLevel, Notice, NoticeReason, NoticeStatus, Policy, Role
from deconfliction.store import open_store, sqlite_url
from tests.hotline.conftest import Hub, Recorder, StepClock, circle, draft

HERE = (2.0, 50.0)
THERE = (3.0, 50.0)  # ~71 km from HERE: nothing filed at one meets the other
DEADLINE_S = 15 * 60  # the default acknowledgement deadline of an air operation


@dataclass
class NoticeHub(Hub):
    ledger: Ledger | None = None

    def observer(self, of: Principal) -> Principal:
        _info, secret = self.hotline.create_token(self.admin, of.party_id, Role.OBSERVER)
        return self.hotline.authenticate(secret)

    def ledger_types(self) -> list[str]:
        assert self.ledger is not None
        with self.hotline.store.read() as tx:
            return [e.content().type for e in self.ledger.entries(tx)]  # type: ignore[arg-type]

    def head(self) -> int:
        assert self.ledger is not None
        with self.hotline.store.read() as tx:
            return self.ledger.head(tx)[0]  # type: ignore[arg-type]


def make_notice_hub(path: Path, *, with_ledger: bool) -> NoticeHub:
    clock, sink = StepClock(), Recorder()
    store = open_store(sqlite_url(path))
    ledger = Ledger.open(path) if with_ledger else None
    h = Hotline(store, Policy.default(), clock=clock, sink=sink, recorder=ledger)
    h.rebuild_index()
    boot = h.bootstrap()
    assert boot is not None
    return NoticeHub(h, clock, sink, h.authenticate(boot[1]), path, boot[1], ledger)


@pytest.fixture(params=["no_ledger", "ledger"])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NoticeHub]:
    h = make_notice_hub(tmp_path, with_ledger=request.param == "ledger")
    yield h
    h.hotline.store.close()


def notice_events(hub: NoticeHub, p: Principal) -> list[Event]:
    """The stored ``notice`` events of ``p``'s stream, by seq."""
    return [e for e in hub.hotline.events_since(p, 0) if e.type == "notice"]


def steps_seen(hub: NoticeHub, p: Principal) -> list[tuple[str, str]]:
    """(type, notice id) of the lifecycle events published to ``p``, in order."""
    return [
        (e.type, e.payload["notice"]["id"]) for e in hub.sink.of(p) if e.type.startswith("notice.")
    ]


def check_receipt(hub: NoticeHub, step: NoticeStep, type_: str) -> None:
    """With a ledger: the step's receipt is the newest entry, of ``type_``, and verifies."""
    if hub.ledger is None:
        assert step.receipt is None
        return
    assert step.receipt is not None
    r = LedgerReceipt.from_json(step.receipt.to_json())
    assert r.verify(hub.ledger.public_key)
    with hub.hotline.store.read() as tx:
        last = list(hub.ledger.entries(tx, since=r.seq - 1, until=r.seq))  # type: ignore[arg-type]
        assert hub.ledger.head(tx)[0] == r.seq  # type: ignore[arg-type]
    (entry,) = last
    assert entry.hash == r.hash
    c = entry.content()
    assert c.type == type_
    assert c.payload["notice"]["id"] == str(step.notice.id)


# ---------------------------------------------------------------------- delivery


def test_confirm_delivery_delivers_the_recipients_notices_through_the_seq_once(
    hub: NoticeHub,
) -> None:
    blue, red, green = hub.party("Blue"), hub.party("Red"), hub.party("Green")
    hub.hotline.file(red, draft(circle(*HERE)))
    hub.hotline.file(red, draft(circle(*THERE)))
    hub.clock.advance(minutes=1)
    n1 = hub.hotline.file(blue, draft(circle(*HERE))).notices[0]
    hub.clock.advance(minutes=1)
    n2 = hub.hotline.file(green, draft(circle(*THERE))).notices[0]
    assert (n1.recipient, n2.recipient) == (red.party_id, red.party_id)
    ev1, ev2 = notice_events(hub, red)
    assert (ev1.payload["notice"]["id"], ev2.payload["notice"]["id"]) == (str(n1.id), str(n2.id))
    assert ev1.seq < ev2.seq == hub.hotline.last_seq(red)

    # up to just before the first notice's event: nothing
    assert hub.hotline.confirm_delivery(red, ev1.seq - 1) == []
    hub.clock.advance(seconds=5)
    t1 = hub.clock.now()
    (d1,) = hub.hotline.confirm_delivery(red, ev1.seq)
    assert d1.id == n1.id
    assert (d1.status, d1.delivered_at, d1.status_at) == (NoticeStatus.DELIVERED, t1, t1)
    hub.clock.advance(seconds=5)
    t2 = hub.clock.now()
    # through the last seq: only the second one (the first counted already)
    (d2,) = hub.hotline.confirm_delivery(red, ev2.seq)
    assert d2.id == n2.id
    assert d2.delivered_at == t2
    assert hub.hotline.confirm_delivery(red, ev2.seq) == []
    assert hub.hotline.confirm_delivery(red, 0) == []
    stored = {n.id: n for n in hub.hotline.list_notices(red)}
    assert stored[n1.id].delivered_at == t1
    assert stored[n2.id].delivered_at == t2
    assert {n.status for n in stored.values()} == {NoticeStatus.DELIVERED}
    # each owner is told of its own notice's delivery; the recipient is not
    assert steps_seen(hub, blue) == [("notice.delivered", str(n1.id))]
    assert steps_seen(hub, green) == [("notice.delivered", str(n2.id))]
    assert steps_seen(hub, red) == []
    if hub.ledger is not None:
        assert hub.ledger_types()[-2:] == ["notice.delivered", "notice.delivered"]
        with hub.hotline.store.read() as tx:
            entries = list(hub.ledger.entries(tx))  # type: ignore[arg-type]
        first, second = (e.content() for e in entries[-2:])
        assert first.payload == {"through_seq": ev1.seq, "notices": [str(n1.id)]}
        assert second.payload == {"through_seq": ev2.seq, "notices": [str(n2.id)]}
        assert first.actor.party == red.party_id
        assert set(first.parties) == {red.party_id, blue.party_id}


def test_confirm_delivery_touches_only_the_callers_notices(hub: NoticeHub) -> None:
    blue, red, green = hub.party("Blue"), hub.party("Red"), hub.party("Green")
    hub.hotline.file(red, draft(circle(*HERE)))
    hub.hotline.file(blue, draft(circle(*HERE)))
    r = hub.hotline.file(green, draft(circle(*HERE)))  # tells Red and Blue
    assert {n.recipient for n in r.notices} == {red.party_id, blue.party_id}
    last_blue = hub.hotline.last_seq(blue)
    delivered = hub.hotline.confirm_delivery(blue, last_blue)
    assert {n.recipient for n in delivered} == {blue.party_id}
    assert len(delivered) == 1
    assert [n.delivered_at for n in hub.hotline.list_notices(red)] == [None, None]
    # Red's stream is longer than Blue's: its notices are delivered by its own seqs
    assert len(hub.hotline.confirm_delivery(red, hub.hotline.last_seq(red))) == 2


@pytest.mark.parametrize("ahead", [1, 1000])
def test_confirm_delivery_refuses_a_seq_ahead_of_the_stream(hub: NoticeHub, ahead: int) -> None:
    blue, red = hub.party("Blue"), hub.party("Red")
    hub.hotline.file(red, draft(circle(*HERE)))
    hub.hotline.file(blue, draft(circle(*HERE)))
    last = hub.hotline.last_seq(red)
    before = hub.head() if hub.ledger else 0
    with pytest.raises(InvalidInput) as e:
        hub.hotline.confirm_delivery(red, last + ahead)
    assert e.value.field == "seq"
    assert str(last) in str(e.value)
    assert [n.delivered_at for n in hub.hotline.list_notices(red)] == [None]
    assert steps_seen(hub, blue) == []
    if hub.ledger is not None:
        assert hub.head() == before


def test_confirm_delivery_refuses_a_negative_seq(hub: NoticeHub) -> None:
    red = hub.party("Red")
    with pytest.raises(InvalidInput) as e:
        hub.hotline.confirm_delivery(red, -1)
    assert e.value.field == "seq"


def test_a_party_with_an_empty_stream_may_confirm_seq_zero(hub: NoticeHub) -> None:
    red = hub.party("Red")
    assert hub.hotline.last_seq(red) == 0
    assert hub.hotline.confirm_delivery(red, 0) == []
    with pytest.raises(InvalidInput):
        hub.hotline.confirm_delivery(red, 1)


# ---------------------------------------------------------------------- reading and answers


def _one_notice(hub: NoticeHub) -> tuple[Principal, Principal, Notice]:
    """Blue files over Red's activity: (blue, red, Red's notice)."""
    blue, red = hub.party("Blue"), hub.party("Red")
    hub.hotline.file(red, draft(circle(*HERE)))
    hub.clock.advance(minutes=1)
    (n,) = hub.hotline.file(blue, draft(circle(*HERE))).notices
    return blue, red, n


def test_another_party_cannot_read_or_answer_a_notice(hub: NoticeHub) -> None:
    blue, red, n = _one_notice(hub)
    green = hub.party("Green")
    for p in (blue, green):  # neither the owner nor a stranger
        with pytest.raises(NotFound):
            hub.hotline.read_notice(p, n.id)
        with pytest.raises(NotFound):
            hub.hotline.acknowledge(p, n.id)
        with pytest.raises(NotFound):
            hub.hotline.object(p, n.id, "not yours")
        with pytest.raises(NotFound):
            hub.hotline.get_notice(p, n.id)
    with pytest.raises(NotFound):
        hub.hotline.read_notice(red, uuid4())
    with pytest.raises(NotFound):
        hub.hotline.acknowledge(red, uuid4())
    stored = hub.hotline.get_notice(red, n.id)
    assert (stored.status, stored.read_at, stored.answered_at) == (NoticeStatus.QUEUED, None, None)
    assert steps_seen(hub, blue) == []
    assert steps_seen(hub, red) == []


def test_an_observer_may_read_but_not_answer(hub: NoticeHub) -> None:
    blue, red, n = _one_notice(hub)
    watcher = hub.observer(red)
    hub.clock.advance(seconds=30)
    step = hub.hotline.read_notice(watcher, n.id)
    assert step.notice.status is NoticeStatus.READ
    assert step.notice.read_at == hub.clock.now()
    check_receipt(hub, step, "notice.read")
    with pytest.raises(Forbidden):
        hub.hotline.acknowledge(watcher, n.id)
    with pytest.raises(Forbidden):
        hub.hotline.object(watcher, n.id, "we object")
    stored = hub.hotline.get_notice(red, n.id)
    assert stored.answered_at is None
    assert stored.status is NoticeStatus.READ
    assert [t for t, _ in steps_seen(hub, blue)] == ["notice.read"]


def test_reading_twice_counts_once(hub: NoticeHub) -> None:
    blue, red, n = _one_notice(hub)
    t = hub.clock.now()
    first = hub.hotline.read_notice(red, n.id)
    head = hub.head() if hub.ledger else 0
    hub.clock.advance(minutes=2)
    again = hub.hotline.read_notice(red, n.id)
    assert again.notice.read_at == t
    assert again.receipt is None
    assert first.notice.read_at == t
    assert [ty for ty, _ in steps_seen(hub, blue)] == ["notice.read"]
    assert [ty for ty, _ in steps_seen(hub, red)] == ["notice.read"]
    if hub.ledger is not None:
        assert hub.head() == head


def test_acknowledge_once_then_every_answer_is_refused(hub: NoticeHub) -> None:
    blue, red, n = _one_notice(hub)
    hub.clock.advance(minutes=3)
    t = hub.clock.now()
    step = hub.hotline.acknowledge(red, n.id)
    assert step.notice.status is NoticeStatus.ACKNOWLEDGED
    assert (step.notice.delivered_at, step.notice.read_at, step.notice.answered_at) == (t, t, t)
    check_receipt(hub, step, "notice.acknowledged")
    hub.clock.advance(minutes=1)
    with pytest.raises(InvalidTransition):
        hub.hotline.acknowledge(red, n.id)
    with pytest.raises(InvalidTransition):
        hub.hotline.object(red, n.id, "changed our mind")
    stored = hub.hotline.get_notice(red, n.id)
    assert (stored.status, stored.answered_at, stored.objection) == (
        NoticeStatus.ACKNOWLEDGED,
        t,
        None,
    )
    assert steps_seen(hub, blue) == [("notice.acknowledged", str(n.id))]


@pytest.mark.parametrize(("reason", "field"), [("   ", "reason"), ("x" * 2001, "reason")])
def test_a_bad_objection_is_refused_and_changes_nothing(
    hub: NoticeHub, reason: str, field: str
) -> None:
    blue, red, n = _one_notice(hub)
    head = hub.head() if hub.ledger else 0
    with pytest.raises(InvalidInput) as e:
        hub.hotline.object(red, n.id, reason)
    assert e.value.field == field
    with pytest.raises(InvalidInput):
        hub.hotline.object(red, n.id, 42)  # type: ignore[arg-type]
    stored = hub.hotline.get_notice(red, n.id)
    assert (stored.status, stored.answered_at) == (NoticeStatus.QUEUED, None)
    assert steps_seen(hub, blue) == []
    if hub.ledger is not None:
        assert hub.head() == head


def test_the_owner_follows_each_step_in_order(hub: NoticeHub) -> None:
    blue, red, n = _one_notice(hub)
    hub.clock.advance(seconds=2)
    hub.hotline.confirm_delivery(red, hub.hotline.last_seq(red))
    hub.clock.advance(seconds=20)
    read = hub.hotline.read_notice(red, n.id)
    hub.clock.advance(seconds=40)
    objected = hub.hotline.object(red, n.id, " the area covers our depot ")
    assert objected.notice.objection == "the area covers our depot"
    assert objected.notice.status is NoticeStatus.OBJECTED
    check_receipt(hub, objected, "notice.objected")
    nid = str(n.id)
    assert steps_seen(hub, blue) == [
        ("notice.delivered", nid),
        ("notice.read", nid),
        ("notice.objected", nid),
    ]
    assert steps_seen(hub, red) == [("notice.read", nid), ("notice.objected", nid)]
    owner = [e for e in hub.sink.of(blue) if e.type.startswith("notice.")]
    assert [e.payload["notice"]["status"] for e in owner] == ["delivered", "read", "objected"]
    assert owner[2].payload["notice"]["objection"] == "the area covers our depot"
    assert owner[1].payload["notice"]["read_at"] == owner[2].payload["notice"]["read_at"]
    # the published events are the stored ones (same seqs, gap-free per party)
    stored = [e.seq for e in hub.hotline.events_since(blue, 0) if e.type.startswith("notice.")]
    assert stored == [e.seq for e in owner]
    assert stored == sorted(stored)
    # with a ledger, the answer's event carries its receipt
    if hub.ledger is None:
        assert "receipt" not in owner[2].payload
        assert read.receipt is None
    else:
        assert owner[2].payload["receipt"] == objected.receipt.to_json()  # type: ignore[union-attr]
        types = hub.ledger_types()
        assert types[-3:] == ["notice.delivered", "notice.read", "notice.objected"]
        with hub.hotline.store.read() as tx:
            assert hub.ledger.verify(tx).ok  # type: ignore[arg-type]


# ---------------------------------------------------------------------- expiry


def test_expire_due_expires_exactly_the_unanswered_ones_at_the_deadline(hub: NoticeHub) -> None:
    blue, red, green = hub.party("Blue"), hub.party("Red"), hub.party("Green")
    hub.hotline.file(red, draft(circle(*HERE)))
    hub.hotline.file(green, draft(circle(*THERE)))
    hub.clock.advance(minutes=1)
    sent = hub.clock.now()
    r = hub.hotline.file(blue, draft(circle(*HERE), circle(*THERE)))
    by = {n.recipient: n for n in r.notices}
    to_red, to_green = by[red.party_id], by[green.party_id]
    assert to_red.deadline == sent + timedelta(seconds=DEADLINE_S)
    hub.clock.advance(minutes=5)
    hub.hotline.acknowledge(green, to_green.id)
    hub.hotline.read_notice(red, to_red.id)

    hub.clock.t = to_red.deadline - timedelta(microseconds=1)
    assert hub.hotline.expire_due() == []
    hub.clock.t = to_red.deadline
    (e,) = hub.hotline.expire_due()
    assert e.id == to_red.id
    assert (e.status, e.expired_at, e.status_at) == (
        NoticeStatus.EXPIRED,
        to_red.deadline,
        to_red.deadline,
    )
    hub.clock.advance(hours=1)
    assert hub.hotline.expire_due() == []
    assert hub.hotline.get_notice(red, to_red.id).status is NoticeStatus.EXPIRED
    assert hub.hotline.get_notice(green, to_green.id).status is NoticeStatus.ACKNOWLEDGED

    # both the owner and the recipient are told, with the recipient's name
    for p in (blue, red):
        (ev,) = hub.sink.of(p, "notice.expired")
        assert ev.payload["message"] == "Red has not answered"
        assert ev.payload["notice"]["id"] == str(to_red.id)
    assert hub.sink.of(green, "notice.expired") == []
    if hub.ledger is not None:
        with hub.hotline.store.read() as tx:
            last = list(hub.ledger.entries(tx))[-1].content()  # type: ignore[arg-type]
        assert last.type == "notice.expired"
        assert last.actor.party is None  # the hub acted, no party
        assert last.payload["notice"]["id"] == str(to_red.id)

    # a late answer is accepted and keeps the expiry time
    late = hub.hotline.acknowledge(red, to_red.id)
    assert late.notice.status is NoticeStatus.ACKNOWLEDGED
    assert late.notice.expired_at == to_red.deadline
    assert late.notice.answered_at == hub.clock.now()
    check_receipt(hub, late, "notice.acknowledged")
    stored = hub.hotline.get_notice(red, to_red.id)
    assert (stored.status, stored.expired_at, stored.answered_at) == (
        NoticeStatus.ACKNOWLEDGED,
        to_red.deadline,
        hub.clock.now(),
    )
    assert hub.hotline.expire_due() == []


def test_informational_and_superseded_notices_never_expire(hub: NoticeHub) -> None:
    blue, red, green = hub.party("Blue"), hub.party("Red"), hub.party("Green")
    hub.hotline.file(red, draft(circle(*HERE)))
    hub.hotline.file(green, draft(circle(*THERE)))
    x = hub.hotline.file(blue, draft(circle(*HERE))).activity
    y = hub.hotline.file(blue, draft(circle(*THERE))).activity
    # X becomes active (Red told "activated"); Y moves away (Green told "no longer affected")
    (activated,) = hub.hotline.activate(blue, x.id, 1).notices
    (bye,) = hub.hotline.amend(blue, y.id, 1, draft(circle(2.5, 52.0))).notices
    assert activated.reason is NoticeReason.ACTIVATED
    assert not activated.needs_answer
    assert bye.reason is NoticeReason.NO_LONGER_AFFECTED
    assert not bye.needs_answer
    hub.clock.advance(days=1)
    assert hub.hotline.expire_due() == []
    everything = hub.hotline.list_notices(red) + hub.hotline.list_notices(green)
    assert len(everything) == 4
    assert {n.reason for n in everything if n.status is NoticeStatus.SUPERSEDED} == {
        NoticeReason.NEW
    }
    assert all(n.expired_at is None for n in everything)
    assert hub.sink.of(blue, "notice.expired") == []


def test_amending_supersedes_the_old_notice_which_cannot_be_answered(hub: NoticeHub) -> None:
    blue, red, old = _one_notice(hub)
    hub.clock.advance(minutes=5)
    r = hub.hotline.amend(blue, old.activity_id, 1, draft(circle(2.0, 50.005)))
    (new,) = r.notices
    assert new.reason is NoticeReason.AMENDED
    assert new.recipient == red.party_id
    assert new.activity_version == 2
    stored_old = hub.hotline.get_notice(red, old.id)
    assert (stored_old.status, stored_old.status_at) == (NoticeStatus.SUPERSEDED, hub.clock.now())
    (sup,) = hub.sink.of(red, "notice.superseded")
    assert sup.payload["notice"]["id"] == str(old.id)
    with pytest.raises(InvalidTransition) as e:
        hub.hotline.acknowledge(red, old.id)
    assert "superseded" in str(e.value)
    with pytest.raises(InvalidTransition):
        hub.hotline.object(red, old.id, "too late")
    assert hub.hotline.get_notice(red, old.id).answered_at is None

    # the old notice's deadline passes: nothing (superseded); the new one's: it expires
    hub.clock.t = old.deadline
    assert hub.hotline.expire_due() == []
    hub.clock.t = new.deadline
    assert [n.id for n in hub.hotline.expire_due()] == [new.id]
    assert hub.hotline.get_notice(red, old.id).status is NoticeStatus.SUPERSEDED
    if hub.ledger is not None:
        types = hub.ledger_types()
        assert "notice.superseded" in types
        assert types[-1] == "notice.expired"
        with hub.hotline.store.read() as tx:
            assert hub.ledger.verify(tx).ok  # type: ignore[arg-type]


def test_a_superseded_notice_confirmed_late_stays_superseded(hub: NoticeHub) -> None:
    blue, red, old = _one_notice(hub)
    hub.hotline.amend(blue, old.activity_id, 1, draft(circle(2.0, 50.005)))
    delivered = hub.hotline.confirm_delivery(red, hub.hotline.last_seq(red))
    by: dict[UUID, Notice] = {n.id: n for n in delivered}
    assert old.id in by
    assert by[old.id].status is NoticeStatus.SUPERSEDED
    assert by[old.id].delivered_at == hub.clock.now()


def test_a_party_affected_only_through_its_asset_is_told_each_change(hub: NoticeHub) -> None:
    """Green has no activity there, only a slow asset: it is affected (time to clear) by
    Blue's filing, told of the amendment that keeps it affected, told when one moves the
    activity away (once), told again when it comes back, and told of the cancellation."""
    h = hub.hotline
    blue, green = hub.party("Blue"), hub.party("Green")
    h.report_assets(green, [AssetReport("SLOW-1", HERE[0], HERE[1], max_speed_mps=5.0)])

    def to_green(notices: list[Notice]) -> list[NoticeReason]:
        return [n.reason for n in notices if n.recipient == green.party_id]

    filed = h.file(blue, draft(circle(*HERE), title="Sweep"))
    assert to_green(filed.notices) == [NoticeReason.NEW]
    act = filed.activity
    kept = h.amend(blue, act.id, act.version, draft(circle(*HERE, hours=3), title="Sweep"))
    assert to_green(kept.notices) == [NoticeReason.AMENDED]
    act = kept.activity
    away = h.amend(blue, act.id, act.version, draft(circle(*THERE), title="Sweep"))
    (gone,) = [n for n in away.notices if n.recipient == green.party_id]
    assert gone.reason is NoticeReason.NO_LONGER_AFFECTED
    assert "no longer affects you" in gone.summary
    act = away.activity
    again = h.amend(blue, act.id, act.version, draft(circle(*THERE, hours=3), title="Sweep"))
    assert to_green(again.notices) == []  # told once, not at every later amendment
    act = again.activity
    back = h.amend(blue, act.id, act.version, draft(circle(*HERE), title="Sweep"))
    assert to_green(back.notices) == [NoticeReason.NEW]
    cancelled = h.cancel(blue, act.id, back.activity.version)
    assert to_green(cancelled.notices) == [NoticeReason.CANCELLED]
    assert [e.type for e in hub.sink.of(green)].count("notice") == 5


def test_an_unanswered_message_escalates_and_expires_like_any_notice(hub: NoticeHub) -> None:
    """A cease-harm message unanswered by its 2-minute deadline goes up the recipient's
    ladder, then expires: messages are notices that call for an answer."""
    h, clock = hub.hotline, hub.clock
    blue, red = hub.party("Blue"), hub.party("Red")
    h.set_escalation(hub.admin, red.party_id, [EscalationLevel("watch commander", 60.0)])
    act = h.file(red, draft(circle(*HERE))).activity
    h.file(blue, draft(circle(*HERE)))  # a conflict: Blue and Red share a thread
    msg = h.send_message(blue, template="cease_harm", text="harm at the clinic", activity_id=act.id)
    assert msg.needs_answer
    clock.advance(seconds=121)
    (up,) = [n for n in h.expire_due() if n.id == msg.id]
    assert (up.level, up.status) == (1, msg.status)
    clock.advance(seconds=61)
    (gone,) = [n for n in h.expire_due() if n.id == msg.id]
    assert gone.status is NoticeStatus.EXPIRED
