"""The FastAPI application: wiring, lifespan (open the store, rebuild the index), health."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from deconfliction import __version__
from deconfliction.api import (
    _routes_activities,
    _routes_admin,
    _routes_assets,
    _routes_inbox,
    _routes_ledger,
    _routes_reports,
    _routes_sites,
    _routes_tracks,
    _routes_webhooks,
)
from deconfliction.api._admission import Admission, AdmissionControl
from deconfliction.api._bodylimit import BodyLimit
from deconfliction.api._logging import AccessLog
from deconfliction.api._problems import install_problem_handlers, problem
from deconfliction.api._ratelimit import RateLimiter
from deconfliction.api._security import install_security
from deconfliction.api._settings import Settings
from deconfliction.api._stream import router as stream_router
from deconfliction.api._webhooks import Backoff, WebhookWorker
from deconfliction.audit import Ledger
from deconfliction.bus import Bus, InProcessBus
from deconfliction.errors import DeconflictionError, InvalidInput, InvalidPolicy
from deconfliction.hotline import Clock, Hotline
from deconfliction.model import Policy
from deconfliction.store import open_store

__all__ = ["build_hotline", "create_app", "load_policy", "open_bus"]

_log = logging.getLogger("deconfliction.api")

DESCRIPTION = """\
Declare 4D activities and protected sites; every party they affect is told at once, with
the lead time measured by the hub and late notices flagged. **It notifies; it never
approves.** Authenticate with `Authorization: Bearer <token>`. Errors are RFC 9457 problem
details. GeoJSON volumes: see the README (geodesic edges, altitudes in metres above the
WGS84 ellipsoid, aware UTC times).
"""


def load_policy(settings: Settings) -> Policy:
    if settings.policy is None:
        return Policy.default()
    try:
        text = settings.policy.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidPolicy("policy", f"cannot read {settings.policy}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidPolicy("policy", f"{settings.policy} is not UTF-8 text") from None
    return Policy.from_toml(text)


def open_bus(settings: Settings) -> Bus:
    """The bus ``settings`` name: NATS JetStream when ``bus_url`` is set (several nodes),
    else this process's own; not started yet."""
    if settings.bus_url is None:
        return InProcessBus()
    try:
        from deconfliction.bus import NatsBus
    except ImportError:
        raise InvalidInput(
            "bus_url", "a NATS bus needs nats-py: pip install 'deconfliction[nats]'"
        ) from None
    return NatsBus(
        [u.strip() for u in settings.bus_url.split(",")],
        node_name=settings.node_name,
        stream=settings.bus_stream,
        subject=settings.bus_subject,
        max_age_s=settings.bus_max_age_s,
        lease_s=settings.bus_lease_s,
        track_subject=settings.bus_track_subject,
    )


def build_hotline(settings: Settings, bus: Bus, clock: Clock | None = None) -> Hotline:
    """Open (and migrate) the store and build the service; the index is not loaded yet."""
    policy = load_policy(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # the hub key lives there
    store = open_store(settings.effective_database_url())
    ledger = Ledger.open(settings.data_dir)
    hotline = Hotline(store, policy, clock=clock, sink=bus, recorder=ledger)
    hotline.sole_tactical_node = settings.bus_url is None  # several nodes: each its alerts
    exchange = getattr(bus, "tracks", None)  # the NATS bus: the tactical engine shards
    if exchange is not None:
        hotline.shard_tracks(exchange, settings.shard_size_km, settings.tactical_cycle_s)
    return hotline


def _progress_bar(enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if total == 0:
            return
        if "bar" not in bar:
            bar["bar"] = tqdm(
                total=total,
                desc="rebuilding index",
                unit="activity",
                file=sys.stderr,
                leave=True,
                mininterval=0.5,
            )
        b = bar["bar"]
        b.update(done - b.n)
        if done >= total:
            b.close()

    return update


async def _sweep(hotline: Hotline, interval_s: float) -> None:
    """Expire overdue notices every ``interval_s``. A failed sweep is logged and the next
    one retries: deadlines must keep being watched whatever one sweep hit."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            expired = await run_in_threadpool(hotline.expire_due)
            await run_in_threadpool(hotline.sweep_links)
        except Exception:  # keep sweeping; the error is logged with its traceback
            _log.exception("the deadline/link sweep failed; retrying in %.1f s", interval_s)
            continue
        if expired:
            _log.info("%d notice(s) passed their answer deadline", len(expired))


async def _follow(hotline: Hotline, interval_s: float) -> None:
    """Follow the store's change feed every ``interval_s``, so that reads on this node (a
    dry-run check, the tactical engine) see what other nodes wrote. Writes do not wait for
    it: each follows the feed itself under the writer lock. A failure is logged and
    retried."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            n = await run_in_threadpool(hotline.follow)
        except Exception:  # keep following; the error is logged with its traceback
            _log.exception("following the change feed failed; retrying in %.1f s", interval_s)
            continue
        if n:
            _log.debug("change feed: %d change(s) from other nodes applied", n)


async def _tactical(hotline: Hotline, interval_s: float) -> None:
    """Run the tactical cycle every ``interval_s`` (a cycle that overruns delays the next,
    never overlaps it). A failed cycle is logged and the next one runs: the picture must
    keep being watched."""
    while True:
        started = time.monotonic()
        try:
            tick = await run_in_threadpool(hotline.tactical_tick)
        except Exception:  # keep watching; the error is logged with its traceback
            _log.exception("a tactical cycle failed; the next runs in %.1f s", interval_s)
        else:
            took = time.monotonic() - started
            if took > interval_s:
                _log.warning(
                    "tactical cycle took %.2f s (> %.2f s) for %d tracks and %d volumes",
                    took,
                    interval_s,
                    tick.tracks,
                    tick.volumes,
                )
        await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - started)))


Background = Callable[[Hotline], Awaitable[None]]
"""A task the app runs once the hub is ready, until it stops (e.g. the surveillance feeds
of :mod:`deconfliction.interop`): it gets the hotline; an error it raises is logged."""


async def _guarded(name: str, task: Background, hotline: Hotline) -> None:
    try:
        await task(hotline)
    except asyncio.CancelledError:
        raise
    except Exception:  # a background task failed: log it, keep the hub serving
        _log.exception("background task %s stopped with an error", name)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    background: Sequence[Background] = (),
) -> FastAPI:
    """The hub's ASGI app. The store opens and the index is rebuilt when it starts; then
    the ``background`` tasks start (and are cancelled when it stops)."""
    settings = settings or Settings()
    bus = open_bus(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        t0 = time.perf_counter()
        await run_in_threadpool(bus.start)
        try:
            async with serving(app, t0):
                yield
        finally:  # after the workers stopped: the bus flushes what they published
            await run_in_threadpool(bus.close)

    @asynccontextmanager
    async def serving(app: FastAPI, t0: float) -> AsyncIterator[None]:
        """The hub proper, while the bus runs: store, index, workers, background tasks."""
        hotline = await run_in_threadpool(build_hotline, settings, bus, clock)
        app.state.hotline = hotline
        n = await run_in_threadpool(hotline.rebuild_index, _progress_bar(settings.progress))
        gc.freeze()  # start-up objects and the index: out of every later collection
        app.state.ready = True
        app.state.rebuild_s = time.perf_counter() - t0
        _log.info("index rebuilt: %d objects in %.2f s", n, app.state.rebuild_s)
        sweeper = asyncio.create_task(_sweep(hotline, settings.sweep_interval_s))
        watcher = asyncio.create_task(_tactical(hotline, settings.tactical_cycle_s))
        follower = asyncio.create_task(_follow(hotline, settings.follow_interval_s))
        worker = WebhookWorker(
            hotline,
            bus,
            timeout_s=settings.webhook_timeout_s,
            backoff=Backoff(settings.webhook_retry_base_s, settings.webhook_retry_max_s),
            poll_s=settings.webhook_poll_s,
        )
        app.state.webhooks = worker
        delivering = asyncio.create_task(worker.run())
        extra = [
            asyncio.create_task(_guarded(getattr(b, "__name__", type(b).__name__), b, hotline))
            for b in background
        ]
        try:
            yield
        finally:
            app.state.ready = False
            for task in (*extra, delivering, sweeper, watcher, follower):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            hotline.store.close()

    app = FastAPI(
        title="Deconfliction Hotline",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.bus = bus
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    app.state.ready = False
    install_problem_handlers(app)
    routers = (
        _routes_admin,
        _routes_activities,
        _routes_sites,
        _routes_inbox,
        _routes_assets,
        _routes_tracks,
        _routes_ledger,
        _routes_reports,
        _routes_webhooks,
    )
    for r in routers:
        app.include_router(r.router)
    app.include_router(_routes_tracks.alerts_router)
    app.include_router(stream_router)

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="The store is reachable and the index loaded")
    def readyz(request: Request) -> JSONResponse:
        if not request.app.state.ready:
            return problem(503, "starting: the index is being rebuilt")
        try:
            with request.app.state.hotline.store.read() as tx:
                tx.list_parties()
        except (SQLAlchemyError, DeconflictionError):  # anything else is a bug: let it surface
            _log.exception("readiness check failed")
            return problem(503, "the store is not reachable")
        body: dict[str, Any] = {
            "status": "ready",
            "volumes": request.app.state.hotline.index.volume_count,
        }
        adm = request.app.state.admission
        body["admission"] = {
            "writes_in_flight": adm.in_flight,
            "max_writes_in_flight": adm.max_in_flight,
            "refused": adm.refused,
        }
        stats = getattr(bus, "stats", None)  # the NATS bus's counters (a down link: still ready)
        if stats is not None:
            body["bus"] = {"node": settings.node_name} | stats.as_dict()
        tactical = request.app.state.hotline.tactical_status()
        exchange = getattr(bus, "tracks", None)
        if exchange is not None:
            tactical |= {"exchange_counts": exchange.stats.as_dict()}
        body["tactical"] = tactical
        return JSONResponse(body)

    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        paths={"/v1/tracks": settings.max_track_body_bytes},
    )
    app.state.admission = Admission(settings.max_writes_in_flight)
    app.add_middleware(AdmissionControl, admission=app.state.admission)
    install_security(app, settings)
    app.add_middleware(AccessLog)
    return app
