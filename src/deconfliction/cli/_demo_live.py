"""The demo's live picture: the parties' own aircraft and real ADS-B traffic as tracks,
and the tactical alerts the hub raises from them.

Own tracks (dead-reckoned and re-posted every second): Civil's flight inspection aircraft
CAL-01 flying east inside Red's engagement zone (an incursion), Blue's VIPER-1 head-on with
it (a proximity alert between Blue and Civil) and Green's relief helicopter RELIEF-2 about
to enter the zone from the west (an incursion predicted a minute ahead). Beside them, the
real OpenSky recording of the Paris area (the ``traffic`` package's quickstart sample,
fetched once from the package registry into the cache) is replayed second by second,
shifted to now, as Civil's surveillance feed (``POST /v1/tracks``). Without the sample (no
registry) the demo says so and plays the own tracks alone.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from deconfliction.cli._client import HubClient
from deconfliction.errors import DeconflictionError
from deconfliction.hotline import track_json
from deconfliction.interop import fetch_samples, iter_sample_records, track_from_sample
from deconfliction.model import Track

__all__ = ["LivePicture", "describe", "play_live"]

_KT = 1852 / 3600
_FT = 0.3048
_R = 6_371_008.8

# key, party, lon, lat, altitude ft, speed kt, heading °
_OWN = (
    ("CAL-01", "Civil", 3.52, 49.57, 10_000, 140, 90.0),
    ("VIPER-1", "Blue", 3.70, 49.57, 10_000, 300, 270.0),
    ("RELIEF-2", "Green", 3.34, 49.60, 1_500, 100, 90.0),
)
REPLAY_FROM = datetime(2021, 10, 7, 13, 20, tzinfo=UTC)
"""Where the replay starts in the recording (a busy hour over Paris)."""
REPLAY_S = 600
"""How much of the recording is replayed (then it starts again)."""
LOOP_S = 240.0
"""The own aircraft fly their legs again every 4 minutes (so the alerts come back)."""


def _moved(lon: float, lat: float, heading: float, dist_m: float) -> tuple[float, float]:
    """Flat-earth dead reckoning (the demo's aircraft move a few km)."""
    h = math.radians(heading)
    dlat = dist_m * math.cos(h) / _R
    dlon = dist_m * math.sin(h) / (_R * math.cos(math.radians(lat)))
    return lon + math.degrees(dlon), lat + math.degrees(dlat)


class LivePicture:
    """Posts the demo's tracks once a second (:meth:`tick`), in the caller's thread or in
    a background one (:meth:`start`)."""

    def __init__(
        self,
        make: Callable[[str], HubClient],
        tokens: Mapping[str, str],
        ids: Mapping[str, str],
        say: Callable[[str], None],
    ) -> None:
        self._clients = {name: make(token) for name, token in tokens.items()}
        self._civil = UUID(ids["Civil"])
        self._say = say
        self._t0 = time.time()
        self._frames: list[list[dict[str, Any]]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.posted = 0

    # -- the recording -------------------------------------------------------------------

    def load_traffic(self) -> bool:
        """Read ``REPLAY_S`` seconds of the recording into per-second frames (fetching the
        sample first if needed); False (said why) when it is not available."""
        try:
            path = fetch_samples(say=lambda m: self._say(f"    {m}")) / "quickstart.json.gz"
        except DeconflictionError as exc:
            self._say(f"    the real traffic sample is not available ({exc}): own tracks only")
            return False
        start_ms = REPLAY_FROM.timestamp() * 1000
        end_ms = start_ms + REPLAY_S * 1000
        frames: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
        for rec in iter_sample_records(path):
            if not isinstance(rec, dict):
                continue
            ts = rec.get("timestamp")
            if isinstance(ts, int | float) and start_ms <= ts < end_ms and rec.get("icao24"):
                frames[int((ts - start_ms) // 1000)][str(rec["icao24"])] = rec
        self._frames = [list(frames[i].values()) for i in range(REPLAY_S)]
        n = len({a for f in self._frames for a in (r["icao24"] for r in f)})
        self._say(
            f"    replaying {n} real aircraft (OpenSky, Paris, {REPLAY_FROM:%Y-%m-%d %H:%M} UTC) "
            "as Civil's surveillance feed, shifted to now"
        )
        return True

    def _traffic(self, now: float) -> list[dict[str, Any]]:
        """This second's frame of the recording, shifted to now, as Civil's reports (read
        by the feeds' own sample parser, noise filter included)."""
        if not self._frames:
            return []
        i = int(now - self._t0) % REPLAY_S
        shift = timedelta(seconds=now - (REPLAY_FROM.timestamp() + i))
        items = []
        for r in self._frames[i]:
            t = track_from_sample(r, self._civil, shift=shift)
            if isinstance(t, Track):
                item = track_json(t)
                del item["party"]  # the token says whose it is
                items.append(item)
        return items

    # -- posting ---------------------------------------------------------------------------

    def tick(self) -> None:
        """Post every party's tracks as they are now (own ones dead-reckoned from the first
        tick: loading the recording may take a while)."""
        now = time.time()
        if not self.posted:
            self._t0 = now
        at = datetime.fromtimestamp(now, UTC).isoformat()
        by_party: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for key, party, lon, lat, alt_ft, kt, heading in _OWN:
            x, y = _moved(lon, lat, heading, kt * _KT * ((now - self._t0) % LOOP_S))
            by_party[party].append(
                {
                    "key": key,
                    "time": at,
                    "lon": x,
                    "lat": y,
                    "altitude_ft": alt_ft,
                    "ground_speed_kt": kt,
                    "track_deg": heading,
                }
            )
        by_party["Civil"].extend(self._traffic(now))
        for party, items in by_party.items():
            got = self._clients[party].post("/v1/tracks", {"tracks": items})
            self.posted += int(got["accepted"])

    def alerts(self) -> dict[str, list[dict[str, Any]]]:
        """Each party's open alerts."""
        return {name: c.get("/v1/alerts") for name, c in self._clients.items()}

    def start(self) -> None:
        """Keep posting once a second in a background thread until :meth:`stop`."""

        def run() -> None:
            while not self._stop.wait(1.0):
                try:
                    self.tick()
                except (DeconflictionError, OSError):  # the hub is stopping: end quietly
                    return

        self._thread = threading.Thread(target=run, name="demo-live", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for c in self._clients.values():
            c.close()


def describe(alert: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """One line for an alert, naming the parties."""
    tracks = ", ".join(f"{names.get(t['party'], '?')} {t['key']}" for t in alert["tracks"])
    if alert["kind"] == "proximity":
        return (
            f"PROXIMITY {tracks}: separation lost in {alert['time_to_s']:.0f} s, "
            f"closest {alert['cpa_distance_m'] / 1852:.1f} NM"
        )
    if alert["kind"] == "incursion":
        mover = alert["tracks"][0]["party"]
        owner = next((names.get(p, "?") for p in alert["parties"] if p != mover), "another party")
        when = "inside" if not alert["time_to_s"] else f"entering in {alert['time_to_s']:.0f} s"
        return f"INCURSION {tracks} {when} {owner}'s declared area"
    return f"NON-CONFORMING {tracks}: outside its activity's declared area"


EXPECTED = frozenset({("incursion", "Civil"), ("incursion", "Green"), ("proximity", "Blue")})
"""Alerts the own aircraft raise (kind, a party told), waited for by :func:`play_live`."""


def play_live(
    live: LivePicture, ids: Mapping[str, str], say: Callable[[str], None], *, wait_s: float = 20.0
) -> dict[str, Any]:
    """Post the tracks once a second until the own aircraft's alerts are up (at most
    ``wait_s``), then show each party's open alerts; the demo's step record."""
    names = {v: k for k, v in ids.items()}
    deadline = time.monotonic() + wait_s
    seen: dict[str, list[dict[str, Any]]] = {}
    while True:
        live.tick()
        time.sleep(1.0)
        seen = live.alerts()
        got = {(a["kind"], party) for party, alerts in seen.items() for a in alerts}
        if got >= EXPECTED or time.monotonic() > deadline:
            break
    say(f"    {live.posted:,} positions taken; the tactical engine checks them every second:")
    for party, alerts in seen.items():
        for a in alerts:
            say(f"    {party:<6} {describe(a, names)}")
    say(
        "    Each alert is a notice too (acknowledge it like any other); it is cleared, and "
        "said so, when the situation ends."
    )
    return {
        "step": "live",
        "positions": live.posted,
        "alerts": {p: sorted({a["kind"] for a in alerts}) for p, alerts in seen.items()},
    }
