"""Several hub nodes on one database: each node's index follows the store's change feed.

Two :class:`Hotline` objects on one store URL stand for two nodes (each has its own index,
lock and caches; only the database is shared), on SQLite and on PostgreSQL. The race test
files two conflicting activities on the two nodes at the same instant, many times: both
parties must always be told of each other — a lost conflict is a safety defect.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deconfliction.errors import Unauthorized
from deconfliction.geo import Volume4D
from deconfliction.hotline import FilingResult, Hotline, Principal
from deconfliction.model import LinkStatus, Policy
from deconfliction.store import open_store
from tests.hotline.conftest import Recorder, StepClock, circle, draft, square
from tests.hotline.test_service import site as protected_site


@dataclass
class Nodes:
    a: Hotline
    b: Hotline
    clock: StepClock
    admin_secret: str

    def party(self, name: str) -> tuple[str, Principal, Principal]:
        """A new party (made on node A): its secret and its principal on each node."""
        admin = self.a.authenticate(self.admin_secret)
        p = self.a.add_party(admin, name, "armed_force")
        _info, secret = self.a.create_token(admin, p.id, "operator")
        return secret, self.a.authenticate(secret), self.b.authenticate(secret)


def _node(url: str, clock: StepClock) -> Hotline:
    h = Hotline(open_store(url), Policy.default(), clock=clock, sink=Recorder())
    h.rebuild_index()
    return h


@pytest.fixture
def nodes(store_url: str) -> Iterator[Nodes]:
    clock = StepClock()
    a = _node(store_url, clock)
    boot = a.bootstrap()
    assert boot is not None
    b = _node(store_url, clock)
    yield Nodes(a, b, clock, boot[1])
    a.store.close()
    b.store.close()


def test_a_filing_on_one_node_is_detected_by_a_filing_on_the_other(nodes: Nodes) -> None:
    _, red_a, _ = nodes.party("Red")
    _, _, blue_b = nodes.party("Blue")
    red_act = nodes.a.file(red_a, draft(circle(2.0, 50.0))).activity
    # Node B has not followed the feed yet: its write does so under the writer lock.
    r = nodes.b.file(blue_b, draft(circle(2.0, 50.0)))
    assert [c.other_id for c in r.conflicts] == [red_act.id]
    assert [n.recipient for n in r.notices] == [red_a.party_id]


def test_reads_follow_the_feed(nodes: Nodes) -> None:
    _, red_a, red_b = nodes.party("Red")
    _, _, blue_b = nodes.party("Blue")
    act = nodes.a.file(red_a, draft(circle(2.0, 50.0))).activity
    assert nodes.b.index.volume_count == 0  # B has not followed the feed yet
    assert nodes.b.follow() >= 1
    assert nodes.b.index.volume_count == 1
    seen = nodes.b.check(blue_b, draft(circle(2.0, 50.0))).conflicts
    assert [c.other_owner for c in seen] == [act.owner]
    nodes.a.cancel(red_a, act.id, 1)
    nodes.b.follow()
    assert nodes.b.index.volume_count == 0
    assert nodes.b.check(blue_b, draft(circle(2.0, 50.0))).conflicts == ()
    assert nodes.b.follow() == 0  # nothing new
    # an amendment on B moves the activity on A
    moved = nodes.b.file(red_b, draft(circle(3.0, 50.0))).activity
    nodes.b.amend(red_b, moved.id, 1, draft(circle(4.0, 50.0)))
    nodes.a.follow()
    keys = {h.key.id for h in nodes.a.index.query(circle(4.0, 50.0))}  # type: ignore[attr-defined]
    assert moved.id in keys


def test_sites_and_revoked_tokens_follow_the_feed(nodes: Nodes) -> None:
    secret, red_a, red_b = nodes.party("Red")
    _, _, blue_b = nodes.party("Blue")
    site = nodes.a.register_site(red_a, protected_site(2.0, 50.0)).site
    r = nodes.b.file(blue_b, draft(circle(2.0, 50.0)))
    assert [c.other_id for c in r.conflicts] == [site.id]
    admin = nodes.a.authenticate(nodes.admin_secret)
    token = nodes.a.list_tokens(admin, red_a.party_id)[0]
    assert nodes.b.authenticate(secret) == red_b  # cached on B
    nodes.a.revoke_token(admin, token.id)
    nodes.b.follow()
    with pytest.raises(Unauthorized):
        nodes.b.authenticate(secret)


def test_a_node_too_far_behind_reloads_its_index(
    nodes: Nodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    import deconfliction.hotline._core as core

    _, red_a, _ = nodes.party("Red")
    _, _, blue_b = nodes.party("Blue")
    nodes.b.follow()
    for i in range(4):
        nodes.a.file(red_a, draft(square(2.0 + i, 50.0)))
    monkeypatch.setattr(core, "FOLLOW_LIMIT", 2)
    generation = nodes.b.index_generation
    assert nodes.b.follow() == 2  # read two, saw more: reloaded whole
    assert nodes.b.index.volume_count == 4
    assert nodes.b.index_generation > generation
    r = nodes.b.file(blue_b, draft(square(5.0, 50.0)))
    assert len(r.conflicts) == 1


@pytest.mark.parametrize("rounds", [60])
def test_conflicting_filings_on_two_nodes_at_once_always_see_each_other(
    nodes: Nodes, rounds: int
) -> None:
    """The race, repeated: at each round Red files on node A and Blue on node B at the same
    instant, over the same new place. Whichever commits second must list the first's
    activity, and the first's owner must get a notice — on every round."""
    _, red_a, _ = nodes.party("Red")
    _, _, blue_b = nodes.party("Blue")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    results: dict[str, FilingResult] = {}

    def go(name: str, node: Hotline, p: Principal, vol: Volume4D) -> None:
        try:
            barrier.wait(timeout=30)
            results[name] = node.file(p, draft(vol))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    for i in range(rounds):
        place = circle(2.0 + i * 0.5, 50.0)
        results.clear()
        threads = [
            threading.Thread(target=go, args=("red", nodes.a, red_a, place)),
            threading.Thread(target=go, args=("blue", nodes.b, blue_b, place)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        red, blue = results["red"], results["blue"]
        told = [r for r in (red, blue) if r.conflicts]
        assert len(told) == 1, f"round {i}: the conflict was lost or doubled"
        (second,) = told
        first = blue if second is red else red
        assert [c.other_id for c in second.conflicts] == [first.activity.id]
        assert [n.recipient for n in second.notices] == [first.activity.owner]
    for node, p in ((nodes.a, red_a), (nodes.b, blue_b)):
        assert len(node.list_conflicts(p)) == rounds


def test_the_feed_survives_a_restart_of_one_node(store_url: str, tmp_path: Path) -> None:
    clock = StepClock()
    a = _node(store_url, clock)
    boot = a.bootstrap()
    assert boot is not None
    admin = a.authenticate(boot[1])
    red = a.add_party(admin, "Red", "armed_force")
    _info, secret = a.create_token(admin, red.id, "operator")
    p = a.authenticate(secret)
    a.file(p, draft(circle(2.0, 50.0)))
    b = _node(store_url, clock)  # starts after the filing: its rebuild holds it
    assert b.index.volume_count == 1
    assert b.follow() == 0
    a.store.close()
    b.store.close()


def test_links_are_judged_by_any_nodes_heartbeats_and_recorded_once(nodes: Nodes) -> None:
    """Green's client is on node B. Node A judges Green's link by the heartbeats B saves,
    and each change of it is recorded (and told to Red, who has a notice waiting for
    Green) once, though both nodes sweep."""
    _, red_a, _ = nodes.party("Red")
    _, _, green_b = nodes.party("Green")
    nodes.b.file(green_b, draft(circle(2.0, 50.0)))
    nodes.a.file(red_a, draft(circle(2.0, 50.0)))  # a notice to Green, undelivered
    assert nodes.a.link_of(green_b.party_id) is LinkStatus.DOWN
    nodes.b.heartbeat(green_b)
    nodes.a.follow()
    assert nodes.a.link_of(green_b.party_id) is LinkStatus.NORMAL
    for _ in range(8):  # Green keeps beating on B, which saves a beat every 15 s
        nodes.clock.advance(seconds=20)
        nodes.b.heartbeat(green_b)
        nodes.a.follow()
        assert nodes.a.link_of(green_b.party_id) is LinkStatus.NORMAL
        assert nodes.a.sweep_links() == {}
    nodes.clock.advance(seconds=90)  # Green goes silent
    assert nodes.b.sweep_links() == {green_b.party_id: LinkStatus.DEGRADED}
    # A, not having followed B's record yet, sees the same change: it records nothing more
    assert nodes.a.sweep_links() == {green_b.party_id: LinkStatus.DEGRADED}
    nodes.clock.advance(seconds=200)
    assert nodes.a.sweep_links() == {green_b.party_id: LinkStatus.DOWN}
    nodes.b.follow()  # B follows A's record: nothing left to record
    assert nodes.b.sweep_links() == {}
    assert nodes.b.link_of(green_b.party_id) is LinkStatus.DOWN
    told = [e.payload["status"] for e in nodes.a.events_since(red_a, 0) if e.type == "party.link"]
    assert told == ["normal", "degraded", "down"]
