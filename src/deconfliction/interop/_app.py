"""The hub as ``deconfliction serve`` runs it: the API app plus the configured feeds and
the F3548 discovery service."""

from __future__ import annotations

from fastapi import FastAPI

from deconfliction.api import Background, Settings, create_app
from deconfliction.interop._dss_routes import mount_dss
from deconfliction.interop._feeds import Feeds, load_feeds

__all__ = ["create_hub_app"]


def create_hub_app(settings: Settings | None = None) -> FastAPI:
    """:func:`deconfliction.api.create_app` with the surveillance feeds of
    ``settings.feeds`` running beside it (a bad feeds file is refused here, at start).
    With ``settings.dss_jwt_keys`` it also serves the ASTM F3548-21 discovery service at
    ``/dss/v1``. Usable as a uvicorn factory:
    ``uvicorn --factory deconfliction.interop:create_hub_app``."""
    settings = settings or Settings()
    background: list[Background] = []
    if settings.feeds is not None:
        background.append(Feeds(load_feeds(settings.feeds)))
    app = create_app(settings, background=background)
    if settings.dss_jwt_keys is not None:
        mount_dss(app, settings)
    return app
