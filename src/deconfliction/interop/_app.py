"""The hub as ``deconfliction serve`` runs it: the API app plus the configured feeds and
the F3548 discovery service."""

from __future__ import annotations

from fastapi import FastAPI

from deconfliction.api import Background, Settings, create_app
from deconfliction.interop._cot_config import load_cot_config
from deconfliction.interop._cot_gateway import CotGateway
from deconfliction.interop._dss_routes import mount_dss
from deconfliction.interop._feeds import Feeds, load_feeds
from deconfliction.interop._routes import router as formats_router

__all__ = ["create_hub_app"]


def create_hub_app(settings: Settings | None = None) -> FastAPI:
    """:func:`deconfliction.api.create_app` with the surveillance feeds of
    ``settings.feeds`` and the Cursor-on-Target gateway of ``settings.cot`` running beside it
    and the exchange formats (NOTAM, KML/KMZ) served (a bad file is refused here, at start).
    With ``settings.dss_jwt_keys`` it also serves the ASTM F3548-21 discovery service at
    ``/dss/v1``. Usable as a uvicorn factory:
    ``uvicorn --factory deconfliction.interop:create_hub_app``."""
    settings = settings or Settings()
    background: list[Background] = []
    if settings.feeds is not None:
        background.append(Feeds(load_feeds(settings.feeds)))
    if settings.cot is not None:
        background.append(CotGateway(load_cot_config(settings.cot)))
    app = create_app(settings, background=background)
    app.include_router(formats_router)
    if settings.dss_jwt_keys is not None:
        mount_dss(app, settings)
    return app
