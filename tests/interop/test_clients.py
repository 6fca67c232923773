"""Feed clients against real loopback servers: an SBS-1 TCP server that drops the
connection, an aircraft.json file and an HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from deconfliction.interop import FeedStats, poll_aircraft_json, sbs_client
from deconfliction.model import Track

PARTY = UUID(int=13)


def sbs(clock: str, lat: float, hex_: str = "4CA1F3") -> bytes:
    return (
        f"MSG,3,1,1,{hex_},1,2026/12/01,{clock},2026/12/01,{clock},,24000,,,{lat},2.35,,,0,0,0,0\r\n"
    ).encode()


class Collector:
    """A sink that records batches and wakes the test when it has ``want`` reports."""

    def __init__(self, want: int) -> None:
        self.batches: list[list[Track]] = []
        self.want = want
        self.done = asyncio.Event()

    async def __call__(self, batch: list[Track]) -> None:
        self.batches.append(batch)
        if sum(map(len, self.batches)) >= self.want:
            self.done.set()

    @property
    def reports(self) -> list[Track]:
        return [r for b in self.batches for r in b]


async def cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def test_sbs_client_reads_batches_and_reconnects_after_the_server_drops_it() -> None:
    sessions: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sessions.append(len(sessions))
        if len(sessions) == 1:  # first connection: two reports, a bad line, then hang up
            writer.write(sbs("12:00:00.000", 48.0) + b"garbage\r\n" + sbs("12:00:01.000", 48.1))
        else:  # after the reconnection: one more report, and keep the line open
            writer.write(sbs("12:00:02.000", 48.2))
        await writer.drain()
        if len(sessions) == 1:
            writer.close()
            return
        await asyncio.sleep(30)

    async def main() -> tuple[Collector, FeedStats, float]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        sink, stats = Collector(3), FeedStats()
        started = time.monotonic()
        task = asyncio.create_task(
            sbs_client("127.0.0.1", port, PARTY, sink, stats=stats, flush_s=0.05, backoff_s=0.05)
        )
        await asyncio.wait_for(sink.done.wait(), 10)
        elapsed = time.monotonic() - started
        await cancel(task)
        server.close()
        await server.wait_closed()
        return sink, stats, elapsed

    sink, stats, elapsed = asyncio.run(main())
    assert [r.lat for r in sink.reports] == [48.0, 48.1, 48.2]
    assert all(r.party == PARTY and r.key == "4ca1f3" for r in sink.reports)
    assert stats.connects == 2
    assert stats.failures == 1
    assert stats.lines == 4
    assert stats.rejected == 1
    assert stats.delivered == 3
    assert "closed the connection" in stats.last_error
    assert elapsed < 5


def test_sbs_client_backs_off_while_nobody_listens() -> None:
    async def main() -> FeedStats:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()  # the port is now closed: connections are refused
        stats = FeedStats()
        task = asyncio.create_task(
            sbs_client("127.0.0.1", port, PARTY, Collector(1), stats=stats,
                       backoff_s=0.02, max_backoff_s=0.08)
        )  # fmt: skip
        await asyncio.sleep(0.5)
        await cancel(task)
        return stats

    stats = asyncio.run(main())
    # waits 0.02, 0.04, 0.08, 0.08, ... : about 7 attempts in 0.5 s, far fewer than 25
    assert 3 <= stats.failures <= 12, stats
    assert stats.connects == 0
    assert "connect to 127.0.0.1" in stats.last_error


def test_a_failing_sink_ends_the_sbs_client() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(sbs("12:00:00.000", 48.0))
        await writer.drain()
        await asyncio.sleep(30)

    async def broken(batch: list[Track]) -> None:
        raise RuntimeError("ingest is down")

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            await asyncio.wait_for(sbs_client("127.0.0.1", port, PARTY, broken, flush_s=0.05), 10)
        finally:
            server.close()

    with pytest.raises(RuntimeError, match="ingest is down"):
        asyncio.run(main())


def aircraft_doc(now: float, lat: float, seen_pos: float = 0.5) -> bytes:
    item = {"hex": "3c6586", "lat": lat, "lon": 8.57, "alt_baro": 24000, "seen_pos": seen_pos}
    return json.dumps({"now": now, "aircraft": [item, {"hex": "ffffff"}]}).encode()


def test_poll_aircraft_json_from_a_file_sends_only_new_positions(tmp_path: Path) -> None:
    path = tmp_path / "aircraft.json"
    now = time.time()

    async def main() -> tuple[Collector, FeedStats]:
        path.write_bytes(aircraft_doc(now, 50.0))
        sink, stats = Collector(2), FeedStats()
        task = asyncio.create_task(poll_aircraft_json(str(path), 0.05, PARTY, sink, stats=stats))
        await asyncio.sleep(0.3)  # several polls of the same document: one report
        assert len(sink.reports) == 1
        path.write_bytes(b"{not json")  # a bad poll is counted, the loop goes on
        await asyncio.sleep(0.2)
        path.write_bytes(aircraft_doc(now + 1, 50.01))
        await asyncio.wait_for(sink.done.wait(), 10)
        await cancel(task)
        return sink, stats

    sink, stats = asyncio.run(main())
    assert [r.lat for r in sink.reports] == [50.0, 50.01]
    assert stats.failures >= 1
    assert "not JSON" in stats.last_error
    assert stats.delivered == 2
    assert stats.connects >= 4


def test_poll_aircraft_json_over_http() -> None:
    now = time.time()
    served: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        served.append(1)
        if len(served) == 2:
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
        else:
            body = aircraft_doc(now + len(served), 50.0 + len(served) / 100)
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    async def main() -> tuple[Collector, FeedStats]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        sink, stats = Collector(2), FeedStats()
        url = f"http://127.0.0.1:{port}/data/aircraft.json"
        task = asyncio.create_task(poll_aircraft_json(url, 0.05, PARTY, sink, stats=stats))
        await asyncio.wait_for(sink.done.wait(), 10)
        await cancel(task)
        server.close()
        await server.wait_closed()
        return sink, stats

    sink, stats = asyncio.run(main())
    assert [r.lat for r in sink.reports] == [50.01, 50.03]
    assert stats.failures == 1
    assert "503" in stats.last_error
