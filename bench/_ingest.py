"""Track ingest through the batch API: the real server (uvicorn, SQLite) on loopback, one
party posting ``POST /v1/tracks`` batches of 10,000 reports, one after another; and, as the
baseline in the same process, the hotline's own ingest (no HTTP, no JSON) of the same
reports. Used by ``bench/tactical.py`` (``ingest_per_s``).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from deconfliction.api import Settings, build_hotline
from deconfliction.api._track_items import track_from_item
from deconfliction.bus import InProcessBus
from deconfliction.model import PartyKind

__all__ = ["ingest_rates"]


def _reports(n: int, batch: int, t0: datetime) -> list[list[dict[str, Any]]]:
    """``n`` reports of distinct aircraft, one second apart per round, as JSON items."""
    out = []
    for b in range(n // batch):
        at = (t0 + timedelta(seconds=b)).isoformat()
        out.append(
            [
                {
                    "key": f"AC{i:06d}",
                    "time": at,
                    "lat": 40.0 + (i % 400) * 0.05,
                    "lon": -5.0 + (i // 400) * 0.05 + b * 0.001,
                    "altitude_ft": 20_000 + (i % 200) * 100,
                    "ground_speed_kt": 420.0,
                    "track_deg": float(i % 360),
                    "vertical_rate_fpm": 0.0,
                    "icao24": f"{i:06x}",
                    "source": "adsb",
                }
                for i in range(batch)
            ]
        )
    return out


def ingest_rates(*, n: int = 100_000, batch: int = 10_000) -> tuple[float, float]:
    """(reports/s through ``POST /v1/tracks``, reports/s of the in-process ingest)."""
    from service import Server  # the service benchmark's server runner

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        data = Path(tmp)
        hot = build_hotline(Settings(data_dir=data, progress=False), InProcessBus())
        boot = hot.bootstrap()
        assert boot is not None
        admin = hot.authenticate(boot[1])
        party = hot.add_party(admin, "Civil ANSP", PartyKind.AIR_NAVIGATION_SERVICE)
        _, token = hot.create_token(admin, party.id, "operator", "bench")
        p = hot.authenticate(token)

        # baseline: the hotline's ingest of the same reports, built by the route's own
        # item reader beforehand (no HTTP, no JSON, no building in the timing)
        t0 = datetime.now(UTC) - timedelta(seconds=60)
        base = [[track_from_item(it, party.id) for it in items] for items in _reports(n, batch, t0)]
        start = time.perf_counter()
        for tracks in base:
            got = hot.ingest_tracks(p, list(tracks))
            assert not got.rejected, got.rejected[:2]
        in_process = n / (time.perf_counter() - start)
        hot.store.close()

        server = Server(data)
        server.start()
        try:
            bodies = [
                orjson.dumps({"tracks": items})
                for items in _reports(n, batch, datetime.now(UTC) - timedelta(seconds=30))
            ]
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=60) as c:
                start = time.perf_counter()
                for body in bodies:
                    r = c.post("/v1/tracks", content=body)
                    r.raise_for_status()
                    assert r.json()["accepted"] == batch, r.text[:300]
                http = n / (time.perf_counter() - start)
        finally:
            server.stop()
    return http, in_process
