"""The tactical service over a real store with a clock the test moves: alerts raised once,
updates throttled, contingent after 60 s, cleared with their unanswered notices superseded,
escalated like any notice when nobody answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from deconfliction.errors import InvalidPolicy
from deconfliction.model import (
    ActivityKind,
    EscalationLevel,
    NoticeReason,
    NoticeStatus,
    Policy,
    Track,
    TrackSource,
)
from tests.hotline.conftest import Hub, circle, draft, make_hub

HERE = (2.0, 50.0)


def _track(hub: Hub, party: Any, key: str, lon: float, lat: float, **kw: Any) -> Track:
    return Track(
        key, party.party_id, TrackSource.OWN, hub.clock.now(), lat, lon, altitude_m=500.0, **kw
    )


def _report(hub: Hub, party: Any, *tracks: Track) -> None:
    got = hub.hotline.ingest_tracks(party, list(tracks))
    assert got.rejected == ()


def _types(hub: Hub, party: Any) -> list[str]:
    return [e.type for e in hub.sink.of(party) if e.type.startswith("alert.")]


def test_non_conformance_raised_once_throttled_contingent_cleared(hub: Hub) -> None:
    h, clock = hub.hotline, hub.clock
    blue = hub.party("Blue")
    act = h.file(blue, draft(circle(*HERE, start_min=-5, hours=2))).activity
    out_lon = HERE[0] + 0.3  # ~21 km east: outside the 10 km circle and its tolerance

    def report(lon: float) -> None:
        _report(hub, blue, _track(hub, blue, "HELO-1", lon, HERE[1], activity_id=act.id))

    report(HERE[0])
    assert h.tactical_tick().raised == 0  # inside: conforming
    clock.advance(seconds=1)
    report(out_lon)
    tick = h.tactical_tick()
    assert (tick.tracks, tick.raised) == (1, 1)
    (alert,) = h.open_alerts(blue)
    assert (alert["kind"], alert["activity_id"], alert["contingent"]) == (
        "non_conforming",
        str(act.id),
        False,
    )
    for _ in range(5):  # still outside, figures moving: told at most every 10 s
        clock.advance(seconds=1)
        report(out_lon + 0.001 * clock.t.second)
        h.tactical_tick()
    assert _types(hub, blue) == ["alert.raised"]
    clock.advance(seconds=6)
    report(out_lon + 0.01)
    h.tactical_tick()
    assert _types(hub, blue) == ["alert.raised", "alert.updated"]
    for _ in range(6):  # past 60 s outside: contingent, told once
        clock.advance(seconds=10)
        report(out_lon)
        h.tactical_tick()
    assert _types(hub, blue).count("alert.contingent") == 1
    assert h.open_alerts(blue)[0]["contingent"] is True
    clock.advance(seconds=1)
    report(HERE[0])  # back inside
    assert h.tactical_tick().cleared == 1
    assert h.open_alerts(blue) == []
    assert _types(hub, blue)[-1] == "alert.cleared"
    # its notice (unanswered) was superseded with the clearing
    (n,) = [x for x in h.list_notices(blue) if x.reason is NoticeReason.ALERT]
    assert n.status is NoticeStatus.SUPERSEDED


def test_an_unanswered_alert_climbs_the_ladder(hub: Hub) -> None:
    h, clock = hub.hotline, hub.clock
    blue, green = hub.party("Blue"), hub.party("Green")
    h.set_escalation(hub.admin, green.party_id, [EscalationLevel("watch commander", 120.0)])
    h.file(blue, draft(circle(*HERE, start_min=-5, hours=2)))
    _report(hub, green, _track(hub, green, "G1", *HERE))  # inside Blue's area
    assert h.tactical_tick().raised == 1
    mine = [x for x in h.list_notices(green) if x.reason is NoticeReason.ALERT]
    (n,) = mine
    assert n.deadline == clock.now() + timedelta(seconds=120)  # tracks.alert_deadline_s
    clock.advance(seconds=121)
    _report(hub, green, _track(hub, green, "G1", *HERE))  # still inside: still open
    h.tactical_tick()
    changed = {x.recipient: x for x in h.expire_due()}
    assert changed[green.party_id].level == 1  # up Green's ladder
    assert [e["name"] for e in changed[green.party_id].escalations] == ["watch commander"]
    assert changed[blue.party_id].status is NoticeStatus.EXPIRED  # Blue has no ladder


def test_stale_tracks_leave_the_picture_and_clear_their_alerts(hub: Hub) -> None:
    h, clock = hub.hotline, hub.clock
    blue, green = hub.party("Blue"), hub.party("Green")
    h.file(blue, draft(circle(*HERE, start_min=-5, hours=2)))
    _report(hub, green, _track(hub, green, "G1", *HERE))
    assert h.tactical_tick().raised == 1
    clock.advance(seconds=31)  # tracks.stale_after_s = 30: no report since
    tick = h.tactical_tick()
    assert (tick.tracks, tick.cleared) == (0, 1)
    assert h.live_tracks(green) == []


def test_tracks_without_altitude_or_on_the_ground_are_left_out(hub: Hub) -> None:
    h = hub.hotline
    blue, green = hub.party("Blue"), hub.party("Green")
    h.file(blue, draft(circle(*HERE, start_min=-5, hours=2)))
    t0: datetime = hub.clock.now()
    _report(
        hub,
        green,
        Track("NOALT", green.party_id, TrackSource.OWN, t0, HERE[1], HERE[0]),
        _track(hub, green, "TAXI", *HERE, on_ground=True),
    )
    assert (h.tactical_tick().tracks, len(h.live_tracks(green))) == (0, 2)


def test_a_volume_that_opens_later_is_watched_once_it_comes_near(hub: Hub) -> None:
    """Blue's area opens in 30 minutes, beyond the engine's horizon: nothing now; with no
    change to the index, time alone brings it in (the volume set follows the hub clock)."""
    h, clock = hub.hotline, hub.clock
    blue, green = hub.party("Blue"), hub.party("Green")
    h.file(blue, draft(circle(*HERE, start_min=30, hours=2)))
    _report(hub, green, _track(hub, green, "G1", *HERE))
    assert h.tactical_tick().raised == 0
    clock.advance(minutes=29)
    _report(hub, green, _track(hub, green, "G1", *HERE))
    tick = h.tactical_tick()
    assert (tick.volumes, tick.raised) == (1, 1)  # opens in 60 s: within the look-ahead
    (a,) = h.open_alerts(green)
    assert a["kind"] == "incursion"
    assert 55 <= a["time_to_s"] <= 61


def test_separation_follows_the_kinds_the_tracks_fly_for(hub: Hub) -> None:
    """Two UAS flying for UAS operations 2 km apart: within 5 NM, but not within the UAS
    operation's 1 NM — no alert; an unlinked aircraft at the same distance: an alert (the
    mixed pair takes the larger minima)."""
    h = hub.hotline
    blue, green = hub.party("Blue"), hub.party("Green")
    uas = ActivityKind.UAS_OPERATION
    near = circle(*HERE, r=10_000.0, start_min=-5, hours=2, hi_ft=2_000)
    b_op = h.file(blue, draft(near, kind=uas)).activity
    g_op = h.file(green, draft(near, kind=uas)).activity
    east = HERE[0] + 2_000 / 71_500  # ~2 km east at 50°N
    _report(hub, blue, _track(hub, blue, "B-UAS", *HERE, activity_id=b_op.id))
    _report(hub, green, _track(hub, green, "G-UAS", east, HERE[1], activity_id=g_op.id))
    h.tactical_tick()
    assert [a for a in h.open_alerts(blue) if a["kind"] == "proximity"] == []
    hub.clock.advance(seconds=1)
    _report(hub, green, _track(hub, green, "G-AC", east, HERE[1]))  # unlinked: 5 NM
    h.tactical_tick()
    (a,) = [a for a in h.open_alerts(blue) if a["kind"] == "proximity"]
    assert {t["key"] for t in a["tracks"]} == {"B-UAS", "G-AC"}


def test_a_very_fast_track_does_not_stop_the_cycle(tmp_path: Any) -> None:
    """Mach 3 over a 10-minute look-ahead reaches 600 km: the volume set is sized for the
    fastest report the hub takes, so the cycle runs (it would refuse a longer reach)."""
    from tests.hotline.conftest import make_hub

    hub = make_hub(tmp_path, Policy.from_toml("[tracks]\nlookahead_s = 600\n"))
    h = hub.hotline
    blue, green = hub.party("Blue"), hub.party("Green")
    h.file(blue, draft(circle(*HERE, start_min=-5, hours=2)))
    west = HERE[0] - 0.5
    fast = _track(hub, green, "MACH3", west, HERE[1], ground_speed_mps=1_000.0, track_deg=90.0)
    _report(hub, green, fast)
    tick = h.tactical_tick()
    assert tick.raised == 1
    assert h.open_alerts(green)[0]["kind"] == "incursion"


def test_the_look_ahead_comes_from_the_policy(tmp_path: Any) -> None:
    from tests.hotline.conftest import make_hub

    policy = Policy.from_toml("[tracks]\nlookahead_s = 30\n")
    hub = make_hub(tmp_path, policy)
    h = hub.hotline
    blue, green = hub.party("Blue"), hub.party("Green")
    h.file(blue, draft(circle(*HERE, start_min=-5, hours=2)))
    west = HERE[0] - 10_000 / 71_500  # ~10 km west of the centre, 8 km from the edge
    _report(
        hub, green, _track(hub, green, "G1", west, HERE[1], ground_speed_mps=100.0, track_deg=90.0)
    )
    assert h.tactical_tick().raised == 0  # 80 s away: beyond 30 s
    hub.clock.advance(seconds=60)
    _report(
        hub,
        green,
        _track(
            hub, green, "G1", west + 6_000 / 71_500, HERE[1], ground_speed_mps=100.0, track_deg=90.0
        ),
    )
    assert h.tactical_tick().raised == 1  # 20 s away
    with pytest.raises(InvalidPolicy):
        Policy.from_toml("[tracks]\nlookahead_s = 900\n")


def test_a_restart_supersedes_the_notices_of_the_alerts_it_forgot(tmp_path: Path) -> None:
    """Alerts live in memory: the alerts open when the hub stopped (or was killed) are
    never cleared by the next run, so their unanswered notices would climb the ladder for
    a situation nobody follows. The first cycle of the next run supersedes them (and tells
    the recipients); an answered one stays as it was; a current situation is raised anew."""
    hub = make_hub(tmp_path)
    h = hub.hotline
    blue, green = hub.party("Blue"), hub.party("Green")
    h.file(blue, draft(circle(*HERE, start_min=-5, hours=2)))
    _report(hub, green, _track(hub, green, "G1", *HERE))  # inside Blue's area
    assert h.tactical_tick().raised == 1
    first = [x for x in h.list_notices(blue) + h.list_notices(green) if x.alert_id]
    assert len(first) == 2
    h.acknowledge(blue, next(x.id for x in first if x.recipient == blue.party_id))
    h.store.close()  # the hub stops with the alert open

    again = make_hub(tmp_path, admin_secret=hub.admin_secret)
    again.clock.t = hub.clock.t + timedelta(seconds=5)
    h2 = again.hotline
    assert h2.tactical_tick().raised == 0  # no track yet: nothing to detect
    by_id = {x.id: x for x in h2.list_notices(blue) + h2.list_notices(green)}
    got = {x.recipient: by_id[x.id].status for x in first}
    assert got == {
        blue.party_id: NoticeStatus.ACKNOWLEDGED,  # answered: kept
        green.party_id: NoticeStatus.SUPERSEDED,  # would have climbed Green's ladder
    }
    told = [e for e in again.sink.events if e.type == "notice.superseded"]
    assert [e.party_id for e in told] == [green.party_id]
    assert h2.tactical_tick().raised == 0  # done once: the next cycle writes nothing
    assert [e for e in again.sink.events if e.type == "notice.superseded"] == told
    _report(again, green, _track(again, green, "G1", *HERE))  # the situation still holds
    assert h2.tactical_tick().raised == 1
    h2.store.close()


def test_a_node_among_several_leaves_the_open_alerts_of_the_others(tmp_path: Path) -> None:
    """With several nodes on one store each engine holds its own alerts: a node that starts
    must not take the others' open alerts for orphans."""
    hub = make_hub(tmp_path)
    blue, green = hub.party("Blue"), hub.party("Green")
    hub.hotline.file(blue, draft(circle(*HERE, start_min=-5, hours=2)))
    _report(hub, green, _track(hub, green, "G1", *HERE))
    assert hub.hotline.tactical_tick().raised == 1  # the first node's alert, open
    other = make_hub(tmp_path, admin_secret=hub.admin_secret)
    other.hotline.sole_tactical_node = False
    other.hotline.tactical_tick()
    statuses = {x.status for x in other.hotline.list_notices(green) if x.alert_id}
    assert statuses == {NoticeStatus.QUEUED}
    other.hotline.store.close()
    hub.hotline.store.close()
