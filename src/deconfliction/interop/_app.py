"""The hub as ``deconfliction serve`` runs it: the API app plus the configured feeds."""

from __future__ import annotations

from fastapi import FastAPI

from deconfliction.api import Background, Settings, create_app
from deconfliction.interop._feeds import Feeds, load_feeds

__all__ = ["create_hub_app"]


def create_hub_app(settings: Settings | None = None) -> FastAPI:
    """:func:`deconfliction.api.create_app` with the surveillance feeds of
    ``settings.feeds`` running beside it (a bad feeds file is refused here, at start).
    Usable as a uvicorn factory: ``uvicorn --factory deconfliction.interop:create_hub_app``."""
    settings = settings or Settings()
    background: list[Background] = []
    if settings.feeds is not None:
        background.append(Feeds(load_feeds(settings.feeds)))
    return create_app(settings, background=background)
