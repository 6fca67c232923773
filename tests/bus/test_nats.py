"""The NATS JetStream bus against a real ``nats-server -js`` (``tests/natsserver.py``): events
cross nodes once and in order, a restarted node's durable consumer resumes, NATS down never
blocks or loses a publish, and a lease has one holder at a time with takeover on expiry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import nats

from deconfliction.bus import NatsBus, Subscription
from deconfliction.bus._leases import Leases
from deconfliction.hotline import Event
from tests.natsserver import NatsServer

T = datetime(2026, 11, 25, tzinfo=UTC)


def events(party: UUID, seqs: range) -> list[Event]:
    return [Event(party, i, "notice", {"n": i, "text": "é"}, T) for i in seqs]


def bus(server: NatsServer, node: str, **kw: float) -> NatsBus:
    return NatsBus(server.url, node_name=node, stream="TEST", subject="test.events", **kw)


async def drain(sub: Subscription, want: int, timeout: float = 5.0) -> list[int]:
    """The seqs ``sub`` got until it has ``want`` (then 0.2 s more, to catch duplicates)."""
    got: list[int] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        try:
            await asyncio.wait_for(sub.wake.wait(), max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            break
        sub.wake.clear()
        while not sub.queue.empty():
            got.append(sub.queue.get_nowait().seq)
    await asyncio.sleep(0.2)
    while not sub.queue.empty():
        got.append(sub.queue.get_nowait().seq)
    return got


async def until(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def test_events_reach_the_other_node_once_in_order_and_the_local_node_once(
    nats_server: NatsServer,
) -> None:
    blue, red = uuid4(), uuid4()

    async def main() -> None:
        a, b = bus(nats_server, "a"), bus(nats_server, "b")
        await asyncio.to_thread(a.start)
        await asyncio.to_thread(b.start)
        try:
            local, remote, other = a.subscribe(blue), b.subscribe(blue), b.subscribe(red)
            every = b.subscribe_all()
            await asyncio.to_thread(a.publish, events(blue, range(1, 51)))
            await asyncio.to_thread(a.publish, events(blue, range(1, 3)))  # sent again
            assert await drain(remote, 50) == list(range(1, 51))
            assert await drain(local, 52) == [*range(1, 51), 1, 2]  # local: as published
            assert await drain(every, 50) == list(range(1, 51))
            assert other.queue.empty()
            await until(lambda: a.stats.outbox == 0)
            assert a.stats.published == 52  # 52 sent, 50 stored: the stream de-duplicates
            assert (a.stats.received, b.stats.received) == (0, 50)  # a skips its own
            assert a.stats.publish_failures == a.stats.dropped == 0
            assert a.stats.connected
            assert b.stats.connected
            nc = await nats.connect(nats_server.url)
            info = await nc.jetstream().stream_info("TEST")
            await nc.close()
            assert info.state.messages == 50
        finally:
            await asyncio.to_thread(a.close)
            await asyncio.to_thread(b.close)

    asyncio.run(main())


def test_a_restarted_node_resumes_its_durable_consumer(nats_server: NatsServer) -> None:
    party = uuid4()

    async def main() -> None:
        a, b = bus(nats_server, "a"), bus(nats_server, "b")
        await asyncio.to_thread(a.start)
        await asyncio.to_thread(b.start)
        try:
            sub = b.subscribe(party)
            a.publish(events(party, range(1, 4)))
            assert await drain(sub, 3) == [1, 2, 3]
            await asyncio.to_thread(b.close)
            a.publish(events(party, range(4, 9)))  # b is down
            await until(lambda: a.stats.published == 8)
            b = bus(nats_server, "b")
            sub = b.subscribe(party)
            await asyncio.to_thread(b.start)
            assert await drain(sub, 5) == [4, 5, 6, 7, 8]  # what it missed, nothing twice
            fresh = bus(nats_server, "c")  # a new node starts at the new events
            sub_c = fresh.subscribe(party)
            await asyncio.to_thread(fresh.start)
            a.publish(events(party, range(9, 10)))
            assert await drain(sub_c, 1) == [9]
            await asyncio.to_thread(fresh.close)
        finally:
            await asyncio.to_thread(a.close)
            await asyncio.to_thread(b.close)

    asyncio.run(main())


def test_nats_down_never_blocks_publish_and_nothing_is_lost(nats_server: NatsServer) -> None:
    party = uuid4()

    async def main() -> None:
        a, b = bus(nats_server, "a"), bus(nats_server, "b")
        await asyncio.to_thread(a.start)
        await asyncio.to_thread(b.start)
        try:
            local, remote = a.subscribe(party), b.subscribe(party)
            await asyncio.to_thread(nats_server.stop)
            await until(lambda: not a.stats.connected)
            t0 = time.perf_counter()
            for i in range(1, 21):
                a.publish(events(party, range(i, i + 1)))
            took = time.perf_counter() - t0
            assert took < 0.1, took  # the writer never waits on the network
            assert await drain(local, 20) == list(range(1, 21))  # local listeners at once
            await until(lambda: a.stats.publish_failures > 0)
            assert a.stats.outbox == 20
            await asyncio.to_thread(nats_server.start)
            got = await drain(remote, 20, timeout=15.0)
            assert sorted(set(got)) == list(range(1, 21))  # republished in order, once stored
            assert got == sorted(got)
            assert b.stats.resyncs >= 1  # and b's listeners were told to re-read the store
            await until(lambda: a.stats.outbox == 0)
            assert a.stats.dropped == 0
        finally:
            await asyncio.to_thread(a.close)
            await asyncio.to_thread(b.close)

    asyncio.run(main())


def test_a_node_started_while_nats_is_down_connects_later(nats_server: NatsServer) -> None:
    party = uuid4()
    nats_server.stop()

    async def main() -> None:
        a = bus(nats_server, "a", start_timeout_s=0.3)
        t0 = time.perf_counter()
        await asyncio.to_thread(a.start)
        assert time.perf_counter() - t0 < 2.0  # the hub starts serving meanwhile
        try:
            assert not a.stats.connected
            a.publish(events(party, range(1, 4)))  # kept in the outbox
            assert a.stats.outbox == 3
            await asyncio.to_thread(nats_server.start)
            await until(lambda: a.stats.connected and a.stats.published == 3, timeout=15.0)
            b = bus(nats_server, "b")
            await asyncio.to_thread(b.start)
            assert b.stats.connected
            await asyncio.to_thread(b.close)
        finally:
            await asyncio.to_thread(a.close)

    asyncio.run(main())


def test_a_small_outbox_drops_the_oldest_and_counts_them(nats_server: NatsServer) -> None:
    party = uuid4()
    nats_server.stop()
    a = NatsBus(nats_server.url, node_name="a", outbox_max=5, start_timeout_s=0.1)
    a.publish(events(party, range(1, 9)))  # before start: kept, 3 dropped
    assert (a.stats.outbox, a.stats.dropped) == (5, 3)
    a.close()  # never started: nothing to do


def test_one_lease_holder_at_a_time_with_release_and_takeover(nats_server: NatsServer) -> None:
    async def main() -> None:
        a, b = bus(nats_server, "a", lease_s=1.5), bus(nats_server, "b", lease_s=1.5)
        await asyncio.to_thread(a.start)
        await asyncio.to_thread(b.start)
        try:
            assert await a.claim("webhook.x.1")
            assert not await b.claim("webhook.x.1")
            assert await b.claim("webhook.x.2")
            await asyncio.sleep(2.5)  # longer than the lease: renewals keep it
            assert await a.claim("webhook.x.1")
            assert not await b.claim("webhook.x.1")
            await asyncio.to_thread(a.close)  # a clean stop releases at once
            assert await b.claim("webhook.x.1")
            assert not await a.claim("webhook.x.1")  # a closed bus claims nothing
        finally:
            await asyncio.to_thread(a.close)
            await asyncio.to_thread(b.close)

    asyncio.run(main())


def test_a_lease_not_renewed_expires_and_another_node_takes_it(nats_server: NatsServer) -> None:
    async def main() -> None:
        nc = await nats.connect(nats_server.url)
        try:
            kv = await nc.jetstream().create_key_value(bucket="L", ttl=1.0, history=1)
            dead, alive = Leases("dead", 1.0), Leases("alive", 1.0)
            dead.kv = alive.kv = kv
            assert await dead.claim("webhook.p.1")  # and then it never renews: it died
            assert dead.holds() == ["webhook.p.1"]
            assert not await alive.claim("webhook.p.1")
            await asyncio.sleep(0.85)
            assert dead.holds() == []  # it stops trusting its lease before it expires
            t0 = time.monotonic()
            while not await alive.claim("webhook.p.1"):
                assert time.monotonic() - t0 < 5.0, "the lease never expired"
                await asyncio.sleep(0.05)
            assert not await dead.claim("webhook.p.1")
            again = Leases("alive", 1.0)  # the same node restarted takes its lease back
            again.kv = kv
            assert await again.claim("webhook.p.1")
        finally:
            await nc.close()

    asyncio.run(main())


def test_both_buses_are_a_bus_for_the_hubs_consumers() -> None:
    from deconfliction.bus import Bus, InProcessBus

    nb = NatsBus("nats://127.0.0.1:1", node_name="n")
    assert isinstance(nb, Bus)
    assert isinstance(InProcessBus(), Bus)
    nb.close()  # never started: closes its loop, connects nowhere
    assert nb._loop.is_closed()


def test_an_event_that_cannot_be_encoded_is_dropped_not_blocking(nats_server: NatsServer) -> None:
    party = uuid4()

    async def main() -> None:
        a, b = bus(nats_server, "a"), bus(nats_server, "b")
        await asyncio.to_thread(a.start)
        await asyncio.to_thread(b.start)
        try:
            sub = b.subscribe(party)
            bad = Event(party, 1, "notice", {"x": object()}, T)
            a.publish([bad, *events(party, range(2, 4))])
            assert await drain(sub, 2) == [2, 3]  # b re-reads the store for 1 on the gap
            assert (a.stats.dropped, a.stats.published, a.stats.outbox) == (1, 2, 0)
        finally:
            await asyncio.to_thread(a.close)
            await asyncio.to_thread(b.close)

    asyncio.run(main())


def test_throughput_between_two_nodes(nats_server: NatsServer) -> None:
    """The figure: events/s from ``publish`` on one node to the other node's fan-out."""
    n = 5000
    parties = [uuid4() for _ in range(50)]
    batch = [e for p in parties for e in events(p, range(1, n // len(parties) + 1))]

    async def main() -> float:
        a, b = bus(nats_server, "a"), bus(nats_server, "b")
        await asyncio.to_thread(a.start)
        await asyncio.to_thread(b.start)
        try:
            t0 = time.perf_counter()
            for i in range(0, n, 10):  # as commits come: 10 events each
                a.publish(batch[i : i + 10])
            publish_s = time.perf_counter() - t0
            await until(lambda: b.stats.received == n, timeout=60.0)
            took = time.perf_counter() - t0
            print(f"\n{n} events: publish() {publish_s * 1e6 / (n / 10):.0f} µs per commit; ")
            print(f"on the other node after {took:.2f} s: {n / took:,.0f} events/s")
            return took
        finally:
            t0 = time.perf_counter()
            await asyncio.to_thread(a.close)
            await asyncio.to_thread(b.close)
            closing_s = time.perf_counter() - t0
            assert closing_s < 4.0, closing_s  # a clean stop, not the 10 s safety net

    took = asyncio.run(main())
    assert n / took > 200  # loose: the machine is shared; the figure is printed


def test_a_lease_nobody_asks_about_is_released(nats_server: NatsServer) -> None:
    now = [time.monotonic()]

    async def main() -> None:
        nc = await nats.connect(nats_server.url)
        try:
            kv = await nc.jetstream().create_key_value(bucket="I", ttl=60.0, history=1)
            mine, other = Leases("mine", 60.0, lambda: now[0]), Leases("other", 60.0)
            mine.kv = other.kv = kv
            assert await mine.claim("webhook.asked")
            assert await mine.claim("webhook.idle")
            await mine.renew()
            assert mine.holds() == ["webhook.asked", "webhook.idle"]
            now[0] += 30.0
            assert await mine.claim("webhook.asked")  # asked about: kept
            now[0] += 220.0  # "webhook.idle" last asked about 250 s ago: > 4 × lease_s
            await mine.renew()
            assert mine.holds() == ["webhook.asked"]
            assert await other.claim("webhook.idle")  # deleted, not left to expire
            assert not await other.claim("webhook.asked")
        finally:
            await nc.close()

    asyncio.run(main())
