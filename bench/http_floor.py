"""The HTTP floor: what one hub process can serve when a filing does *no* hotline work.

``bench/service.py`` measures real filings. This benchmark answers the question its
throughput target raises — how much of a filing's budget the web stack alone takes on this
machine — by serving ``POST /v1/activities`` with the same stack (uvicorn, FastAPI, the
same pydantic body model :class:`~deconfliction.api._schemas.ActivityIn`, the same
``draft_from`` conversion that validates the footprints) but no store, detection, ledger or
notices, then driving it with the service benchmark's client and bodies, closed-loop, at
the highest rate it takes. Figures: requests/s, the server's CPU time per request (its
user + system time over the run, from ``/proc``), and the same for a route that only
parses the body (``draft_from`` skipped). Baseline in the same run: a route that takes the
body as raw bytes and returns at once.

``python bench/http_floor.py [--seconds 10] [--concurrency 16]``; ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from service import Layout  # the service benchmark's bodies

_APP = """
from fastapi import FastAPI, Request
from deconfliction.api._convert import draft_from
from deconfliction.api._schemas import ActivityIn

app = FastAPI()

@app.post("/raw")
async def raw(request: Request) -> dict:
    await request.body()
    return {"id": "x"}

@app.post("/parse")
def parse(body: ActivityIn) -> dict:
    return {"id": "x", "volumes": len(body.volumes.features)}

@app.post("/v1/activities")
def validate(body: ActivityIn) -> dict:
    draft = draft_from(body)
    return {"id": "x", "volumes": len(draft.volumes)}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _drive(url: str, path: str, bodies: list[bytes], seconds: float, conc: int) -> int:
    done = 0
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:

        async def worker(k: int) -> None:
            nonlocal done
            i = k
            while time.perf_counter() < stop:
                r = await c.post(
                    path,
                    content=bodies[i % len(bodies)],
                    headers={"content-type": "application/json"},
                )
                r.raise_for_status()
                done += 1
                i += conc

        await asyncio.gather(*(worker(k) for k in range(conc)))
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()

    lay = Layout(datetime.now(UTC) + timedelta(days=2))
    bodies = [
        json.dumps(
            {
                "kind": "flight",
                "title": f"floor {i}",
                "volumes": {"type": "FeatureCollection", "features": [lay.feature(i)]},
            }
        ).encode()
        for i in range(2_000)
    ]
    app_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"http-floor-{os.getpid()}"
    app_dir.mkdir(exist_ok=True)
    (app_dir / "floor_app.py").write_text(_APP)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "floor_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=app_dir,
    )
    results: dict[str, dict[str, Any]] = {}
    try:
        for _ in range(100):
            try:
                httpx.post(f"{url}/raw", content=b"{}", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        for name, path in (("raw", "/raw"), ("parse", "/parse"), ("validate", "/v1/activities")):
            asyncio.run(_drive(url, path, bodies, 1.0, args.concurrency))  # warm up
            cpu0, t0 = _cpu_s(server.pid), time.perf_counter()
            n = asyncio.run(_drive(url, path, bodies, args.seconds, args.concurrency))
            wall, cpu = time.perf_counter() - t0, _cpu_s(server.pid) - cpu0
            results[name] = {"per_s": round(n / wall, 1), "server_cpu_ms": round(cpu / n * 1e3, 3)}
            print(
                f"{name:9s} {n / wall:8.1f} requests/s   server CPU {cpu / n * 1e3:6.3f} ms/request",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(10)
    v, r = results["validate"], results["raw"]
    print(
        f"a filing route with no hotline work: {v['per_s']:.0f}/s "
        f"({v['server_cpu_ms'] / r['server_cpu_ms']:.1f}× the CPU of an empty POST); "
        f"the service target of 300 filings/s leaves {1e3 / 300 - v['server_cpu_ms']:.2f} ms "
        "of one core per filing for detection, storage, ledger and delivery"
    )
    print(
        json.dumps(
            {"bench": "http_floor", **{f"{k}_{m}": x[m] for k, x in results.items() for m in x}}
        )
    )


if __name__ == "__main__":
    main()
