"""The in-process bus: events reach their party's subscribers, in order, from any thread;
a subscriber that falls behind is flagged (it re-reads the store) instead of blocking."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from uuid import uuid4

from deconfliction.bus import InProcessBus
from deconfliction.hotline import Event

T = datetime(2026, 11, 25, tzinfo=UTC)


def test_events_reach_only_their_party_in_order_from_another_thread() -> None:
    bus = InProcessBus()
    blue, red = uuid4(), uuid4()

    async def main() -> tuple[list[int], bool]:
        sub_b, sub_r = bus.subscribe(blue), bus.subscribe(red)
        events = [Event(blue, i, "notice", {}, T) for i in range(1, 6)]
        t = threading.Thread(target=bus.publish, args=(events,))
        t.start()
        t.join()
        got = []
        while len(got) < 5:
            await asyncio.wait_for(sub_b.wake.wait(), 1.0)
            sub_b.wake.clear()
            while not sub_b.queue.empty():
                got.append(sub_b.queue.get_nowait().seq)
        await asyncio.sleep(0.01)
        bus.unsubscribe(sub_b)
        bus.unsubscribe(sub_r)
        return got, sub_r.queue.empty()

    got, red_empty = asyncio.run(main())
    assert got == [1, 2, 3, 4, 5]
    assert red_empty
    assert bus.subscriber_count() == 0


def test_a_slow_subscriber_is_flagged_lagging_not_blocking() -> None:
    bus = InProcessBus()
    party = uuid4()

    async def main() -> tuple[bool, int]:
        sub = bus.subscribe(party)
        bus.publish([Event(party, i, "notice", {}, T) for i in range(1, 2000)])
        await asyncio.sleep(0.05)
        return sub.lagging, sub.queue.qsize()

    lagging, size = asyncio.run(main())
    assert lagging
    assert size == 1024


def test_publishing_to_a_closed_loop_drops_the_subscriber() -> None:
    bus = InProcessBus()
    party = uuid4()

    async def subscribe() -> None:
        bus.subscribe(party)

    asyncio.run(subscribe())  # the loop closes with the subscription still registered
    bus.publish([Event(party, 1, "notice", {}, T)])
    assert bus.subscriber_count(party) == 0


def test_an_every_party_subscriber_gets_every_partys_events() -> None:
    bus = InProcessBus()
    blue, red = uuid4(), uuid4()

    async def main() -> tuple[list[tuple[str, int]], list[int], int]:
        every, only_blue = bus.subscribe_all(), bus.subscribe(blue)
        assert bus.subscriber_count() == 2
        assert bus.subscriber_count(blue) == 1
        bus.publish([Event(blue, 1, "a", {}, T), Event(red, 1, "b", {}, T)])
        bus.publish([Event(blue, 2, "c", {}, T)])
        await asyncio.sleep(0.01)
        assert every.wake.is_set()
        got = []
        while not every.queue.empty():
            e = every.queue.get_nowait()
            got.append((e.type, e.seq))
        mine = []
        while not only_blue.queue.empty():
            mine.append(only_blue.queue.get_nowait().seq)
        bus.unsubscribe(every)
        bus.unsubscribe(only_blue)
        return got, mine, bus.subscriber_count()

    got, mine, left = asyncio.run(main())
    assert got == [("a", 1), ("b", 1), ("c", 2)]
    assert mine == [1, 2]
    assert left == 0


def test_resync_flags_every_subscriber_lagging_from_another_thread() -> None:
    bus = InProcessBus()
    blue = uuid4()

    async def main() -> tuple[bool, bool, bool]:
        one, every = bus.subscribe(blue), bus.subscribe_all()
        assert not one.lagging
        t = threading.Thread(target=bus.resync)
        t.start()
        t.join()
        await asyncio.wait_for(one.wake.wait(), 1.0)
        await asyncio.wait_for(every.wake.wait(), 1.0)
        claimed = await bus.claim("webhook.x.1")
        return one.lagging, every.lagging, claimed

    assert asyncio.run(main()) == (True, True, True)
