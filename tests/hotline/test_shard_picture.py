"""The sharded tactical picture against a one-node oracle: tracks posted to random nodes,
routed by shard cell, judged by each node for the cells it owns — every alert the whole
picture holds is reported, and by exactly one node; while membership changes, by at least
one. The exchange here is an in-memory router with NATS's semantics (a report reaches
every node subscribed to its cell); the real one is tested in tests/bus and
tests/api/test_tactical_nodes.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.detect import (
    ActivityVolumes,
    Alert,
    ProximityRules,
    Separation,
    ShardGrid,
    TacticalConfig,
    TrackSet,
    VolumeSet,
    alert_cell,
    owner,
    tactical_cycle,
)
from deconfliction.geo import AltitudeBand, Circle, TimeWindow, Volume4D
from deconfliction.geo._geodesy import GEOD
from deconfliction.hotline._shard_picture import ShardedPicture, keep_s, shard_margin_m
from deconfliction.model import Track, TrackPolicy
from tests.hotline._exchange import Link, Router

NOW = 1_800_000_000.0
POLICY = TrackPolicy()
SEP = Separation()
MARGIN = shard_margin_m(SEP.horizontal_m, POLICY)
GRID = ShardGrid(500.0)
KEEP = keep_s(POLICY)
PARTIES = [UUID(int=k + 1) for k in range(4)]


def trackset(tracks: Sequence[Track]) -> TrackSet:
    return TrackSet.from_columns(
        ids=[t.ident for t in tracks],
        party=[t.party for t in tracks],
        lat=[t.lat for t in tracks],
        lon=[t.lon for t in tracks],
        alt_m=[t.altitude_m or 0.0 for t in tracks],
        gs_mps=[t.ground_speed_mps or 0.0 for t in tracks],
        trk_deg=[t.track_deg or 0.0 for t in tracks],
        vs_mps=[0.0] * len(tracks),
        time_s=[t.time.timestamp() for t in tracks],
    )


CFG = TacticalConfig(lookahead_s=POLICY.lookahead_s, proximity=ProximityRules(SEP, {}))


def judge(tracks: Sequence[Track], volumes: VolumeSet, now: float = NOW) -> list[Alert]:
    return tactical_cycle(trackset(tracks), volumes, now, CFG).alerts()


def node_alerts(pic: ShardedPicture, volumes: VolumeSet, now: float = NOW) -> set[Hashable]:
    """What one node reports: its cycle over its tracks, kept when it watches the cell."""
    watched = pic.refresh(now, KEEP)
    assert watched is not None
    tracks = pic.tracks(now - POLICY.stale_after_s)
    if not tracks:
        return set()
    ts = trackset(tracks)
    home_of = dict(zip(ts.ids.tolist(), GRID.homes(ts.lon, ts.lat).tolist(), strict=True))
    return {a.key for a in judge(tracks, volumes, now) if alert_cell(a, home_of) in watched}


@st.composite
def scenes(draw: st.DrawFn) -> tuple[list[Track], VolumeSet, list[int]]:
    """Tracks converging on points near cell edges and corners (so pairs straddle cells),
    at up to the top speed, with reports up to ``stale_after_s`` old; a zone at some of
    the points; which node each track is posted to."""
    cell = draw(st.integers(0, len(GRID) - 1))
    w, s, e, n = GRID.bounds(cell)
    tracks: list[Track] = []
    zones = []
    for k in range(draw(st.integers(1, 4))):
        fx = draw(st.sampled_from([0.0, 0.5, 1.0, draw(st.floats(0, 1))]))
        fy = draw(st.sampled_from([0.0, 0.5, 1.0, draw(st.floats(0, 1))]))
        lon = w + fx * (e - w)
        lat = min(89.0, max(-89.0, s + fy * (n - s)))
        if draw(st.booleans()):
            zones.append(
                Volume4D(
                    Circle((lon, lat), 3_000.0),
                    AltitudeBand(0, 12_000),
                    TimeWindow.from_epoch(NOW - 60, NOW + 3_600),
                )
            )
        for j in range(draw(st.integers(2, 4))):
            speed = draw(st.floats(0.0, 1_000.0))
            heading = draw(st.floats(0.0, 359.9))
            meet = draw(st.floats(0.0, POLICY.lookahead_s + 10))
            age = draw(st.floats(0.0, POLICY.stale_after_s - 1))
            back = speed * (meet + age)
            lo, la, _ = GEOD.fwd(lon, lat, (heading + 180.0) % 360.0, back)
            la = max(-89.9, min(89.9, float(la)))
            tracks.append(
                Track(
                    f"t{k}-{j}",
                    PARTIES[(k + j) % 4],
                    "own",
                    datetime.fromtimestamp(NOW - age, UTC),
                    la,
                    float(lo),
                    float(draw(st.sampled_from([1000.0, 1100.0, 3000.0]))),
                    ground_speed_mps=speed,
                    track_deg=heading,
                )
            )
    volumes = VolumeSet(
        [ActivityVolumes(f"zone-{k}", PARTIES[0], [z]) for k, z in enumerate(zones)],
        max_reach_m=MARGIN,
    )
    posted_to = draw(st.lists(st.integers(0, 2), min_size=len(tracks), max_size=len(tracks)))
    return tracks, volumes, posted_to


def nodes(router: Router, names: Sequence[str]) -> list[ShardedPicture]:
    pics = [ShardedPicture(router.link(n), GRID) for n in names]
    for p in pics:  # everyone sees everyone, and subscribes, before the first report
        p.refresh(NOW, KEEP)
    return pics


@pytest.mark.filterwarnings("error::RuntimeWarning")  # a NaN in the geometry hides alerts
@settings(max_examples=150, deadline=None)
@given(scenes(), st.integers(1, 3))
def test_every_alert_is_reported_by_exactly_one_node(
    scene: tuple[list[Track], VolumeSet, list[int]], n: int
) -> None:
    tracks, volumes, posted_to = scene
    oracle = {a.key for a in judge(tracks, volumes)}
    router = Router()
    pics = nodes(router, ["hub-a", "hub-b", "hub-c"][:n])
    for t, k in zip(tracks, posted_to, strict=True):
        pics[k % n].route([t], MARGIN)
    reported = [node_alerts(p, volumes) for p in pics]
    counts: dict[Hashable, int] = defaultdict(int)
    for keys in reported:
        for key in keys:
            counts[key] += 1
    assert set(counts) == oracle  # no alert missed, none made up
    assert all(c == 1 for c in counts.values()), counts  # and each told by one node


@settings(max_examples=60, deadline=None)
@given(scenes())
def test_a_membership_change_may_double_an_alert_but_never_drops_one(
    scene: tuple[list[Track], VolumeSet, list[int]],
) -> None:
    tracks, volumes, posted_to = scene
    oracle = {a.key for a in judge(tracks, volumes)}
    router = Router()
    a, b = nodes(router, ["hub-a", "hub-b"])
    for t, k in zip(tracks, posted_to, strict=True):
        (a, b)[k % 2].route([t], MARGIN)
    assert node_alerts(a, volumes) | node_alerts(b, volumes) == oracle
    # hub-c joins: it takes cells from both, but has no reports yet — the old owners
    # keep judging what they lost, so nothing is dropped meanwhile
    (c,) = nodes(router, ["hub-c"])
    seen = node_alerts(a, volumes) | node_alerts(b, volumes) | node_alerts(c, volumes)
    assert seen == oracle
    # the next reports reach the new owner; once the old owners' grace is over, each
    # alert is told by one node again
    later = NOW + KEEP + 1
    fresh = [replace(t, time=t.time + timedelta(seconds=later - NOW)) for t in tracks]
    for t, k in zip(fresh, posted_to, strict=True):
        (a, b, c)[k % 3].route([t], MARGIN)
    counts: dict[Hashable, int] = defaultdict(int)
    for p in (a, b, c):
        for key in node_alerts(p, volumes, later):
            counts[key] += 1
    assert set(counts) == {
        x.key for x in tactical_cycle(trackset(fresh), volumes, later, CFG).alerts()
    }
    assert all(v == 1 for v in counts.values()), counts


def test_a_report_sent_before_the_new_owner_listens_is_judged_while_it_is_usable() -> None:
    """hub-c joins; before it listens, a pair is reported in a cell it now owns (empty
    until then) and never again: the old owners keep judging it for as long as the
    reports are usable (their time, up to max_future_s ahead, + stale_after_s)."""
    router = Router()
    a, b = nodes(router, ["hub-a", "hub-b"])
    router.link("hub-c")  # a member now, not listening yet
    for p in (a, b):
        p.refresh(NOW, KEEP)  # they see hub-c and lose cells to it
    cell = next(
        c
        for c in range(len(GRID))
        if owner(c, ["hub-a", "hub-b", "hub-c"]) == "hub-c" and abs(GRID.bounds(c)[1]) < 60
    )
    w, s, e, n = GRID.bounds(cell)
    lon, lat = (w + e) / 2, (s + n) / 2
    t = NOW + POLICY.max_future_s  # timed ahead of the hub clock: usable for longer
    pair = [
        Track(
            "p",
            PARTIES[0],
            "own",
            datetime.fromtimestamp(t, UTC),
            lat,
            lon - 0.03,
            1000.0,
            ground_speed_mps=100.0,
            track_deg=90.0,
        ),
        Track(
            "q",
            PARTIES[1],
            "own",
            datetime.fromtimestamp(t, UTC),
            lat,
            lon + 0.03,
            1000.0,
            ground_speed_mps=100.0,
            track_deg=270.0,
        ),
    ]
    a.route(pair, MARGIN)  # hub-c is not subscribed: only the old owner's kept cells hear it
    for p in (a, b):
        p.refresh(NOW + 1, KEEP)  # their next cycle takes it in
    (c,) = [ShardedPicture(Link(router, "hub-c"), GRID)]
    c.refresh(NOW + 2, KEEP)  # listening now; the pair is never reported again
    last = t + POLICY.stale_after_s - 0.5  # the reports' last usable moment
    seen = set().union(*(node_alerts(p, VolumeSet([]), last) for p in (a, b, c)))
    assert seen == {x.key for x in judge(pair, VolumeSet([]), last)} != set()


def test_reports_of_a_track_near_two_cells_go_to_both_and_the_newest_wins() -> None:
    router = Router()
    a, b = nodes(router, ["hub-a", "hub-b"])
    w, s, _, _ = GRID.bounds(GRID.home(2.35, 48.85))
    t0 = Track(
        "x", PARTIES[0], "own", datetime.fromtimestamp(NOW - 5, UTC), s + 0.01, w + 1.0, 1000.0
    )
    t1 = Track(
        "x", PARTIES[0], "own", datetime.fromtimestamp(NOW - 1, UTC), s + 0.02, w + 1.0, 1000.0
    )
    a.route([t1], MARGIN)
    b.route([t0], MARGIN)  # an older report arriving later is not taken over a newer one
    near = GRID.near(w + 1.0, s + 0.02, MARGIN)
    assert len(near) > 1
    for p in (a, b):
        p.refresh(NOW, KEEP)
    held = [t for p in (a, b) for t in p.tracks(NOW - 30)]
    assert held
    assert all(t == t1 for t in held)
    assert a.sent + b.sent >= 2 * len(near) - 2
    # stale reports leave the picture
    assert a.tracks(NOW) == []
    assert b.tracks(NOW) == []


def test_a_node_alone_owns_every_cell_and_an_exchange_down_is_none() -> None:
    router = Router()
    (a,) = nodes(router, ["hub-a"])
    assert a.owned == frozenset(range(len(GRID)))

    class Down(Link):
        def members(self) -> list[str] | None:
            return None

    pic = ShardedPicture(Down(router, "hub-x"), GRID)
    assert pic.refresh(NOW, 30.0) is None
    assert np.isclose(MARGIN, 9_260.0 + 2 * 1_000.0 * (120.0 + 30.0))
