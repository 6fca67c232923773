"""The operations console: a map-first web page for duty officers, served by the hub.

``create_console_app`` is what ``deconfliction serve`` runs: the API with its feeds and the
console at ``/`` (static files in this package; the map library and the Natural Earth
basemap are vendored from the npm registry by ``make vendor``, so nothing is fetched from
the internet). ``mount_console`` adds the console to an existing app.
"""

from deconfliction.web._console import (
    STATIC_DIR,
    console_csp,
    create_console_app,
    mount_console,
)
from deconfliction.web._report import render_report, report_html
from deconfliction.web._tiles import TileSource, open_tiles

__all__ = [
    "create_console_app",
    "mount_console",
    "console_csp",
    "STATIC_DIR",
    "TileSource",
    "open_tiles",
    "report_html",
    "render_report",
]
