"""The track exchange between nodes (``NatsBus.tracks``) against a real ``nats-server -js``:
membership (joins at once, a clean stop leaves at once, a silent node lapses after the
TTL, one long-lived watcher reads it, made again after a NATS restart, and a close leaves
no task behind), reports reach exactly the nodes subscribed to their cell and are read
back whole, big batches are chunked, a malformed message is counted and skipped, and with
NATS down the exchange says so (None) and drops reports instead of blocking."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import nats
import pytest

from deconfliction.bus import NatsBus
from deconfliction.bus._track_link import CHUNK
from deconfliction.model import Track
from tests.natsserver import NatsServer

T = datetime(2026, 11, 25, tzinfo=UTC)


def bus(server: NatsServer, node: str, lease_s: float = 3.0) -> NatsBus:
    return NatsBus(
        server.url,
        node_name=node,
        stream="TEST",
        subject="test.events",
        track_subject="test.tracks",
        lease_s=lease_s,
    )


def until(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def track(k: int, party: int = 1) -> Track:
    return Track(
        f"k{k}",
        UUID(int=party),
        "own",
        T,
        48.0 + k * 1e-4,
        2.0,
        1000.0,
        ground_speed_mps=100.0,
        track_deg=90.0,
        callsign=f"C{k}",
    )


def received(b: NatsBus, want: int, timeout: float = 10.0) -> list[tuple[int, list[Track]]]:
    got: list[tuple[int, list[Track]]] = []
    deadline = time.monotonic() + timeout
    while sum(len(x) for _, x in got) < want and time.monotonic() < deadline:
        got.extend(b.tracks.drain())
        time.sleep(0.02)
    time.sleep(0.2)  # nothing more (no duplicates)
    got.extend(b.tracks.drain())
    return got


def test_membership_join_leave_and_lapse(nats_server: NatsServer) -> None:
    a, b = bus(nats_server, "a", lease_s=2.0), bus(nats_server, "b", lease_s=2.0)
    a.start()
    b.start()
    try:
        until(lambda: a.tracks.members() == ["a", "b"] and b.tracks.members() == ["a", "b"])
        b.close()  # a clean stop: gone at once, not after the TTL
        until(lambda: a.tracks.members() == ["a"], timeout=0.5)

        # a node that puts its membership once and goes silent (killed) lapses after the
        # bucket's TTL (the server's expiry sends the watcher nothing: the node keeps time)
        async def ghost() -> None:
            nc = await nats.connect(nats_server.url)
            kv = await nc.jetstream().key_value("TEST_members")
            await kv.put("ghost", b"1")
            await nc.close()

        asyncio.run(ghost())
        until(lambda: a.tracks.members() == ["a", "ghost"])
        t0 = time.monotonic()
        until(lambda: a.tracks.members() == ["a"], timeout=10.0)
        assert time.monotonic() - t0 < 2.0 + 2.0
    finally:
        a.close()


def test_reports_reach_the_nodes_of_their_cell_whole_and_chunked(
    nats_server: NatsServer,
) -> None:
    a, b = bus(nats_server, "a"), bus(nats_server, "b")
    a.start()
    b.start()
    try:
        a.tracks.own(frozenset({1, 2}))
        b.tracks.own(frozenset({2, 3}))
        until(lambda: a.tracks.stats.cells_subscribed == 2 == b.tracks.stats.cells_subscribed)
        sent = {
            1: [track(0)],
            2: [track(k) for k in range(1, 4)],
            3: [track(9, party=2)],
            4: [track(8)],
        }
        a.tracks.send(sent)
        got_a, got_b = received(a, 4), received(b, 4)
        assert sorted((c, x) for c, batch in got_a for x in [tuple(batch)]) == [
            (1, (sent[1][0],)),
            (2, tuple(sent[2])),
        ]
        assert sorted((c, tuple(x)) for c, x in got_b) == [(2, tuple(sent[2])), (3, tuple(sent[3]))]
        assert a.tracks.stats.sent == 6  # cell 4 has nobody: sent, received by none
        # a batch bigger than one message
        big = [track(k) for k in range(CHUNK * 2 + 5)]
        b.tracks.send({3: big})
        got = received(b, len(big))
        assert [t for _, batch in got for t in batch] == big
        assert len(got) == 3

        # a malformed message on a track subject: counted, skipped, the link goes on
        async def junk() -> None:
            nc = await nats.connect(nats_server.url)
            await nc.publish("test.tracks.3", b'[["x"]]')
            await nc.publish("test.tracks.3", b"not json")
            await nc.close()

        asyncio.run(junk())
        until(lambda: b.tracks.stats.malformed == 2)
        a.tracks.send({3: [track(7)]})
        assert [t for _, x in received(b, 1) for t in x] == [track(7)]
        # a cell no longer owned is no longer received
        b.tracks.own(frozenset({2}))
        until(lambda: b.tracks.stats.cells_subscribed == 1)
        a.tracks.send({3: [track(6)]})
        time.sleep(0.3)
        assert b.tracks.drain() == []
    finally:
        a.close()
        b.close()


def test_with_nats_down_members_is_none_and_reports_are_dropped(nats_server: NatsServer) -> None:
    a = bus(nats_server, "a")
    a.start()
    try:
        until(lambda: a.tracks.members() == ["a"])
        nats_server.stop()
        until(lambda: a.tracks.members() is None)
        t0 = time.monotonic()
        a.tracks.send({1: [track(k) for k in range(10)]})
        assert time.monotonic() - t0 < 0.5  # never waits on the network
        assert a.tracks.stats.dropped == 10
        nats_server.start()
        until(lambda: a.tracks.members() == ["a"], timeout=20.0)
        # the membership watcher was made again (the old one died with the server)
        b = bus(nats_server, "b")
        b.start()
        try:
            until(lambda: a.tracks.members() == ["a", "b"] == b.tracks.members())
        finally:
            b.close()
        until(lambda: a.tracks.members() == ["a"], timeout=0.5)
    finally:
        a.close()


def test_one_membership_watcher_lives_on_not_a_consumer_per_read(
    nats_server: NatsServer,
) -> None:
    """The membership is followed by one watcher (an ordered consumer of the bucket's
    stream) kept for the node's life, not read by a new consumer every second."""
    a = bus(nats_server, "a")
    a.start()

    async def consumers() -> list[str]:
        nc = await nats.connect(nats_server.url)
        infos = await nc.jetstream().consumers_info("KV_TEST_members")
        await nc.close()
        return sorted(str(i.name) for i in infos)

    try:
        until(lambda: a.tracks.members() == ["a"])
        seen = []
        for _ in range(6):
            seen.append(asyncio.run(consumers()))
            time.sleep(0.5)
        assert len(seen[0]) == 1, seen
        assert all(names == seen[0] for names in seen), seen
    finally:
        a.close()
    until(lambda: asyncio.run(consumers()) == [])  # its consumer goes with it


def test_a_close_leaves_no_task_behind(nats_server: NatsServer) -> None:
    """Closed at any moment (at once after the start, mid-replay of the members, while
    running), a node's event loop has no task left pending ("Task was destroyed but it is
    pending" at exit otherwise)."""
    a = bus(nats_server, "a")
    a.start()
    try:
        for pause in (0.0, 0.0, 0.0, 0.05, 0.3, 1.2):
            b = bus(nats_server, "b")
            b.start()
            time.sleep(pause)
            b.close()
            assert [t for t in asyncio.all_tasks(b._loop) if not t.done()] == []
    finally:
        a.close()
    assert [t for t in asyncio.all_tasks(a._loop) if not t.done()] == []


def test_a_members_bucket_made_with_another_lease_takes_this_nodes_ttl(
    nats_server: NatsServer,
) -> None:
    """A node started with a longer bus_lease_s than the bucket was made with would renew
    its membership less often than the bucket keeps it, and flap: the bucket's TTL is set
    to this node's."""
    a = bus(nats_server, "a", lease_s=2.0)
    a.start()
    until(lambda: a.tracks.members() == ["a"])
    a.close()
    b = bus(nats_server, "b", lease_s=6.0)
    b.start()
    try:
        until(lambda: b.tracks.members() == ["b"])

        async def ttl() -> float:
            nc = await nats.connect(nats_server.url)
            info = await nc.jetstream().stream_info("KV_TEST_members")
            await nc.close()
            return info.config.max_age or 0.0

        assert asyncio.run(ttl()) == 6.0
        time.sleep(3.0)  # past the old TTL: still a member
        assert b.tracks.members() == ["b"]
    finally:
        b.close()


def test_a_stream_on_subjects_another_stream_holds_is_a_clear_error(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Two hotlines on one NATS with the same bus_subject: JetStream refuses the second
    stream; the node says so (not "cannot connect") and serves alone meanwhile."""
    a = bus(nats_server, "a")
    a.start()
    other = NatsBus(
        nats_server.url, node_name="x", stream="OTHER", subject="test.events", start_timeout_s=1.0
    )
    try:
        with caplog.at_level("ERROR", logger="deconfliction.bus.nats"):
            other.start()
            until(lambda: "check bus_stream and bus_subject" in caplog.text)
        assert not other.stats.connected
        assert other.tracks.members() is None
    finally:
        other.close()
        a.close()
