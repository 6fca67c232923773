"""The operations console, served by the hub itself: ``/`` (the page), ``/static/…`` (its
files, vendored libraries included: no CDN), ``/console/config.json`` and, for a local tile
file, ``/tiles/{z}/{x}/{y}``.

Every console response carries a strict Content-Security-Policy (scripts and styles from the
hub only, no inline script, no framing) and the usual hardening headers, in place of the
API's general ones (``api._security``: ``frame-ancestors 'none'`` only, as ``/docs`` loads
its viewer from a CDN).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi import FastAPI, Response
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deconfliction import __version__
from deconfliction.api import Caller, HotlineDep, Settings
from deconfliction.errors import NotFound
from deconfliction.hotline import timeline_json
from deconfliction.interop import create_hub_app
from deconfliction.model import ActivityKind, MessageTemplate, Priority, SiteCategory
from deconfliction.web._report import report_html
from deconfliction.web._tiles import TileSource, open_tiles

__all__ = ["STATIC_DIR", "console_csp", "create_console_app", "mount_console"]

STATIC_DIR = Path(str(files("deconfliction.web") / "static"))
_CONSOLE_PREFIXES = ("/static/", "/console/", "/tiles/")
_MAX_ZOOM = 30


def console_csp(tiles: TileSource | None) -> str:
    """The console's Content-Security-Policy: everything from the hub, tiles from their
    configured origin, the stream over the hub's own WebSocket."""
    img = "'self' data: blob:" + (f" {tiles.origin}" if tiles and tiles.origin else "")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {img}; connect-src 'self'; font-src 'self'; media-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


class _ConsoleHeaders:
    """Adds the console's security headers to the console's own responses."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/" or path.startswith(_CONSOLE_PREFIXES)):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                mine = {n for n, _ in self.headers}
                kept = [(n, v) for n, v in message.get("headers", []) if n.lower() not in mine]
                message["headers"] = kept + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _config(settings: Settings, tiles: TileSource | None) -> dict[str, Any]:
    return {
        "version": __version__,
        "heartbeat_s": settings.heartbeat_s,
        "tiles": None if tiles is None else tiles.config(),
        "activity_kinds": [k.value for k in ActivityKind],
        "priorities": [p.value for p in Priority],
        "message_templates": [t.value for t in MessageTemplate],
        "site_categories": [c.value for c in SiteCategory],
    }


def mount_console(app: FastAPI, settings: Settings) -> None:
    """Serve the console on ``app`` (a bad tile setting is refused here, at start)."""
    tiles = open_tiles(settings.tiles, settings.tiles_attribution)
    app.state.tiles = tiles
    config = _config(settings, tiles)

    @app.get("/", include_in_schema=False)
    def console_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/console/config.json", tags=["console"], summary="The console's settings")
    def console_config() -> dict[str, Any]:
        return config

    @app.get(
        "/console/activities/{activity_id}/report",
        tags=["console"],
        summary="My activity's report: one self-contained HTML page (owner only)",
        response_class=HTMLResponse,
    )
    def activity_report(activity_id: UUID, caller: Caller, hotline: HotlineDep) -> HTMLResponse:
        """The timeline (``/v1/activities/{id}/timeline``) as the page
        ``deconfliction report activity`` writes, for download from the console."""
        doc = timeline_json(hotline.timeline(caller, activity_id))
        page = report_html(doc, source="downloaded from the console")
        name = f"activity-{activity_id}.html"
        return HTMLResponse(page, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    if tiles is not None and tiles.archive is not None:
        archive = tiles.archive

        @app.get("/tiles/{z}/{x}/{y}", tags=["console"], summary="A basemap tile (local file)")
        def tile(z: int, x: int, y: int) -> Response:
            if not (0 <= z <= _MAX_ZOOM and 0 <= x < (1 << z) and 0 <= y < (1 << z)):
                raise NotFound("tile", f"{z}/{x}/{y}")
            data = archive.get(z, x, y)
            if data is None:
                raise NotFound("tile", f"{z}/{x}/{y}")
            return Response(
                data, media_type=archive.media_type, headers={"Cache-Control": "max-age=86400"}
            )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(_ConsoleHeaders, csp=console_csp(tiles))


def create_console_app(settings: Settings | None = None) -> FastAPI:
    """The hub as ``deconfliction serve`` runs it: the API, the feeds
    (:func:`deconfliction.interop.create_hub_app`) and the console at ``/``. Usable as a
    uvicorn factory: ``uvicorn --factory deconfliction.web:create_console_app``."""
    settings = settings or Settings()
    app = create_hub_app(settings)
    mount_console(app, settings)
    return app
