"""Configured surveillance feeds, run beside the hub: each reads a receiver and hands its
reports to the hub's ingest under the party it is attributed to.

The feeds file (``DECONFLICTION_FEEDS`` or ``--feeds``) is TOML, one ``[[feeds]]`` table
each::

    [[feeds]]
    name = "Roissy receiver"
    type = "sbs1"                # dump1090/readsb port 30003, as a TCP client
    host = "192.0.2.10"
    port = 30003
    party = "Civil ANSP"         # the party's name or id
    timezone = "UTC"             # SBS-1 times are the receiver's local time

    [[feeds]]
    type = "aircraft_json"       # readsb/dump1090 aircraft.json, polled (URL or file)
    url = "http://192.0.2.11/tar1090/data/aircraft.json"
    interval_s = 1.0
    party = "Civil ANSP"

    [[feeds]]
    type = "opensky"             # OpenSky state vectors (/states/all, or a file of them)
    url = "https://opensky-network.org/api/states/all?lamin=48&lomin=1&lamax=50&lomax=4"
    interval_s = 10.0
    party = "Civil ANSP"

A bad file is refused at start with the one reason (:class:`InvalidInput`); a feed that
cannot connect is retried with backoff and counted in its :class:`FeedStats` (the hub
keeps serving). Reports go through :meth:`~deconfliction.hotline.Hotline.ingest_feed`
(the same checks as ``POST /v1/tracks``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deconfliction.errors import InvalidInput
from deconfliction.hotline import Hotline
from deconfliction.interop._clients import (
    FeedStats,
    poll_aircraft_json,
    poll_opensky,
    sbs_client,
)
from deconfliction.interop._sbs import SbsDecoder
from deconfliction.model import Track

__all__ = ["FEED_TYPES", "FeedConfig", "Feeds", "load_feeds"]

log = logging.getLogger(__name__)

FEED_TYPES = ("sbs1", "aircraft_json", "opensky")
_KEYS = {
    "sbs1": {"name", "type", "party", "host", "port", "timezone"},
    "aircraft_json": {"name", "type", "party", "url", "interval_s"},
    "opensky": {"name", "type", "party", "url", "interval_s"},
}


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """One configured feed."""

    type: str
    party: str
    """The party's name or id (resolved when the feeds start)."""
    name: str = ""
    host: str = ""
    port: int = 0
    timezone: str = "UTC"
    url: str = ""
    interval_s: float = 1.0


def _feed(i: int, t: object) -> FeedConfig:
    where = f"feeds[{i}]"
    if not isinstance(t, dict):
        raise InvalidInput(where, "must be a table")
    kind = t.get("type")
    if kind not in FEED_TYPES:
        raise InvalidInput(f"{where}.type", f"must be one of: {', '.join(FEED_TYPES)}")
    unknown = sorted(set(t) - _KEYS[kind])
    if unknown:
        raise InvalidInput(f"{where}.{unknown[0]}", f"unknown key for a {kind} feed")
    party = t.get("party")
    if not isinstance(party, str) or not party.strip():
        raise InvalidInput(f"{where}.party", "must name the party the feed reports for")
    name = t.get("name", f"{kind} feed {i + 1}")
    if not isinstance(name, str):
        raise InvalidInput(f"{where}.name", "must be text")
    if kind == "sbs1":
        host, port, tz = t.get("host"), t.get("port"), t.get("timezone", "UTC")
        if not isinstance(host, str) or not host:
            raise InvalidInput(f"{where}.host", "must be a host name or address")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise InvalidInput(f"{where}.port", "must be a TCP port (1–65535)")
        if not isinstance(tz, str):
            raise InvalidInput(f"{where}.timezone", "must be a time zone name")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"{where}.timezone", f"unknown time zone {tz!r}") from None
        return FeedConfig(kind, party.strip(), name, host=host, port=port, timezone=tz)
    url, every = t.get("url"), t.get("interval_s", 1.0)
    if not isinstance(url, str) or not url:
        raise InvalidInput(f"{where}.url", "must be an http(s) URL or a file path")
    if (
        isinstance(every, bool)
        or not isinstance(every, int | float)
        or not math.isfinite(every)
        or not 0.1 <= every <= 3600
    ):
        raise InvalidInput(f"{where}.interval_s", "must be a number of seconds from 0.1 to 3600")
    return FeedConfig(kind, party.strip(), name, url=url, interval_s=float(every))


def load_feeds(path: Path) -> list[FeedConfig]:
    """The feeds of a TOML file (raises InvalidInput naming the first problem)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput("feeds", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "feeds", f"{path} is not UTF-8 text: {exc.reason} at byte {exc.start}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("feeds", f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(doc) - {"feeds"})
    if unknown:
        raise InvalidInput(unknown[0], "unknown table (the file holds [[feeds]] tables)")
    tables = doc.get("feeds", [])
    if not isinstance(tables, list):
        raise InvalidInput("feeds", "must be an array of tables ([[feeds]])")
    return [_feed(i, t) for i, t in enumerate(tables)]


@dataclass
class Feeds:
    """Runs the configured feeds against a hub (``await feeds(hotline)``, as an app
    background task); :attr:`stats` has each feed's counters by name."""

    configs: list[FeedConfig]
    stats: dict[str, FeedStats] = field(default_factory=dict)

    def _party(self, hotline: Hotline, ref: str) -> UUID:
        with hotline.store.read() as tx:
            parties = tx.list_parties()
        for p in parties:
            if str(p.id) == ref or p.name == ref:
                return p.id
        raise InvalidInput("feeds.party", f"no party named {ref!r} (nor with that id)")

    async def __call__(self, hotline: Hotline) -> None:
        tasks = [
            asyncio.create_task(self._run(hotline, cfg), name=f"feed {cfg.name}")
            for cfg in self.configs
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, hotline: Hotline, cfg: FeedConfig) -> None:
        """Wait for the feed's party to exist (a hub may be set up after it starts), then
        run its client for ever."""
        wait = 1.0
        while True:
            try:
                party = await asyncio.to_thread(self._party, hotline, cfg.party)
                break
            except InvalidInput as exc:
                log.warning("feed %s: %s; looking again in %.0f s", cfg.name, exc.reason, wait)
                await asyncio.sleep(wait)
                wait = min(60.0, wait * 2)
        stats = self.stats.setdefault(cfg.name, FeedStats())

        async def sink(tracks: list[Track]) -> None:
            got = await asyncio.to_thread(hotline.ingest_feed, party, tracks)
            if got.rejected:
                log.info(
                    "feed %s: %d report(s) refused, e.g. %s",
                    cfg.name,
                    len(got.rejected),
                    got.rejected[0].reason,
                )

        log.info("feed %s (%s) started for party %s", cfg.name, cfg.type, cfg.party)
        if cfg.type == "sbs1":
            decoder = SbsDecoder(party, tz=ZoneInfo(cfg.timezone))
            await sbs_client(cfg.host, cfg.port, party, sink, decoder=decoder, stats=stats)
        elif cfg.type == "aircraft_json":
            await poll_aircraft_json(cfg.url, cfg.interval_s, party, sink, stats=stats)
        else:
            await poll_opensky(cfg.url, cfg.interval_s, party, sink, stats=stats)
