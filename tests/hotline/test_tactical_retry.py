"""Telling an alert when its batch fails to commit: the hotline rolls the batch back and
runs each of its writes again alone (:meth:`Hotline._submit`). The tactical write must
start that run from the engine's state before the first one: the alert told keeps the id
it is kept under, its ``open_alerts`` row is the only one, and its clearing supersedes its
notices and drops that row.

The store is the real SQLite one; only the commit of the transaction that writes the
alert is made to fail, once (SQLAlchemy's ``commit`` event runs before the COMMIT, and
an error there rolls the transaction back)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from deconfliction.hotline import Principal
from deconfliction.model import NoticeReason, NoticeStatus, Track, TrackSource
from tests.hotline.conftest import Hub, circle, draft

HERE = (2.0, 50.0)


class CommitFails:
    """Makes the commit of the next ``armed`` transactions that write ``open_alerts``
    raise (the transaction is then rolled back: nothing of it is stored)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.armed = 0
        self.failed = 0
        self._writing: set[int] = set()  # connections whose transaction wrote the table
        self._hooks: list[tuple[str, Any]] = [
            ("before_cursor_execute", self._seen),
            ("commit", self._commit),
            ("rollback", self._done),
        ]
        for name, fn in self._hooks:
            sa.event.listen(engine, name, fn)

    def _seen(self, conn: sa.Connection, _cursor: Any, statement: str, *_: Any) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE") and "open_alerts" in statement:
            self._writing.add(id(conn))

    def _commit(self, conn: sa.Connection) -> None:
        wrote = id(conn) in self._writing
        self._done(conn)
        if wrote and self.armed:
            self.armed -= 1
            self.failed += 1
            raise RuntimeError("injected: the commit failed")

    def _done(self, conn: sa.Connection) -> None:
        self._writing.discard(id(conn))

    def remove(self) -> None:
        for name, fn in self._hooks:
            sa.event.remove(self.engine, name, fn)


@pytest.fixture
def commit_fails(hub: Hub) -> Iterator[CommitFails]:
    fails = CommitFails(hub.hotline.store.engine)  # type: ignore[attr-defined]
    yield fails
    fails.remove()


def _report(hub: Hub, party: Principal, lon: float, lat: float) -> None:
    t = Track("G1", party.party_id, TrackSource.OWN, hub.clock.now(), lat, lon, altitude_m=500.0)
    assert hub.hotline.ingest_tracks(party, [t]).rejected == ()


def _told(hub: Hub, type_: str) -> list[tuple[Any, str]]:
    """(party, alert id) of each ``type_`` event published."""
    return [(e.party_id, e.payload["alert"]["id"]) for e in hub.sink.events if e.type == type_]


def _open_rows(hub: Hub) -> list[str]:
    with hub.hotline.store.read() as tx:
        return [str(r.id) for r in tx.open_alerts()]


def test_an_alert_write_retried_after_a_failed_commit_keeps_its_id_row_and_notices(
    hub: Hub, commit_fails: CommitFails, caplog: pytest.LogCaptureFixture
) -> None:
    h, clock = hub.hotline, hub.clock
    blue, green = hub.party("Blue"), hub.party("Green")
    both = sorted([blue.party_id, green.party_id])
    h.file(blue, draft(circle(*HERE, start_min=-5, hours=2)))
    assert h.tactical_tick().raised == 0  # the first cycle (a start's clearing: none)

    # Green flies into Blue's area; the commit of the write telling the alert fails once
    _report(hub, green, *HERE)
    commit_fails.armed = 1
    with caplog.at_level(logging.ERROR):
        assert h.tactical_tick().raised == 1
    assert commit_fails.failed == 1
    assert "failed to commit; retrying one by one" in caplog.text  # the retry ran
    raised = _told(hub, "alert.raised")
    assert sorted(p for p, _ in raised) == both  # told once each, by the retry
    ((alert_id,),) = {(i,) for _, i in raised}
    assert _open_rows(hub) == [alert_id]  # one row, under the id told
    for p in (blue, green):
        assert [a["id"] for a in h.open_alerts(p)] == [alert_id]
    notices = [
        x for p in (blue, green) for x in h.list_notices(p) if x.reason is NoticeReason.ALERT
    ]
    assert sorted(x.recipient for x in notices) == both  # none kept from the failed run
    assert {str(x.alert_id) for x in notices} == {alert_id}
    assert {x.status for x in notices} == {NoticeStatus.QUEUED}

    # Green leaves the area; the commit of the write clearing the alert fails once
    clock.advance(seconds=1)
    _report(hub, green, HERE[0] + 1.0, HERE[1])
    commit_fails.armed = 1
    assert h.tactical_tick().cleared == 1
    assert commit_fails.failed == 2
    assert sorted(_told(hub, "alert.cleared")) == sorted((p, alert_id) for p in both)
    assert _open_rows(hub) == []  # the row told is dropped, none leaks
    assert [h.open_alerts(p) for p in (blue, green)] == [[], []]
    by_id = {x.id: x for p in (blue, green) for x in h.list_notices(p)}
    assert {by_id[x.id].status for x in notices} == {NoticeStatus.SUPERSEDED}
    superseded = [e.party_id for e in hub.sink.events if e.type == "notice.superseded"]
    assert sorted(superseded) == both

    # nothing left over in the engine: the next cycle tells nothing, a new entry is a new alert
    before = len(hub.sink.events)
    clock.advance(seconds=1)
    _report(hub, green, HERE[0] + 1.0, HERE[1])
    assert h.tactical_tick().raised == 0
    assert len(hub.sink.events) == before
    clock.advance(seconds=1)
    _report(hub, green, *HERE)
    assert h.tactical_tick().raised == 1
    (again,) = h.open_alerts(green)
    assert again["id"] != alert_id
    assert _open_rows(hub) == [again["id"]]


def test_an_alert_whose_write_fails_twice_is_raised_again_at_the_next_cycle(
    hub: Hub, commit_fails: CommitFails
) -> None:
    """When the retry fails too, nothing is stored or told, and the engine forgets the
    cycle's changes: the next cycle raises the alert with its notices. (Before, the engine
    counted it as raised: the next cycles only "updated" it, and no notice was ever kept.)"""
    h = hub.hotline
    blue, green = hub.party("Blue"), hub.party("Green")
    both = sorted([blue.party_id, green.party_id])
    h.file(blue, draft(circle(*HERE, start_min=-5, hours=2)))
    h.tactical_tick()
    _report(hub, green, *HERE)
    commit_fails.armed = 2  # the batch's commit and the retry's
    with pytest.raises(RuntimeError, match="injected"):
        h.tactical_tick()
    assert commit_fails.failed == 2
    assert _told(hub, "alert.raised") == []
    assert _open_rows(hub) == []
    assert [h.open_alerts(p) for p in (blue, green)] == [[], []]

    hub.clock.advance(seconds=1)
    _report(hub, green, *HERE)
    assert h.tactical_tick().raised == 1
    raised = _told(hub, "alert.raised")
    assert sorted(p for p, _ in raised) == both
    ((alert_id,),) = {(i,) for _, i in raised}
    assert _open_rows(hub) == [alert_id]
    notices = [
        x for p in (blue, green) for x in h.list_notices(p) if x.reason is NoticeReason.ALERT
    ]
    assert sorted(x.recipient for x in notices) == both
    assert {str(x.alert_id) for x in notices} == {alert_id}
