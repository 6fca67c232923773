"""The console's optional basemap tiles: a local raster MBTiles or PMTiles file, or a URL.

The shipped basemap (Natural Earth outlines) needs nothing; a site that has better maps
configures ``tiles``:

* a path ending ``.mbtiles`` (the SQLite tile format: ``tiles`` table, TMS rows) or
  ``.pmtiles`` (a single-file tile archive, read with the ``pmtiles`` package): the hub
  serves its tiles at ``/tiles/{z}/{x}/{y}``, so the console still works with no internet;
* an ``http(s)://`` template with ``{z}``, ``{x}`` and ``{y}``: the browser fetches from it.

Raster tiles only (PNG, JPEG, WebP): the console draws with Leaflet's raster layer, so a
vector archive is refused at start with a clear error rather than shown blank.
"""

from __future__ import annotations

import mmap
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from pmtiles.reader import Reader
from pmtiles.tile import Compression, MagicNumberNotFound, SpecVersionUnsupported, TileType

from deconfliction.errors import InvalidInput

__all__ = ["TileArchive", "TileSource", "open_tiles"]

_MEDIA = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
_PM_MEDIA = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp"}
LOCAL_URL = "/tiles/{z}/{x}/{y}"


class TileArchive(Protocol):
    """A local tile file the hub serves."""

    media_type: str
    min_zoom: int
    max_zoom: int

    def get(self, z: int, x: int, y: int) -> bytes | None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class TileSource:
    """What the console is told: where tiles come from, and (for a local file) the file."""

    url: str
    """The template the browser uses (``/tiles/{z}/{x}/{y}`` for a local file)."""
    min_zoom: int = 0
    max_zoom: int = 19
    attribution: str = ""
    archive: TileArchive | None = None

    @property
    def origin(self) -> str | None:
        """The remote origin the browser fetches from (for the Content-Security-Policy)."""
        if self.archive is not None:
            return None
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def config(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "min_zoom": self.min_zoom,
            "max_zoom": self.max_zoom,
            "attribution": self.attribution,
        }


class _MBTiles:
    def __init__(self, path: Path) -> None:
        try:
            self._con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            meta = dict(self._con.execute("SELECT name, value FROM metadata").fetchall())
            zooms = self._con.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles")
            lo, hi = zooms.fetchone()
        except sqlite3.Error as exc:
            raise InvalidInput("tiles", f"{path} is not a readable MBTiles file: {exc}") from None
        fmt = str(meta.get("format", "png")).lower()
        if fmt not in _MEDIA:
            raise InvalidInput(
                "tiles", f"{path} holds {fmt!r} tiles: the console shows raster tiles only"
            )
        self.media_type = _MEDIA[fmt]
        self.min_zoom = int(meta.get("minzoom", lo if lo is not None else 0))
        self.max_zoom = int(meta.get("maxzoom", hi if hi is not None else 19))
        self._lock = threading.Lock()

    def get(self, z: int, x: int, y: int) -> bytes | None:
        row = (1 << z) - 1 - y  # MBTiles rows count from the south (TMS)
        with self._lock:
            found = self._con.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
                "AND tile_row = ?",
                (z, x, row),
            ).fetchone()
        return None if found is None else bytes(found[0])

    def close(self) -> None:
        self._con.close()


class _PMTiles:
    def __init__(self, path: Path) -> None:
        try:
            self._file = path.open("rb")
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
            self._reader = Reader(lambda offset, length: self._map[offset : offset + length])
            header = self._reader.header()
        except (OSError, ValueError, KeyError, IndexError, MagicNumberNotFound) as exc:
            why = str(exc) or type(exc).__name__
            raise InvalidInput("tiles", f"{path} is not a readable PMTiles file: {why}") from None
        except SpecVersionUnsupported:
            raise InvalidInput("tiles", f"{path}: an unsupported PMTiles version") from None
        kind = header["tile_type"]
        if kind not in _PM_MEDIA:
            raise InvalidInput(
                "tiles", f"{path} holds {kind.name} tiles: the console shows raster tiles only"
            )
        if header["tile_compression"] not in (Compression.NONE, Compression.UNKNOWN):
            raise InvalidInput("tiles", f"{path}: compressed raster tiles are not supported")
        self.media_type = _MEDIA[_PM_MEDIA[kind]]
        self.min_zoom = int(header["min_zoom"])
        self.max_zoom = int(header["max_zoom"])
        self._lock = threading.Lock()

    def get(self, z: int, x: int, y: int) -> bytes | None:
        with self._lock:
            data = self._reader.get(z, x, y)
        return None if data is None else bytes(data)

    def close(self) -> None:
        self._map.close()
        self._file.close()


def open_tiles(spec: str | None, attribution: str = "") -> TileSource | None:
    """The tile source ``spec`` names (None: the shipped outlines only). A file that cannot
    be read, a vector archive or a URL without ``{z}/{x}/{y}`` is refused here, at start."""
    if not spec:
        return None
    if spec.startswith(("http://", "https://")):
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in spec]
        if missing or not urlsplit(spec).netloc:
            raise InvalidInput("tiles", f"a tile URL needs {{z}}, {{x}} and {{y}}: {spec!r}")
        return TileSource(url=spec, attribution=attribution)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise InvalidInput("tiles", f"no tile file at {path} (nor an http(s):// URL template)")
    suffix = path.suffix.lower()
    archive: TileArchive
    if suffix == ".mbtiles":
        archive = _MBTiles(path)
    elif suffix == ".pmtiles":
        archive = _PMTiles(path)
    else:
        raise InvalidInput("tiles", f"{path}: expected a .mbtiles or .pmtiles file")
    return TileSource(
        url=LOCAL_URL,
        min_zoom=archive.min_zoom,
        max_zoom=archive.max_zoom,
        attribution=attribution,
        archive=archive,
    )
