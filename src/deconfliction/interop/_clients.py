"""Feed clients: small asyncio loops that read a receiver and hand reports to a sink.

``sink`` is an async callable taking a list of :class:`~deconfliction.model.Track` (the
hub wires it to its ingest). The loops run until cancelled; a lost connection or a failed
poll is logged, counted in :class:`FeedStats` and retried; an exception raised by the sink
is not caught — it ends the loop, for the caller to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx

from deconfliction.errors import InvalidInput
from deconfliction.interop._common import DEFAULT_FEED_LIMITS, FeedLimits
from deconfliction.interop._json_feeds import parse_aircraft_json, parse_opensky_states
from deconfliction.interop._sbs import SbsDecoder
from deconfliction.model import Track, TrackBatchResult

__all__ = ["FeedStats", "Sink", "poll_aircraft_json", "poll_opensky", "sbs_client"]

log = logging.getLogger(__name__)

Sink = Callable[[list[Track]], Awaitable[None]]
"""Where a feed client delivers its reports, a batch at a time."""

_LINE_LIMIT = 4_096


@dataclass(slots=True)
class FeedStats:
    """Counters of one feed client (read them for the channel's health)."""

    connects: int = 0
    """Successful connections (SBS) or polls (aircraft.json)."""
    failures: int = 0
    """Failed connections, lost connections, failed polls or unreadable documents."""
    lines: int = 0
    """Lines (SBS) or aircraft entries (aircraft.json) read."""
    delivered: int = 0
    """Reports handed to the sink."""
    rejected: int = 0
    """Lines or entries refused (malformed or implausible)."""
    last_error: str = ""


async def _read_session(
    reader: asyncio.StreamReader,
    decoder: SbsDecoder,
    sink: Sink,
    stats: FeedStats,
    flush_s: float,
    max_batch: int,
) -> None:
    """Read lines until the connection ends, delivering every ``flush_s`` or ``max_batch``."""
    pending: list[Track] = []
    deadline = time.monotonic() + flush_s
    try:
        while True:
            timeout = max(0.0, deadline - time.monotonic())
            try:
                line = await asyncio.wait_for(reader.readline(), timeout)
            except TimeoutError:
                line = None
            except ValueError:  # a line over the limit (the reader drops it)
                stats.lines += 1
                stats.rejected += 1
                continue
            if line == b"":
                return  # the server closed the connection
            if line is not None:
                stats.lines += 1
                out = decoder.feed(line)
                if isinstance(out, Track):
                    pending.append(out)
                elif out is not None:
                    stats.rejected += 1
                    log.debug("SBS line refused: %s", out)
            if pending and (len(pending) >= max_batch or time.monotonic() >= deadline):
                batch, pending = pending, []
                await sink(batch)
                stats.delivered += len(batch)
            if time.monotonic() >= deadline:
                deadline = time.monotonic() + flush_s
    finally:
        if pending:
            await sink(pending)
            stats.delivered += len(pending)


async def sbs_client(
    host: str,
    port: int,
    party: UUID,
    sink: Sink,
    *,
    decoder: SbsDecoder | None = None,
    stats: FeedStats | None = None,
    flush_s: float = 0.5,
    max_batch: int = 1_000,
    backoff_s: float = 1.0,
    max_backoff_s: float = 60.0,
    connect_timeout_s: float = 10.0,
) -> None:
    """Read SBS-1 lines from ``host:port`` (dump1090/readsb port 30003) for ever.

    Reports go to ``sink`` at least every ``flush_s`` seconds (or every ``max_batch``
    reports). When the connection fails or ends, the client waits ``backoff_s``, doubled
    after each failure up to ``max_backoff_s``, and reconnects; a connection that
    delivered lines resets the wait. ``decoder`` defaults to a UTC :class:`SbsDecoder`
    for ``party`` (its aircraft state survives reconnections).
    """
    decoder = decoder or SbsDecoder(party)
    stats = stats if stats is not None else FeedStats()
    wait = backoff_s
    while True:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, limit=_LINE_LIMIT), connect_timeout_s
            )
        except (OSError, TimeoutError) as exc:
            stats.failures += 1
            stats.last_error = f"connect to {host}:{port}: {str(exc) or type(exc).__name__}"
            log.warning(
                "SBS feed %s:%s: cannot connect (%s); retry in %.1f s", host, port, exc, wait
            )
        else:
            stats.connects += 1
            lines_before = stats.lines
            log.info("SBS feed %s:%s: connected", host, port)
            try:
                await _read_session(reader, decoder, sink, stats, flush_s, max_batch)
                stats.last_error = f"{host}:{port} closed the connection"
            except (OSError, asyncio.IncompleteReadError) as exc:
                stats.last_error = f"{host}:{port}: {str(exc) or type(exc).__name__}"
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            stats.failures += 1
            if stats.lines > lines_before:
                wait = backoff_s
            log.warning("SBS feed: %s; reconnect in %.1f s", stats.last_error, wait)
        await asyncio.sleep(wait)
        wait = min(max_backoff_s, wait * 2)


async def _fetch(source: str, client: httpx.AsyncClient | None, timeout_s: float) -> bytes:
    if source.startswith(("http://", "https://")):
        if client is not None:
            response = await client.get(source, timeout=timeout_s)
        else:
            async with httpx.AsyncClient() as own:
                response = await own.get(source, timeout=timeout_s)
        response.raise_for_status()
        return response.content
    return await asyncio.to_thread(Path(source).read_bytes)


async def poll_aircraft_json(
    url_or_path: str,
    interval: float,
    party: UUID,
    sink: Sink,
    *,
    limits: FeedLimits = DEFAULT_FEED_LIMITS,
    stats: FeedStats | None = None,
    client: httpx.AsyncClient | None = None,
    timeout_s: float = 5.0,
) -> None:
    """Poll a readsb/dump1090 ``aircraft.json`` (an http(s) URL or a file) every
    ``interval`` seconds for ever, delivering the positions that are new since the last
    poll (an unchanged position is not sent again)."""
    await _poll(
        url_or_path,
        interval,
        lambda data: parse_aircraft_json(data, party, limits=limits),
        sink,
        "aircraft.json",
        stats if stats is not None else FeedStats(),
        client,
        timeout_s,
    )


async def poll_opensky(
    url_or_path: str,
    interval: float,
    party: UUID,
    sink: Sink,
    *,
    limits: FeedLimits = DEFAULT_FEED_LIMITS,
    stats: FeedStats | None = None,
    client: httpx.AsyncClient | None = None,
    timeout_s: float = 10.0,
) -> None:
    """Poll OpenSky state vectors (``/states/all`` or a file of that shape) every
    ``interval`` seconds for ever, delivering the positions that are new since the last
    poll."""
    await _poll(
        url_or_path,
        interval,
        lambda data: parse_opensky_states(data, party, limits=limits),
        sink,
        "OpenSky",
        stats if stats is not None else FeedStats(),
        client,
        timeout_s,
    )


async def _poll(
    source: str,
    interval: float,
    parse: Callable[[bytes], TrackBatchResult],
    sink: Sink,
    label: str,
    stats: FeedStats,
    client: httpx.AsyncClient | None,
    timeout_s: float,
) -> None:
    last: dict[str, tuple[float, float, float]] = {}  # key -> (time, lat, lon)
    while True:
        started = time.monotonic()
        try:
            result = parse(await _fetch(source, client, timeout_s))
        except (OSError, httpx.HTTPError, InvalidInput) as exc:
            stats.failures += 1
            stats.last_error = f"{source}: {str(exc) or type(exc).__name__}"
            log.warning("%s feed: %s", label, stats.last_error)
        else:
            stats.connects += 1
            stats.lines += len(result.accepted) + len(result.rejected) + result.skipped
            stats.rejected += len(result.rejected)
            fresh: list[Track] = []
            for r in result.accepted:
                seen = last.get(r.key)
                t = r.time.timestamp()
                if seen is not None and (t <= seen[0] or (r.lat, r.lon) == seen[1:]):
                    continue
                last[r.key] = (t, r.lat, r.lon)
                fresh.append(r)
            if fresh:
                await sink(fresh)
                stats.delivered += len(fresh)
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
