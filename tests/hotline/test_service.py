"""The hotline services over a real SQLite store: notices, conflicts, versions, need-to-know."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from deconfliction.errors import (
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    Unauthorized,
    VersionConflict,
)
from deconfliction.geo import Circle, TimeWindow
from deconfliction.hotline import Idempotency
from deconfliction.model import (
    ActivityKind,
    ActivityState,
    ConflictStatus,
    NoticeReason,
    NoticeStatus,
    PartyKind,
    ProtectedSite,
    Role,
)
from tests.hotline.conftest import T0, Hub, circle, draft, make_hub, square


def site(lon: float, lat: float, r: float = 150.0, buffer_m: float = 500.0) -> ProtectedSite:
    return ProtectedSite(
        uuid4(),
        uuid4(),
        "medical",
        "Hôpital Nord",
        Circle((lon, lat), r),
        TimeWindow(T0, T0 + timedelta(days=90)),
        T0,
        T0,
        buffer_m=buffer_m,
        remarks="generator on the roof",
    )


def test_filing_notifies_each_affected_party_once_with_its_lead_time(hub: Hub) -> None:
    blue, red, green = (
        hub.party("Blue"),
        hub.party("Red"),
        hub.party("Green", PartyKind.HUMANITARIAN),
    )
    r1 = hub.hotline.file(red, draft(circle(2.30, 49.90), circle(2.31, 49.91)))
    hub.hotline.file(green, draft(circle(2.70, 49.90), kind=ActivityKind.GROUND_MOVEMENT))
    assert r1.notices == ()  # nobody else there yet
    hub.clock.advance(minutes=1)
    r = hub.hotline.file(blue, draft(circle(2.30, 49.90, 5_000), circle(2.32, 49.91)))
    assert [c.other_owner for c in r.conflicts] == [red.party_id]
    (n,) = r.notices
    assert n.recipient == red.party_id
    assert n.reason is NoticeReason.NEW
    assert n.lead_time_s == pytest.approx(119 * 60)
    assert not n.late
    assert not r.late
    assert n.sent_at == hub.clock.now()
    # Red's stream got the notice, with Blue's activity but not its remarks.
    (ev,) = hub.sink.of(red, "notice")
    assert ev.payload["notice"]["id"] == str(n.id)
    assert "remarks" not in ev.payload["activity"]
    assert hub.sink.of(green, "notice") == []
    # Both overlapping volume pairs are recorded on the one conflict.
    assert {(o.volume, o.other_volume) for o in r.conflicts[0].overlaps} >= {(0, 0), (1, 1)}


def test_a_late_filing_is_accepted_and_flagged_on_every_notice(hub: Hub) -> None:
    blue, red, civil = (
        hub.party("Blue"),
        hub.party("Red"),
        hub.party("Civil", PartyKind.AIR_NAVIGATION_SERVICE),
    )
    hub.hotline.file(blue, draft(circle(2.0, 50.0, start_min=5)))
    hub.hotline.file(civil, draft(circle(2.01, 50.0, start_min=5), kind=ActivityKind.FLIGHT))
    r = hub.hotline.file(red, draft(circle(2.0, 50.0, start_min=1)))
    assert r.late
    assert r.lead_time_s == 60.0
    assert r.required_lead_time_s == 3600.0
    assert len(r.notices) == 2
    assert all(n.late and n.lead_time_s == 60.0 for n in r.notices)


def test_amending_away_resolves_and_supersedes(hub: Hub) -> None:
    blue, red = hub.party("Blue"), hub.party("Red")
    hub.hotline.file(red, draft(circle(2.0, 50.0)))
    r = hub.hotline.file(
        blue,
        draft(circle(2.0, 50.01)),
    )
    (old_notice,) = r.notices
    a = r.activity
    with pytest.raises(VersionConflict):
        hub.hotline.amend(blue, a.id, a.version + 1, draft(circle(3.0, 50.0)))
    hub.clock.advance(minutes=5)
    r2 = hub.hotline.amend(blue, a.id, a.version, draft(circle(3.0, 50.0)))
    assert r2.activity.version == 2
    assert r2.conflicts == ()
    (bye,) = r2.notices
    assert bye.recipient == red.party_id
    assert bye.reason is NoticeReason.NO_LONGER_AFFECTED
    conflicts = hub.hotline.list_conflicts(blue)
    assert [c.status for c in conflicts] == [ConflictStatus.RESOLVED]
    assert conflicts[0].resolved_at == hub.clock.now()
    notices = {n.id: n for n in hub.hotline.list_notices(red)}
    assert notices[old_notice.id].status is NoticeStatus.SUPERSEDED
    assert [e.type for e in hub.sink.of(red)][-2:] == [
        "notice.superseded",
        "conflict.resolved",
    ] or "notice.superseded" in [e.type for e in hub.sink.of(red)]
    # Red no longer sees Blue's activity (need-to-know), but keeps its notices.
    with pytest.raises(NotFound):
        hub.hotline.get_activity(red, a.id)
    # Moving back makes it NEW again for Red.
    r3 = hub.hotline.amend(blue, a.id, 2, draft(circle(2.0, 50.01)))
    assert [n.reason for n in r3.notices] == [NoticeReason.NEW]


def test_amending_while_still_affecting_sends_amended(hub: Hub) -> None:
    blue, red = hub.party("Blue"), hub.party("Red")
    hub.hotline.file(red, draft(circle(2.0, 50.0)))
    a = hub.hotline.file(blue, draft(circle(2.0, 50.01))).activity
    r = hub.hotline.amend(blue, a.id, 1, draft(circle(2.0, 50.02)))
    assert [n.reason for n in r.notices] == [NoticeReason.AMENDED]
    assert len(hub.hotline.list_conflicts(red, open_only=True)) == 1


def test_state_changes_tell_the_affected_and_end_resolves(hub: Hub) -> None:
    blue, red = hub.party("Blue"), hub.party("Red")
    hub.hotline.file(red, draft(circle(2.0, 50.0)))
    a = hub.hotline.file(blue, draft(circle(2.0, 50.01))).activity
    r = hub.hotline.activate(blue, a.id, 1)
    assert [n.reason for n in r.notices] == [NoticeReason.ACTIVATED]
    with pytest.raises(InvalidTransition):
        hub.hotline.activate(blue, a.id, 2)
    r = hub.hotline.end(blue, a.id, 2)
    assert [n.reason for n in r.notices] == [NoticeReason.ENDED]
    assert [c.status for c in r.conflicts] == [ConflictStatus.RESOLVED]
    # Ended activities leave the index: a new filing there meets only Red.
    r = hub.hotline.file(hub.party("Green"), draft(circle(2.0, 50.0)))
    assert {c.other_owner for c in r.conflicts} == {red.party_id}
    with pytest.raises(InvalidTransition):
        hub.hotline.amend(blue, a.id, 3, draft(circle(2.0, 50.0)))


def test_cancel_from_notified(hub: Hub) -> None:
    blue, red = hub.party("Blue"), hub.party("Red")
    hub.hotline.file(red, draft(circle(2.0, 50.0)))
    a = hub.hotline.file(blue, draft(circle(2.0, 50.01))).activity
    r = hub.hotline.cancel(blue, a.id, 1)
    assert [n.reason for n in r.notices] == [NoticeReason.CANCELLED]
    assert hub.hotline.list_conflicts(red, open_only=True) == []


def test_activity_crossing_a_site_discloses_it_and_records_that(hub: Hub) -> None:
    green, blue = hub.party("Green", PartyKind.HUMANITARIAN), hub.party("Blue")
    s = hub.hotline.register_site(green, site(2.35, 49.0)).site
    assert hub.hotline.get_site(green, s.id) == (s, True)
    with pytest.raises(NotFound):  # Blue does not know it exists
        hub.hotline.get_site(blue, s.id)
    r = hub.hotline.file(blue, draft(circle(2.36, 49.0, 1_000)))
    (c,) = r.conflicts
    assert (c.other_id, c.other_owner) == (s.id, green.party_id)
    assert [n.recipient for n in r.notices] == [green.party_id]
    (ev,) = hub.sink.of(blue, "conflict.detected")
    assert ev.payload["site"]["category"] == "medical"
    assert "name" not in ev.payload["site"]
    assert "remarks" not in ev.payload["site"]
    _seen, full = hub.hotline.get_site(blue, s.id)
    assert not full
    with hub.hotline.store.read() as tx:
        (d,) = tx.list_disclosures(site_id=s.id)
    assert (d.recipient, d.conflict_id, d.reason) == (blue.party_id, c.id, "conflict")
    # Green sees Blue's activity while it affects the site.
    act, full = hub.hotline.get_activity(green, r.activity.id)
    assert not full
    assert act.remarks == ""


def test_a_site_buffer_counts_and_a_new_site_tells_the_activity_owner(hub: Hub) -> None:
    green, blue = hub.party("Green", PartyKind.HUMANITARIAN), hub.party("Blue")
    # 1.0 km between circle edges; Blue's kind buffer is 5 NM, so it conflicts anyway:
    # use a UAS operation (1 NM buffer) 3 km away and a site buffer of 2 km.
    a = hub.hotline.file(
        blue, draft(circle(2.0, 49.0, 500), kind=ActivityKind.UAS_OPERATION)
    ).activity
    far = site(2.0 + 0.0685, 49.0, r=100, buffer_m=0)  # ~5 km centre to centre
    r = hub.hotline.register_site(green, far)
    assert r.conflicts == ()
    near = replace(far, buffer_m=3_000)
    r = hub.hotline.amend_site(green, r.site.id, 1, near)
    (c,) = r.conflicts
    assert c.activity_id == a.id
    (n,) = r.notices
    assert (n.recipient, n.reason) == (blue.party_id, NoticeReason.SITE_CONFLICT)
    w = hub.hotline.withdraw_site(green, r.site.id, 2)
    assert [x.status for x in w.conflicts] == [ConflictStatus.RESOLVED]
    with pytest.raises(NotFound):
        hub.hotline.get_site(blue, r.site.id)


def test_pair_buffers_are_symmetric_whoever_files_last(tmp_path: Path) -> None:
    # Two UAS operations 2 NM apart: below the 5 NM of other kinds, above UAS' 1 NM.
    def run(first: ActivityKind, second: ActivityKind, sub: str) -> int:
        (tmp_path / sub).mkdir()
        hub = make_hub(tmp_path / sub)
        a, b = hub.party("A"), hub.party("B")
        hub.hotline.file(a, draft(circle(2.0, 49.0, 100), kind=first))
        r = hub.hotline.file(b, draft(circle(2.0 + 0.0508, 49.0, 100), kind=second))  # ~3.7 km
        hub.hotline.store.close()
        return len(r.conflicts)

    uas, flight = ActivityKind.UAS_OPERATION, ActivityKind.FLIGHT
    assert run(uas, uas, "1") == 0
    assert run(uas, flight, "2") == 1
    assert run(flight, uas, "3") == 1


def test_idempotent_retries(hub: Hub) -> None:
    blue, red = hub.party("Blue"), hub.party("Red")
    hub.hotline.file(red, draft(circle(2.0, 50.0)))
    key = Idempotency("k1", "fp1")
    r1 = hub.hotline.file(blue, draft(circle(2.0, 50.01)), idempotency=key)
    n_events = len(hub.sink.events)
    r2 = hub.hotline.file(blue, draft(circle(2.0, 50.01)), idempotency=key)
    assert r2.replayed
    assert not r1.replayed
    assert r2.activity == r1.activity
    assert [n.id for n in r2.notices] == [n.id for n in r1.notices]
    assert len(hub.sink.events) == n_events
    assert len(hub.hotline.list_activities(blue, scope="mine")) == 1
    with pytest.raises(IdempotencyConflict):
        hub.hotline.file(blue, draft(circle(2.0, 50.2)), idempotency=Idempotency("k1", "fp2"))
    # Keys are per party.
    r3 = hub.hotline.file(red, draft(circle(3.0, 50.0)), idempotency=key)
    assert not r3.replayed


def test_roles_and_tokens(hub: Hub) -> None:
    blue = hub.party("Blue")
    watcher = hub.hotline.create_token(hub.admin, blue.party_id, Role.OBSERVER)[1]
    obs = hub.hotline.authenticate(watcher)
    with pytest.raises(Forbidden):
        hub.hotline.file(obs, draft(circle(2.0, 50.0)))
    with pytest.raises(Forbidden):
        hub.hotline.add_party(blue, "Mallory", PartyKind.OTHER)
    assert hub.hotline.list_activities(obs) == []
    info, secret = hub.hotline.create_token(hub.admin, blue.party_id, Role.OPERATOR, "ops room")
    assert secret.startswith(info.prefix)
    assert info.label == "ops room"
    hub.hotline.revoke_token(hub.admin, info.id)
    with pytest.raises(Unauthorized):
        hub.hotline.authenticate(secret)
    with pytest.raises(Unauthorized):
        hub.hotline.authenticate("dh_" + "x" * 43)
    with pytest.raises(InvalidInput):
        hub.hotline.add_party(hub.admin, "blue", PartyKind.OTHER)  # names are unique, any case


def test_others_cannot_change_or_see_what_does_not_affect_them(hub: Hub) -> None:
    blue, red, green = hub.party("Blue"), hub.party("Red"), hub.party("Green")
    hub.hotline.file(red, draft(circle(2.0, 50.0)))
    a = hub.hotline.file(blue, draft(circle(2.0, 50.01), remarks="secret")).activity
    with pytest.raises(Forbidden):  # Red sees it (affected) but may not change it
        hub.hotline.cancel(red, a.id, 1)
    with pytest.raises(NotFound):  # Green is not affected: it does not exist for Green
        hub.hotline.cancel(green, a.id, 1)
    with pytest.raises(NotFound):
        hub.hotline.get_activity(green, a.id)
    seen, full = hub.hotline.get_activity(red, a.id)
    assert not full
    assert seen.remarks == ""
    assert [x.id for x, _ in hub.hotline.list_activities(red, scope="affecting")] == [a.id]
    assert hub.hotline.list_activities(green, scope="affecting") == []
    with pytest.raises(NotFound):
        hub.hotline.activity_notices(red, a.id)


def test_dry_run_stores_nothing_but_site_disclosures(hub: Hub) -> None:
    green, blue, red = hub.party("Green"), hub.party("Blue"), hub.party("Red")
    s = hub.hotline.register_site(green, site(2.35, 49.0)).site
    hub.hotline.file(red, draft(circle(2.35, 49.05)))
    before = len(hub.sink.events)
    r = hub.hotline.check(blue, draft(circle(2.35, 49.02, 5_000, start_min=10)))
    assert {c.other_type for c in r.conflicts} == {"site", "activity"}
    assert r.late
    assert r.lead_time_s == 600.0
    assert [x.id for x in r.disclosed_sites] == [s.id]
    assert len(hub.sink.events) == before
    assert hub.hotline.list_activities(blue) == []
    with hub.hotline.store.read() as tx:
        assert [d.reason for d in tx.list_disclosures(site_id=s.id, recipient=blue.party_id)] == [
            "dry_run"
        ]


def test_limits_refuse_oversized_areas_with_the_field(hub: Hub) -> None:
    blue = hub.party("Blue")
    with pytest.raises(InvalidInput) as e:
        hub.hotline.file(blue, draft(circle(2.0, 50.0), square(2.0, 50.0, d=1.0)))
    assert e.value.field.startswith("volumes[1].")
    assert hub.hotline.list_activities(blue) == []


def test_concurrent_conflicting_filings_always_see_each_other(hub: Hub) -> None:
    parties = [hub.party(f"P{i}") for i in range(6)]
    barrier = threading.Barrier(len(parties))
    errors: list[BaseException] = []

    def go(p: object) -> None:
        try:
            barrier.wait()
            hub.hotline.file(p, draft(circle(2.0, 50.0)))  # type: ignore[arg-type]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(p,)) for p in parties]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    conflicts = hub.hotline.list_conflicts(parties[0])
    # Every pair of the six filings is one conflict: 5 involve P0; 15 in all.
    assert len(conflicts) == 5
    assert sum(len(hub.hotline.list_conflicts(p)) for p in parties) == 2 * 15


def test_restart_rebuilds_the_index_from_the_store(tmp_path: Path) -> None:
    hub = make_hub(tmp_path)
    blue, red = hub.party("Blue"), hub.party("Red")
    hub.hotline.file(red, draft(circle(2.0, 50.0), square(3.0, 50.0)))
    ended = hub.hotline.file(red, draft(circle(4.0, 50.0))).activity
    hub.hotline.cancel(red, ended.id, 1)
    secret = hub.admin_secret
    hub.hotline.store.close()
    hub2 = make_hub(tmp_path, admin_secret=secret)
    assert hub2.hotline.index.volume_count == 2  # the cancelled one is not loaded
    r = hub2.hotline.file(blue, draft(circle(3.0, 50.0), circle(4.0, 50.0)))
    assert [c.other_owner for c in r.conflicts] == [red.party_id]
    assert r.conflicts[0].overlaps[0].volume == 0
    hub2.hotline.store.close()


def test_event_seqs_are_gap_free_per_party(hub: Hub) -> None:
    blue, red = hub.party("Blue"), hub.party("Red")
    for i in range(5):
        hub.hotline.file(red, draft(circle(2.0, 50.0 + i * 0.001)))
        hub.hotline.file(blue, draft(circle(2.0, 50.0 + i * 0.001)))
    for p in (blue, red):
        seqs = [e.seq for e in hub.hotline.events_since(p, 0)]
        assert seqs == list(range(1, len(seqs) + 1))
        assert [e.seq for e in hub.sink.of(p)] == seqs
        assert [e.seq for e in hub.hotline.events_since(p, 3)] == seqs[3:]


def test_group_commit_batches_concurrent_writes_and_isolates_failures(hub: Hub) -> None:
    import sqlalchemy as sa

    parties = [hub.party(f"G{i}") for i in range(12)]
    commits: list[int] = []
    engine = hub.hotline.store.engine  # type: ignore[attr-defined]
    sa.event.listen(engine, "commit", lambda conn: commits.append(1))
    barrier = threading.Barrier(len(parties))
    outcomes: dict[int, object] = {}

    def go(i: int) -> None:
        barrier.wait()
        try:
            # every third one is invalid (empty title): it must fail alone
            title = "" if i % 3 == 0 else f"op {i}"
            outcomes[i] = hub.hotline.file(parties[i], draft(circle(2.0, 50.0), title=title))
        except InvalidInput as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(parties))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = {i for i, o in outcomes.items() if isinstance(o, InvalidInput)}
    assert failed == {0, 3, 6, 9}
    assert all(o.field == "title" for i, o in outcomes.items() if i in failed)  # type: ignore[attr-defined]
    filed = [o for i, o in outcomes.items() if i not in failed]
    assert len(filed) == 8
    assert len(commits) < len(parties)  # several writes shared a commit
    # every pair of the 8 filings conflicts: each sees all 7 others, none was lost
    for i in set(range(12)) - failed:
        assert len(hub.hotline.list_conflicts(parties[i])) == 7
    stored = [a for p in parties for a, _ in hub.hotline.list_activities(p, scope="mine")]
    assert len(stored) == 8


def test_a_failed_commit_loses_no_other_write_and_leaves_the_index_true(hub: Hub) -> None:
    """A write whose transaction cannot commit (a deferred foreign-key violation, checked by
    SQLite only at COMMIT) fails alone; the writes batched with it are retried and stored."""
    import sqlalchemy as sa

    blue, red = hub.party("Blue"), hub.party("Red")
    barrier = threading.Barrier(3)
    results: dict[str, object] = {}

    def poison(tx: object, now: object, events: object, after: object) -> None:
        conn = tx._conn  # type: ignore[attr-defined]
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        conn.execute(
            sa.text(
                "INSERT INTO conflicts (id, kind, activity_id, activity_owner, activity_version,"
                " other_id, other_owner, other_version, overlaps, detected_at, updated_at, status)"
                " VALUES (:id, 'activity_activity', :a, :o, 1, :a, :o, 1, '[]', :t, :t, 'open')"
            ),
            {"id": uuid4().hex, "a": uuid4().hex, "o": uuid4().hex, "t": "2026-01-01 00:00:00"},
        )

    def go(name: str) -> None:
        barrier.wait()
        try:
            if name == "poison":
                hub.hotline._submit(poison)  # type: ignore[arg-type]
                results[name] = "stored"
            else:
                p = blue if name == "blue" else red
                results[name] = hub.hotline.file(p, draft(circle(2.0, 50.0)))
        except Exception as exc:
            results[name] = exc

    threads = [threading.Thread(target=go, args=(n,)) for n in ("blue", "poison", "red")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert isinstance(results["poison"], Exception)
    assert "FOREIGN KEY" in str(results["poison"]), results["poison"]
    assert not isinstance(results["blue"], Exception)
    assert not isinstance(results["red"], Exception)
    # both filings are stored and see each other; the index agrees with the store
    (c,) = hub.hotline.list_conflicts(blue)
    assert c.parties == (c.activity_owner, c.other_owner)
    assert {c.activity_owner, c.other_owner} == {blue.party_id, red.party_id}
    assert hub.hotline.index.volume_count == 2
    r = hub.hotline.file(hub.party("Green"), draft(circle(2.0, 50.0)))
    assert {x.other_owner for x in r.conflicts} == {blue.party_id, red.party_id}


def test_filing_or_amending_and_activating_is_one_write(hub: Hub) -> None:
    """``activate=True`` files (or amends) and activates in one transaction: the result is
    the active version, a replay gives it back, and a failure anywhere stores nothing."""
    blue, red = hub.party("Blue"), hub.party("Red")
    hub.hotline.file(red, draft(circle(2.0, 50.0)))
    idem = Idempotency("fly-1", "f" * 64)
    r = hub.hotline.file(blue, draft(circle(2.0, 50.0)), activate=True, idempotency=idem)
    assert r.activity.state is ActivityState.ACTIVE
    assert r.activity.version == 2
    assert r.conflicts  # the activation still lists what it meets
    again = hub.hotline.file(blue, draft(circle(2.0, 50.0)), activate=True, idempotency=idem)
    assert again.replayed
    assert (again.activity.id, again.activity.version) == (r.activity.id, 2)
    kinds = [e.type for e in hub.sink.of(red)]
    assert "notice" in kinds
    moved = hub.hotline.amend(blue, r.activity.id, 2, draft(circle(2.01, 50.0)), activate=True)
    assert (moved.activity.state, moved.activity.version) == (ActivityState.ACTIVE, 3)

    def refuse(_tx: object, _a: object) -> None:
        raise InvalidInput("why", "refused inside the write")

    before = len(hub.hotline.list_activities(blue))
    with pytest.raises(InvalidInput):
        hub.hotline.file(blue, draft(circle(3.0, 50.0)), activate=True, within=refuse)
    assert len(hub.hotline.list_activities(blue)) == before
    fresh = hub.hotline.file(blue, draft(circle(4.0, 50.0))).activity
    with pytest.raises(InvalidInput):
        hub.hotline.amend(blue, fresh.id, 1, draft(circle(4.1, 50.0)), activate=True, within=refuse)
    got, _ = hub.hotline.get_activity(blue, fresh.id)
    assert (got.version, got.state) == (1, ActivityState.NOTIFIED)
