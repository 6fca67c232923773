"""The HTTP API (FastAPI): auth, need-to-know, routes, problem details, event stream."""

from deconfliction.api._app import Background, build_hotline, create_app, load_policy, open_bus
from deconfliction.api._deps import Caller, HotlineDep
from deconfliction.api._logging import configure_logging
from deconfliction.api._security import client_key
from deconfliction.api._settings import Settings, load_settings

__all__ = [
    "Background",
    "Caller",
    "HotlineDep",
    "Settings",
    "build_hotline",
    "client_key",
    "configure_logging",
    "create_app",
    "load_policy",
    "load_settings",
    "open_bus",
]
