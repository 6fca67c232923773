"""The tactical engine on two nodes (two Hotlines on one store, each with its own engine,
sharing tracks through an in-memory exchange): a pair reported to different nodes is
raised once; every node lists the open alert (the shared table) and none after it clears;
a node that dies leaves alerts that the first live node clears, and a node restarted under
its name clears its own and leaves the other nodes' open."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deconfliction.hotline import Principal
from deconfliction.model import NoticeStatus, Track, TrackSource
from tests.hotline._exchange import Router
from tests.hotline.conftest import Hub, make_hub

HERE = (2.0, 50.0)


def _track(hub: Hub, party: Any, key: str, lon: float, lat: float, **kw: Any) -> Track:
    return Track(
        key, party.party_id, TrackSource.OWN, hub.clock.now(), lat, lon, altitude_m=500.0, **kw
    )


def _node(path: Path, router: Router, name: str, first: Hub | None = None) -> Hub:
    hub = make_hub(path) if first is None else make_hub(path, admin_secret=first.admin_secret)
    hub.hotline.sole_tactical_node = False
    hub.hotline.shard_tracks(router.link(name))
    if first is not None:
        hub.clock.t = first.clock.t
    return hub


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[Router, Hub, Hub]]:
    router = Router()
    a = _node(tmp_path, router, "hub-a")
    b = _node(tmp_path, router, "hub-b", a)
    for h in (a, b):
        h.hotline.tactical_tick()  # membership and subscriptions
    yield router, a, b
    a.hotline.store.close()
    b.hotline.store.close()


def _tick(*hubs: Hub) -> int:
    return sum(h.hotline.tactical_tick().raised for h in hubs)


def _converging(
    a: Hub, b: Hub, blue: Any, green: Any, km: float = 6.0, at: tuple[float, float] = HERE
) -> None:
    """Blue's aircraft reported to node A, Green's to node B, ``km`` apart head-on at
    ``at``."""
    dlon = km / 2 / 71.5
    got = a.hotline.ingest_tracks(
        blue, [_track(a, blue, "B1", at[0] - dlon, at[1], ground_speed_mps=100, track_deg=90)]
    )
    assert got.rejected == ()
    got = b.hotline.ingest_tracks(
        green,
        [_track(b, green, "G1", at[0] + dlon, at[1], ground_speed_mps=100, track_deg=270)],
    )
    assert got.rejected == ()


def _alerts(hub: Hub, p: Any) -> list[dict[str, Any]]:
    return hub.hotline.open_alerts(p)


@dataclass
class Judged:
    """Blue (reported to node A) and Green (to node B) converging at :data:`HERE`: one
    alert, judged by one of the two nodes."""

    router: Router
    judge: Hub
    other: Hub
    name: str
    """The judge's node name."""
    blue: Principal
    green: Principal
    alert: dict[str, Any]


@pytest.fixture
def judged(nodes: tuple[Router, Hub, Hub]) -> Judged:
    router, a, b = nodes
    blue, green = a.party("Blue"), a.party("Green")
    _converging(a, b, blue, green)
    assert _tick(a, b) == 1
    judge = next(h for h in (a, b) if h.hotline._tactical.open)
    other = b if judge is a else a
    assert not other.hotline._tactical.open
    name = judge.hotline.judged_by
    assert name is not None
    (al,) = _alerts(other, blue)
    return Judged(router, judge, other, name, blue, green, al)


def _statuses(hub: Hub, alert_id: str, *parties: Principal) -> dict[Any, NoticeStatus]:
    """The status of each party's notice of the alert ``alert_id``."""
    return {
        x.recipient: x.status
        for p in parties
        for x in hub.hotline.list_notices(p)
        if x.alert_id and str(x.alert_id) == alert_id
    }


def _open_rows(hub: Hub) -> dict[str, str | None]:
    """The store's open_alerts table: alert id → the node judging it."""
    with hub.hotline.store.read() as tx:
        return {str(r.id): r.judged_by for r in tx.open_alerts()}


def test_a_pair_split_between_nodes_is_raised_once_and_listed_by_both(
    nodes: tuple[Router, Hub, Hub],
) -> None:
    _, a, b = nodes
    blue, green = a.party("Blue"), a.party("Green")
    _converging(a, b, blue, green)
    assert _tick(a, b) == 1  # one node holds both tracks and judges the pair
    assert _tick(a, b) == 0
    for hub in (a, b):
        for p in (blue, green):
            (al,) = _alerts(hub, p)
            assert al["kind"] == "proximity"
    assert _alerts(a, blue)[0]["id"] == _alerts(b, green)[0]["id"]
    raised = [e for h in (a, b) for e in h.sink.events if e.type == "alert.raised"]
    assert sorted(e.party_id for e in raised) == sorted([blue.party_id, green.party_id])
    # the aircraft turn away from each other, far apart: cleared, listed by neither
    for h in (a, b):
        h.clock.advance(seconds=2)
    a.hotline.ingest_tracks(blue, [_track(a, blue, "B1", HERE[0] - 1, HERE[1])])
    b.hotline.ingest_tracks(green, [_track(b, green, "G1", HERE[0] + 1, HERE[1])])
    _tick(a, b)
    assert [_alerts(h, p) for h in (a, b) for p in (blue, green)] == [[], [], [], []]
    cleared = [e for h in (a, b) for e in h.sink.events if e.type == "alert.cleared"]
    assert len(cleared) == 2


def test_the_alerts_of_a_dead_node_are_cleared_by_the_first_live_node(judged: Judged) -> None:
    survivor, blue, green, dead = judged.other, judged.blue, judged.green, judged.alert
    blue_notice = next(x for x in survivor.hotline.list_notices(blue) if x.alert_id)
    survivor.hotline.acknowledge(blue, blue_notice.id)  # answered: kept as it is
    # the judge dies (no clean leave): its membership lapses
    judged.router.alive.remove(judged.name)
    judged.router.subs.pop(judged.name)
    survivor.clock.advance(seconds=1)
    survivor.hotline.tactical_tick()
    orphaned = [e for e in survivor.sink.events if e.type == "alert.cleared"]
    assert sorted(e.party_id for e in orphaned) == sorted([blue.party_id, green.party_id])
    assert all(e.payload["alert"]["orphaned"] for e in orphaned)
    assert all(e.payload["alert"]["id"] == dead["id"] for e in orphaned)
    assert _statuses(survivor, dead["id"], blue, green) == {
        blue.party_id: NoticeStatus.ACKNOWLEDGED,
        green.party_id: NoticeStatus.SUPERSEDED,
    }
    # the survivor owns every cell now and judges the pair itself: one alert, its own
    survivor.clock.advance(seconds=1)
    _converging(survivor, survivor, blue, green)
    _tick(survivor)
    (again,) = _alerts(survivor, green)
    assert again["id"] != dead["id"]
    assert again["kind"] == "proximity"


def _owned_place(hub: Hub) -> tuple[float, float]:
    """A place on :data:`HERE`'s latitude whose pair of :func:`_converging` tracks lies in
    one cell that ``hub`` owns."""
    pic = hub.hotline.picture
    assert pic is not None
    dlon = 6.0 / 2 / 71.5
    for lon in range(-179, 180):
        cells = {pic.grid.home(lon + d, HERE[1]) for d in (-dlon, dlon)}
        if len(cells) == 1 and cells <= pic.owned:
            return float(lon), HERE[1]
    raise AssertionError(f"{hub.hotline.judged_by} owns no cell on latitude {HERE[1]}")


def test_a_node_restarted_under_its_name_clears_its_own_alerts_only(
    judged: Judged, tmp_path: Path
) -> None:
    router, judge, other, name = judged.router, judged.judge, judged.other, judged.name
    blue, green, mine = judged.blue, judged.green, judged.alert
    # a second pair, in a cell the other node owns: an alert the other node judges
    red, white = judge.party("Red"), judge.party("White")
    _converging(judge, other, red, white, at=_owned_place(other))
    assert _tick(judge, other) == 1
    (kept,) = _alerts(judge, red)
    assert _open_rows(other) == {mine["id"]: name, kept["id"]: other.hotline.judged_by}
    # another node starting touches neither
    c = _node(tmp_path, router, "hub-c", judge)
    c.hotline.tactical_tick()
    assert [x["id"] for x in _alerts(other, blue)] == [mine["id"]]
    assert [x["id"] for x in _alerts(c, red)] == [kept["id"]]
    # the judge restarts under its name (its engine's memory is gone)
    router.alive.remove(name)
    restarted = _node(tmp_path, router, name, judge)
    restarted.hotline.tactical_tick()
    # its own alert is cleared as orphaned, its unanswered notices superseded …
    assert _alerts(other, blue) == []
    cleared = [e for e in restarted.sink.events if e.type == "alert.cleared"]
    assert sorted(e.party_id for e in cleared) == sorted([blue.party_id, green.party_id])
    assert {(e.payload["alert"]["id"], e.payload["alert"]["orphaned"]) for e in cleared} == {
        (mine["id"], True)
    }
    assert _statuses(restarted, mine["id"], blue, green) == {
        blue.party_id: NoticeStatus.SUPERSEDED,
        green.party_id: NoticeStatus.SUPERSEDED,
    }
    # … and the other node's stays open: in the shared table, listed by every node (the
    # restarted one knows it only from there), its notices as they were
    assert _open_rows(restarted) == {kept["id"]: other.hotline.judged_by}
    for hub in (restarted, other, c):
        for p in (red, white):
            assert [x["id"] for x in _alerts(hub, p)] == [kept["id"]]
    assert _statuses(restarted, kept["id"], red, white) == {
        red.party_id: NoticeStatus.QUEUED,
        white.party_id: NoticeStatus.QUEUED,
    }
    superseded = [e for e in restarted.sink.events if e.type == "notice.superseded"]
    assert sorted(e.party_id for e in superseded) == sorted([blue.party_id, green.party_id])
    c.hotline.store.close()
    restarted.hotline.store.close()
