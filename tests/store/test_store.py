"""The SQL store against real SQLite files: round trips, versions, lists, streams, errors."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.errors import InvalidInput, NotFound
from deconfliction.geo import Circle, TimeWindow
from deconfliction.model import (
    ActivityState,
    DeliveryChannel,
    Notice,
    NoticeStatus,
    Role,
    SiteState,
)
from deconfliction.store import (
    IntegrityViolation,
    SqlStore,
    SqlTransaction,
    StoreError,
    open_store,
    sqlite_url,
)
from tests.store import factories as f
from tests.strategies import scenes


class _Rollback(Exception):
    """Raised inside a transaction to roll it back."""


def _rolled_back(store: SqlStore, body: Callable[[SqlTransaction], object]) -> None:
    """Run ``body`` in a transaction that an exception then rolls back."""
    with suppress(_Rollback), store.transaction() as tx:
        body(tx)
        raise _Rollback


def _in_tx(store: SqlStore, body: Callable[[SqlTransaction], object]) -> None:
    """Run ``body`` in a transaction (for ``pytest.raises`` around several calls)."""
    with store.transaction() as tx:
        body(tx)


def _with_party(store: SqlStore, name: str = "Blue") -> UUID:
    p = f.party(name)
    with store.transaction() as tx:
        tx.add_party(p)
    return p.id


# -- round trips ------------------------------------------------------------------------------


def _assert_utc(*values: datetime | None) -> None:
    for v in values:
        assert v is None or v.tzinfo is UTC, v


def test_party_round_trip(store: SqlStore) -> None:
    p = f.party("Blue", contact="+33 1 23 45 67 89", languages=("fr-FR", "en"), version=3)
    with store.transaction() as tx:
        tx.add_party(p)
    with store.transaction() as tx:
        got = tx.get_party(p.id)
        assert tx.get_party(uuid4()) is None
    assert got == p
    assert got is not None
    _assert_utc(got.created_at)
    assert got.languages == ("fr-FR", "en")


def test_token_round_trip_and_revocation(store: SqlStore) -> None:
    pid = _with_party(store)
    t1, t2 = f.token(pid, 1.0, role=Role.ADMIN), f.token(pid, 0.0)
    with store.transaction() as tx:
        tx.add_token(t1, b"\x01" * 32)
        tx.add_token(t2, b"\x02" * 32)
    with store.transaction() as tx:
        assert tx.token_by_hash(b"\x01" * 32) == t1
        assert tx.token_by_hash(b"\x03" * 32) is None
        assert tx.get_token(t2.id) == t2
        assert tx.list_tokens(pid) == [t2, t1]  # by creation time
        assert tx.list_tokens(uuid4()) == []
        tx.revoke_token(t1.id, f.at(5).astimezone(f.CET))
        tx.revoke_token(t1.id, f.at(9))  # already revoked: keeps the first time
    with store.transaction() as tx:
        got = tx.get_token(t1.id)
        assert got == replace(t1, revoked_at=f.at(5))
        assert got is not None
        _assert_utc(got.created_at, got.revoked_at)
        with pytest.raises(NotFound):
            tx.revoke_token(uuid4(), f.at(1))


def test_activity_round_trip_polygons_circles_and_enums(store: SqlStore) -> None:
    pid = _with_party(store)
    a = f.activity(
        pid,
        volumes=(f.volume(0, 1, f.SQUARE), f.volume(3, 2, f.ANTIMERIDIAN), f.volume(-1, 1)),
        kind="hazard",
        priority="flash",
        state="active",
        remarks="internal: battery 3",
        created_at=f.T0.astimezone(f.CET),
    )
    with store.transaction() as tx:
        tx.add_activity(a)
    with store.transaction() as tx:
        got = tx.get_activity(a.id)
        assert tx.get_activity(uuid4()) is None
    assert got == a
    assert got is not None
    assert [type(v.footprint) for v in got.volumes] == [
        type(f.SQUARE),
        type(f.ANTIMERIDIAN),
        Circle,
    ]
    assert got.state is ActivityState.ACTIVE
    _assert_utc(got.created_at, got.updated_at, *(v.time.start for v in got.volumes))
    assert (got.start, got.end) == (f.at(-1), f.at(5))


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(vols=scenes(max_size=4))
def test_activity_round_trip_any_volumes(store: SqlStore, vols: list[f.Volume4D]) -> None:
    pid = _with_party(store)
    a = f.activity(pid, volumes=tuple(vols))
    with store.transaction() as tx:
        tx.add_activity(a)
    with store.transaction() as tx:
        assert tx.get_activity(a.id) == a


def test_site_round_trip(store: SqlStore) -> None:
    pid = _with_party(store)
    s = f.site(pid, footprint=Circle((2.35, 48.9), 150.0), remarks="back door")
    with store.transaction() as tx:
        tx.add_site(s)
    with store.transaction() as tx:
        got = tx.get_site(s.id)
        assert tx.get_site(uuid4()) is None
    assert got == s
    assert got is not None
    _assert_utc(got.validity.start, got.validity.end, got.created_at)


def _conflict_world(store: SqlStore) -> tuple[UUID, UUID, f.Activity, f.Activity, f.ProtectedSite]:
    blue, red = _with_party(store, "Blue"), _with_party(store, "Red")
    a, b, s = f.activity(blue), f.activity(red), f.site(red)
    with store.transaction() as tx:
        tx.add_activity(a)
        tx.add_activity(b)
        tx.add_site(s)
    return blue, red, a, b, s


def test_conflict_round_trip_and_update(store: SqlStore) -> None:
    _, _, a, b, _ = _conflict_world(store)
    c = f.conflict(a, b)
    with store.transaction() as tx:
        tx.add_conflict(c)
    with store.transaction() as tx:
        got = tx.get_conflict(c.id)
        assert got == c
        assert got is not None
        assert got.overlaps[0].intersection == c.overlaps[0].intersection
        assert got.overlaps[1].time_start is None
        _assert_utc(got.detected_at, got.overlaps[0].time_start, got.overlaps[0].time_end)
        tx.update_conflict(c.resolved(f.at(3)))
        with pytest.raises(NotFound):
            tx.update_conflict(f.conflict(a, b))
    with store.transaction() as tx:
        assert tx.get_conflict(c.id) == c.resolved(f.at(3))


def test_notice_round_trip_and_update(store: SqlStore) -> None:
    _, red, a, b, _ = _conflict_world(store)
    c = f.conflict(a, b)
    n = f.notice(red, a, conflict_id=c.id, status="delivered", status_at=f.at(-0.5))
    with store.transaction() as tx:
        tx.add_conflict(c)
        tx.add_notice(n)
    with store.transaction() as tx:
        got = tx.get_notice(n.id)
        assert got == n
        assert got is not None
        assert (got.lead_time_s, got.late) == (n.lead_time_s, n.late)
        assert got.status is NoticeStatus.DELIVERED
        _assert_utc(got.sent_at, got.starts_at, got.deadline, got.status_at)
        tx.update_notice(replace(n, status=NoticeStatus.ACKNOWLEDGED, status_at=f.at(0)))
        with pytest.raises(NotFound):
            tx.update_notice(f.notice(red, a))
    with store.transaction() as tx:
        acked = tx.get_notice(n.id)
        assert acked is not None
        assert acked.status is NoticeStatus.ACKNOWLEDGED


def test_naive_datetimes_are_rejected(store: SqlStore) -> None:
    _, red, a, _, _ = _conflict_world(store)
    naive = f.notice(red, a, sent_at=datetime(2026, 11, 25, 11))  # Notice does not check
    with pytest.raises(InvalidInput, match="naive"), store.transaction() as tx:
        tx.add_notice(naive)
    with pytest.raises(InvalidInput, match="naive"), store.transaction() as tx:
        tx.append_event(red, "x", {}, datetime(2026, 11, 25, 11))
    with store.transaction() as tx:
        assert tx.list_notices(red) == []
        assert tx.last_seq(red) == 0


# -- versions ---------------------------------------------------------------------------------


def test_activity_versions_are_kept_and_updates_are_version_checked(store: SqlStore) -> None:
    pid = _with_party(store)
    v1 = f.activity(pid)
    v2 = v1.amended(f.at(-2), title="Medevac 2", volumes=(f.volume(1, 3),))
    v3 = v2.transition("active", f.at(1))
    with store.transaction() as tx:
        tx.add_activity(v1)
        assert tx.update_activity(v2, expected_version=1)
        assert tx.update_activity(v3, expected_version=2)
    stale = v2.amended(f.at(2), title="stale")  # version 3 again, from a stale read
    with store.transaction() as tx:
        assert not tx.update_activity(stale, expected_version=2)
        assert not tx.update_activity(replace(v3, version=9), expected_version=7)
    with store.transaction() as tx:
        assert tx.get_activity(v1.id) == v3
        assert [tx.get_activity_version(v1.id, n) for n in (1, 2, 3)] == [v1, v2, v3]
        assert tx.get_activity_version(v1.id, 4) is None
        assert tx.get_activity_version(v1.id, 9) is None
        assert tx.activity_versions(v1.id) == [v1, v2, v3]
        # the time-window columns follow the current version
        assert tx.list_activities(window=TimeWindow(f.at(3.5), f.at(3.6))) == [v3]


def test_site_versions_are_kept_and_updates_are_version_checked(store: SqlStore) -> None:
    pid = _with_party(store)
    s1 = f.site(pid)
    s2 = replace(s1, name="Hôpital Nord (annexe)", version=2, updated_at=f.at(1))
    s3 = s2.withdrawn(f.at(2))
    with store.transaction() as tx:
        tx.add_site(s1)
        assert tx.update_site(s2, expected_version=1)
        assert not tx.update_site(s3, expected_version=1)
        assert tx.update_site(s3, expected_version=2)
    with store.transaction() as tx:
        assert tx.get_site(s1.id) == s3
        assert [tx.get_site_version(s1.id, n) for n in (1, 2, 3, 4)] == [s1, s2, s3, None]


# -- lists ------------------------------------------------------------------------------------


def test_list_activities_filters_and_order(store: SqlStore) -> None:
    blue, red = _with_party(store, "Blue"), _with_party(store, "Red")
    early = f.activity(blue, start_h=0, hours=1)
    late = f.activity(red, start_h=5, hours=1)
    ended = f.activity(blue, start_h=2, hours=1, state="ended")
    twins = [f.activity(red, start_h=3, hours=1) for _ in range(3)]
    with store.transaction() as tx:
        for a in [late, ended, early, *twins]:
            tx.add_activity(a)
    by_id = sorted(twins, key=lambda a: a.id)
    with store.transaction() as tx:
        assert tx.list_activities() == [early, ended, *by_id, late]
        assert tx.list_activities(owner=blue) == [early, ended]
        assert tx.list_activities(live_only=True) == [early, *by_id, late]
        assert tx.list_activities(ids={late.id, early.id, uuid4()}) == [early, late]
        assert tx.list_activities(ids=[]) == []
        assert tx.list_activities(limit=2) == [early, ended]
        assert tx.list_activities(owner=red, live_only=True, limit=1) == [by_id[0]]
        # closed intervals: a window touching an activity's end meets it
        assert tx.list_activities(window=TimeWindow(f.at(1), f.at(2))) == [early, ended]
        assert tx.list_activities(window=TimeWindow(f.at(1.1), f.at(1.9))) == []
        assert tx.list_activities(window=TimeWindow(f.at(-9), f.at(99)), owner=red) == [
            *by_id,
            late,
        ]


def test_list_activities_by_many_ids(store: SqlStore) -> None:
    pid = _with_party(store)
    acts = [f.activity(pid, start_h=i / 100) for i in range(1_205)]
    with store.transaction() as tx:
        for a in acts:
            tx.add_activity(a)
    wanted = acts[::2]
    with store.transaction() as tx:
        assert tx.list_activities(ids=[a.id for a in reversed(wanted)]) == wanted
        assert tx.list_activities(ids=[a.id for a in wanted], limit=3) == wanted[:3]


def test_iter_live_activities_streams_in_id_order(store: SqlStore) -> None:
    pid = _with_party(store)
    live = [f.activity(pid, state=s) for s in ("notified", "active") * 3]
    dead = [f.activity(pid, state=s) for s in ("ended", "cancelled")]
    with store.transaction() as tx:
        for a in live + dead:
            tx.add_activity(a)
    selects: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    with store.transaction() as tx:
        assert tx.count_live_activities() == 6
        selects.clear()
        it = tx.iter_live_activities(batch=4)
        first = next(it)
        assert len(selects) == 1  # lazily: one batch read so far
        rest = list(it)
        assert len(selects) == 2  # 4 + 2 rows
        assert [first, *rest] == sorted(live, key=lambda a: a.id)
        assert list(tx.iter_live_activities(batch=3)) == sorted(live, key=lambda a: a.id)
        with pytest.raises(ValueError, match="batch"):
            next(tx.iter_live_activities(batch=0))


def test_list_sites_filters_and_order(store: SqlStore) -> None:
    blue, red = _with_party(store, "Blue"), _with_party(store, "Red")
    b = f.site(blue, "Bakery")
    a = f.site(red, "Aid depot")
    z = f.site(blue, "Zoo", state=SiteState.WITHDRAWN)
    with store.transaction() as tx:
        for s in (z, b, a):
            tx.add_site(s)
    with store.transaction() as tx:
        assert tx.list_sites() == [a, b, z]
        assert tx.list_sites(owner=blue) == [b, z]
        assert tx.list_sites(active_only=True) == [a, b]
        assert tx.list_sites(ids=[z.id, a.id]) == [a, z]
        assert tx.list_sites(ids=[]) == []
        assert tx.list_sites(owner=blue, active_only=True, ids=[z.id, b.id]) == [b]


def test_list_parties_by_name(store: SqlStore) -> None:
    names = ["Red", "Blue", "Green"]
    for n in names:
        _with_party(store, n)
    with store.transaction() as tx:
        assert [p.name for p in tx.list_parties()] == sorted(names)


def test_conflicts_by_either_side_and_party(store: SqlStore) -> None:
    blue, red, a, b, s = _conflict_world(store)
    green = _with_party(store, "Green")
    g = f.activity(green)
    aa = f.conflict(a, b, detected_at=f.at(1))
    a_site = f.conflict(a, s, detected_at=f.at(2))
    bg = f.conflict(b, g, detected_at=f.at(3)).resolved(f.at(4))
    with store.transaction() as tx:
        tx.add_activity(g)
        for c in (bg, a_site, aa):
            tx.add_conflict(c)
    with store.transaction() as tx:
        assert tx.conflicts_of(a.id) == [aa, a_site]
        assert tx.conflicts_of(b.id) == [aa]  # b is the *other* side of aa
        assert tx.conflicts_of(b.id, open_only=False) == [aa, bg]
        assert tx.conflicts_of(s.id) == [a_site]
        assert tx.conflicts_of(g.id) == []
        assert tx.list_conflicts() == [bg, a_site, aa]  # newest first
        assert tx.list_conflicts(party=red) == [bg, a_site, aa]
        assert tx.list_conflicts(party=blue) == [a_site, aa]
        assert tx.list_conflicts(party=green) == [bg]
        assert tx.list_conflicts(party=green, open_only=True) == []
        assert tx.list_conflicts(open_only=True, limit=1) == [a_site]


def test_notices_current_only_recipient_and_order(store: SqlStore) -> None:
    blue, red, a, b, _ = _conflict_world(store)
    old = f.notice(red, a, sent_h=-3).superseded(f.at(-2))
    new = f.notice(red, a, sent_h=-2)
    to_blue = f.notice(blue, a, sent_h=-1)
    about_b = f.notice(blue, b, sent_h=-0.5)
    with store.transaction() as tx:
        for n in (to_blue, new, about_b, old):
            tx.add_notice(n)
    with store.transaction() as tx:
        assert tx.notices_of_activity(a.id) == [new, to_blue]
        assert tx.notices_of_activity(a.id, current_only=False) == [old, new, to_blue]
        assert tx.notices_of_activity(a.id, recipient=red, current_only=False) == [old, new]
        assert tx.notices_of_activity(uuid4()) == []
        assert tx.list_notices(red) == [new, old]  # newest first, superseded included
        assert tx.list_notices(blue) == [about_b, to_blue]
        assert tx.list_notices(blue, activity_id=a.id) == [to_blue]
        assert tx.list_notices(blue, limit=1) == [about_b]


def test_open_alert_notices_unanswered_and_not_final(store: SqlStore) -> None:
    blue, red, a, _, _ = _conflict_world(store)

    def alert(recipient: UUID, h: float) -> Notice:
        return f.notice(recipient, a, sent_h=h, reason="alert", alert_id=uuid4())

    waiting, seen = alert(red, -3), alert(blue, -2).delivered(f.at(-1.9), DeliveryChannel.CLIENT)
    answered = alert(blue, -1).answer(f.at(-0.5))
    gone, lapsed = alert(red, -1).superseded(f.at(-0.5)), alert(red, -1).expired(f.at(2))
    assert (lapsed.status, answered.status) == (NoticeStatus.EXPIRED, NoticeStatus.ACKNOWLEDGED)
    with store.transaction() as tx:
        for i, n in enumerate((waiting, seen, answered, gone, lapsed, f.notice(red, a))):
            tx.add_notice(n, event_seq=i + 1)
    with store.transaction() as tx:
        assert {n.id for n in tx.open_alert_notices()} == {waiting.id, seen.id}


def test_notice_stats_pairs_filters_and_durations(store: SqlStore) -> None:
    blue, red, a, b, _ = _conflict_world(store)  # a is Blue's, b is Red's; both start at T0
    late = f.notice(red, a, sent_h=-0.5, owner=blue)
    answered = f.notice(red, a, sent_h=-2, owner=blue).answer(f.at(-2) + timedelta(seconds=90.25))
    expired = f.notice(red, a, sent_h=-1, owner=blue).expired(f.at(-0.5))
    own = f.notice(blue, a, sent_h=-1, owner=blue, reason="site_conflict")  # to itself: no pair
    back = f.notice(blue, b, sent_h=-3, owner=red, reason="cancelled", insufficient=True)
    legacy = f.notice(red, a, sent_h=-4)  # no owner copy (before 0003): the activity's owner
    with store.transaction() as tx:
        for n in (late, answered, expired, own, back, legacy):
            tx.add_notice(n)

    def rows(**kw: object) -> dict[float, tuple[object, ...]]:
        with store.read() as tx:
            got = tx.notice_stats(**kw)  # type: ignore[arg-type]
        return {
            round(s.lead_time_s, 3): (
                s.sender,
                s.recipient,
                s.reason.value,
                s.status.value,
                None if s.time_to_answer_s is None else round(s.time_to_answer_s, 3),
                s.expired,
                s.insufficient,
                s.late,
            )
            for s in got
        }

    everything = rows()
    assert everything == {
        1800.0: (blue, red, "new", "queued", None, False, False, True),
        7200.0: (blue, red, "new", "acknowledged", 90.25, False, False, False),
        3600.0: (blue, red, "new", "expired", None, True, False, False),
        10800.0: (red, blue, "cancelled", "queued", None, False, True, False),
        14400.0: (blue, red, "new", "queued", None, False, False, False),
    }
    assert rows(sender=blue).keys() == {1800.0, 7200.0, 3600.0, 14400.0}
    assert rows(recipient=blue).keys() == {10800.0}
    assert rows(sender=red, recipient=red) == {}
    assert rows(since=f.at(-1)).keys() == {1800.0, 3600.0}  # [since, until)
    assert rows(until=f.at(-1)).keys() == {7200.0, 10800.0, 14400.0}
    assert rows(since=f.at(-3).astimezone(f.CET), until=f.at(-2)).keys() == {10800.0}
    with pytest.raises(InvalidInput):
        rows(since=datetime(2026, 11, 25))


def test_disclosures_filters_oldest_first(store: SqlStore) -> None:
    blue, red, a, _, s = _conflict_world(store)
    c = f.conflict(a, s)
    s2 = f.site(red, "School")
    d1 = f.disclosure(s, blue, 2, reason="conflict", conflict_id=c.id, activity_id=a.id)
    d2 = f.disclosure(s, blue, 1)
    d3 = f.disclosure(s2, red, 3)
    with store.transaction() as tx:
        tx.add_site(s2)
        tx.add_conflict(c)
        for d in (d1, d3, d2):
            tx.add_disclosure(d)
    with store.transaction() as tx:
        assert tx.list_disclosures() == [d2, d1, d3]
        assert tx.list_disclosures(site_id=s.id) == [d2, d1]
        assert tx.list_disclosures(recipient=red) == [d3]
        assert tx.list_disclosures(site_id=s.id, recipient=red) == []
        got = tx.list_disclosures(site_id=s.id)[1]
        assert (got.conflict_id, got.activity_id, got.reason) == (c.id, a.id, "conflict")
        _assert_utc(got.disclosed_at)


# -- event streams ----------------------------------------------------------------------------


def test_event_seq_is_per_party_and_gap_free(store: SqlStore) -> None:
    blue, red = _with_party(store, "Blue"), _with_party(store, "Red")
    with store.transaction() as tx:
        assert tx.last_seq(blue) == 0
        e1 = tx.append_event(blue, "notice", {"n": 1}, f.at(0).astimezone(f.CET))
        assert tx.append_event(red, "notice", {"n": 1}, f.at(0)).seq == 1
        e2 = tx.append_event(blue, "conflict.detected", {"n": 2, "ids": ["a"]}, f.at(1))
    assert (e1.seq, e2.seq) == (1, 2)
    assert e1.created_at == f.at(0)
    _assert_utc(e1.created_at)
    _rolled_back(store, lambda tx: tx.append_event(blue, "lost", {}, f.at(2)))  # seq 3 unused
    for i in range(3, 13):
        with store.transaction() as tx:
            assert tx.append_event(blue, "n", {"i": i}, f.at(i)).seq == i
    with store.transaction() as tx:
        got = tx.events_since(blue, 0)
        assert [e.seq for e in got] == list(range(1, 13))
        assert got[:2] == [e1, e2]
        assert got[1].payload == {"n": 2, "ids": ["a"]}
        assert [e.seq for e in tx.events_since(blue, 10)] == [11, 12]
        assert [e.seq for e in tx.events_since(blue, 4, limit=2)] == [5, 6]
        assert tx.events_since(blue, 12) == []
        assert tx.last_seq(blue) == 12
        assert tx.last_seq(red) == 1
        assert tx.last_seq(uuid4()) == 0


def test_append_events_batches_in_order_and_gap_free(store: SqlStore) -> None:
    blue, red = _with_party(store, "Blue"), _with_party(store, "Red")
    with store.transaction() as tx:
        tx.append_event(blue, "first", {}, f.at(0))
        got = tx.append_events(
            [(red, "a", {"i": 0}), (blue, "b", {"i": 1}), (red, "c", {"i": 2}), (blue, "d", {})],
            f.at(1),
        )
        assert tx.append_events([], f.at(1)) == []
    assert [(e.party_id, e.seq, e.type) for e in got] == [
        (red, 1, "a"),
        (blue, 2, "b"),
        (red, 2, "c"),
        (blue, 3, "d"),
    ]
    with store.transaction() as tx:
        assert [e.type for e in tx.events_since(blue, 0)] == ["first", "b", "d"]
        assert [e.payload for e in tx.events_since(red, 0)] == [{"i": 0}, {"i": 2}]
    _rolled_back(store, lambda tx: tx.append_events([(blue, "lost", {})], f.at(2)))
    with store.transaction() as tx:
        assert tx.append_event(blue, "next", {}, f.at(3)).seq == 4
    with pytest.raises(IntegrityViolation, match="no such party"), store.transaction() as tx:
        tx.append_events([(uuid4(), "x", {})], f.T0)


def test_append_event_for_unknown_party_is_an_error(store: SqlStore) -> None:
    with pytest.raises(IntegrityViolation, match="no such party"), store.transaction() as tx:
        tx.append_event(uuid4(), "x", {}, f.T0)


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> SqlStore:
    return open_store(sqlite_url(tmp_path_factory.mktemp("seq")))


# each transaction: a list of (party index, ...) appends, and whether it commits
_txs = st.lists(
    st.tuples(st.lists(st.integers(0, 2), max_size=5), st.booleans()), min_size=1, max_size=12
)


def _appender(
    party_ids: list[UUID], appends: list[int], pending: dict[UUID, list[dict[str, int]]], tag: int
) -> Callable[[SqlTransaction], None]:
    """A transaction body appending one event per entry of ``appends`` (a party index),
    recording each payload in ``pending`` and checking the seq it got."""

    def body(tx: SqlTransaction) -> None:
        for i in appends:
            pid = party_ids[i]
            payload = {"tx": tag, "n": len(pending[pid])}
            pending[pid].append(payload)
            assert tx.append_event(pid, "t", payload, f.T0).seq == len(pending[pid])

    return body


@settings(max_examples=40)
@given(txs=_txs)
def test_seq_property_random_appends_and_rollbacks(
    shared_store: SqlStore, txs: list[tuple[list[int], bool]]
) -> None:
    parties = [f.party(n) for n in ("A", "B", "C")]
    with shared_store.transaction() as tx:
        for p in parties:
            tx.add_party(p)
    expected: dict[UUID, list[dict[str, int]]] = {p.id: [] for p in parties}
    for k, (appends, commit) in enumerate(txs):
        pending = {pid: list(bodies) for pid, bodies in expected.items()}

        body = _appender([p.id for p in parties], appends, pending, tag=k)
        if commit:
            _in_tx(shared_store, body)
            expected = pending
        else:
            _rolled_back(shared_store, body)
    with shared_store.transaction() as tx:
        for pid, bodies in expected.items():
            got = tx.events_since(pid, 0)
            assert [e.seq for e in got] == list(range(1, len(bodies) + 1))
            assert [e.payload for e in got] == bodies
            assert tx.last_seq(pid) == len(bodies)


# -- idempotency ------------------------------------------------------------------------------


def test_idempotency_records(store: SqlStore) -> None:
    blue, red = _with_party(store, "Blue"), _with_party(store, "Red")
    rec = f.idem(blue)
    with store.transaction() as tx:
        assert tx.get_idempotency(blue, "k-1") is None
        tx.put_idempotency(rec)
        tx.put_idempotency(f.idem(red))  # same key, other party
    with store.transaction() as tx:
        got = tx.get_idempotency(blue, "k-1")
        assert got == rec
        assert got is not None
        assert got.result == {"status": 201, "id": "x"}
        assert tx.get_idempotency(blue, "k-2") is None
    with pytest.raises(IntegrityViolation), store.transaction() as tx:
        tx.put_idempotency(replace(rec, fingerprint="other"))
    with store.transaction() as tx:
        assert tx.get_idempotency(blue, "k-1") == rec


# -- transactions and errors ------------------------------------------------------------------


def test_exception_rolls_back_everything(store: SqlStore) -> None:
    p = f.party()
    a = f.activity(p.id)

    def body(tx: SqlTransaction) -> None:
        tx.add_party(p)
        tx.add_activity(a)
        tx.append_event(p.id, "x", {}, f.T0)
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        _in_tx(store, body)
    with store.transaction() as tx:
        assert tx.get_party(p.id) is None
        assert tx.get_activity(a.id) is None
        assert tx.get_activity_version(a.id, 1) is None
        assert tx.list_parties() == []
        assert tx.events_since(p.id, 0) == []


def test_duplicate_id_is_a_clear_error(store: SqlStore) -> None:
    p = f.party()
    with store.transaction() as tx:
        tx.add_party(p)
    with pytest.raises(IntegrityViolation, match=f"add party {p.id}") as info:
        _in_tx(store, lambda tx: tx.add_party(replace(p, name="Other")))
    assert isinstance(info.value.__cause__, sa.exc.IntegrityError)
    with store.transaction() as tx:
        assert tx.list_parties() == [p]


def test_unknown_reference_is_a_clear_error(store: SqlStore) -> None:
    with pytest.raises(IntegrityViolation, match=r"(?i)foreign key"), store.transaction() as tx:
        tx.add_activity(f.activity(uuid4()))
    pid = _with_party(store)
    with pytest.raises(IntegrityViolation), store.transaction() as tx:
        tx.add_token(f.token(uuid4()), b"x")

    def same_hash_twice(tx: SqlTransaction) -> None:
        tx.add_token(f.token(pid), b"same")
        tx.add_token(f.token(pid), b"same")  # secret hashes are unique

    with pytest.raises(IntegrityViolation):
        _in_tx(store, same_hash_twice)
    with store.transaction() as tx:
        assert tx.list_activities() == []
        assert tx.list_tokens(pid) == []


def test_a_caught_error_still_aborts_the_transaction(store: SqlStore) -> None:
    p = f.party()
    with store.transaction() as tx:
        tx.add_party(p)
    q = f.party("Q")

    def swallow(tx: SqlTransaction) -> None:
        tx.add_party(q)
        with pytest.raises(IntegrityViolation):
            tx.add_party(p)
        with pytest.raises(StoreError, match="aborted"):
            tx.list_parties()

    with pytest.raises(StoreError, match="caught and ignored"):
        _in_tx(store, swallow)
    with store.transaction() as tx:
        assert tx.get_party(q.id) is None


def test_transaction_is_unusable_after_its_block(store: SqlStore) -> None:
    with store.transaction() as tx:
        pass
    with pytest.raises(StoreError, match="ended"):
        tx.list_parties()


def test_read_only_transactions_refuse_writes(store: SqlStore) -> None:
    pid = _with_party(store)
    with store.read() as tx:
        assert isinstance(tx, SqlTransaction)
        assert tx.get_party(pid) is not None
        with pytest.raises(StoreError, match="read-only"):
            tx.add_party(f.party("Nope"))


def test_reopening_keeps_data(tmp_path: Path) -> None:
    p = f.party()
    a = f.activity(p.id)
    with open_store(sqlite_url(tmp_path)) as s1, s1.transaction() as tx:
        tx.add_party(p)
        tx.add_activity(a)
        tx.append_event(p.id, "x", {}, f.T0)
    with open_store(sqlite_url(tmp_path)) as s2, s2.transaction() as tx:
        assert tx.get_party(p.id) == p
        assert tx.get_activity(a.id) == a
        assert tx.last_seq(p.id) == 1
        assert tx.append_event(p.id, "y", {}, f.T0 + timedelta(seconds=1)).seq == 2
