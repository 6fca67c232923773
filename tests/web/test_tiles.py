"""The console's optional basemap tiles: a local MBTiles or PMTiles file served by the hub at
``/tiles/{z}/{x}/{y}``, or a URL template the browser fetches (its origin allowed by the
Content-Security-Policy); anything else refused at start with a clear reason."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import httpx
import pytest
from PIL import Image
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write

from deconfliction.errors import InvalidInput
from deconfliction.web import console_csp, open_tiles
from tests.api._hub import Hub, bootstrap, data_dir


def _png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(out, format="PNG")
    return out.getvalue()


def _mbtiles(path: Path, fmt: str = "png") -> Path:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.execute(
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
        "tile_data BLOB)"
    )
    con.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [("format", fmt), ("minzoom", "0"), ("maxzoom", "1")],
    )
    # z=1, x=1, y=0 (XYZ: the north-east quarter) is row 1 in MBTiles' TMS numbering.
    con.execute("INSERT INTO tiles VALUES (1, 1, 1, ?)", (_png("red"),))
    con.execute("INSERT INTO tiles VALUES (0, 0, 0, ?)", (_png("blue"),))
    con.commit()
    con.close()
    return path


def _pmtiles(path: Path, tile_type: TileType = TileType.PNG) -> Path:
    with write(str(path)) as w:
        w.write_tile(zxy_to_tileid(0, 0, 0), _png("blue"))
        w.write_tile(zxy_to_tileid(1, 1, 0), _png("red"))
        w.finalize(
            {
                "tile_type": tile_type,
                "tile_compression": Compression.NONE,
                "min_zoom": 0,
                "max_zoom": 1,
                "min_lon_e7": -1800000000,
                "min_lat_e7": -850000000,
                "max_lon_e7": 1800000000,
                "max_lat_e7": 850000000,
                "center_zoom": 0,
                "center_lon_e7": 0,
                "center_lat_e7": 0,
            },
            {"attribution": "test"},
        )
    return path


def _colour(data: bytes) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel((10, 10))  # type: ignore[return-value]


@pytest.mark.parametrize("maker", [_mbtiles, _pmtiles])
def test_a_local_file_gives_its_tiles_by_xyz(tmp_path: Path, maker: object) -> None:
    suffix = ".mbtiles" if maker is _mbtiles else ".pmtiles"
    path = maker(tmp_path / f"map{suffix}")  # type: ignore[operator]
    source = open_tiles(str(path), "© test")
    assert source is not None
    assert source.archive is not None
    assert source.url == "/tiles/{z}/{x}/{y}"
    assert (source.min_zoom, source.max_zoom) == (0, 1)
    assert source.origin is None
    assert _colour(source.archive.get(1, 1, 0) or b"") == (255, 0, 0)
    assert _colour(source.archive.get(0, 0, 0) or b"") == (0, 0, 255)
    assert source.archive.get(1, 0, 1) is None
    source.archive.close()


def test_vector_or_unreadable_files_and_bad_urls_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="raster tiles only"):
        open_tiles(str(_mbtiles(tmp_path / "v.mbtiles", fmt="pbf")))
    with pytest.raises(InvalidInput, match="raster tiles only"):
        open_tiles(str(_pmtiles(tmp_path / "v.pmtiles", TileType.MVT)))
    (tmp_path / "junk.mbtiles").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(InvalidInput, match="not a readable MBTiles"):
        open_tiles(str(tmp_path / "junk.mbtiles"))
    (tmp_path / "junk.pmtiles").write_bytes(b"\0" * 10)
    with pytest.raises(InvalidInput, match="not a readable PMTiles"):
        open_tiles(str(tmp_path / "junk.pmtiles"))
    with pytest.raises(InvalidInput, match="no tile file"):
        open_tiles(str(tmp_path / "missing.mbtiles"))
    with pytest.raises(InvalidInput, match=r"\{z\}"):
        open_tiles("https://tiles.example.org/{z}/{x}.png")
    (tmp_path / "map.tif").write_bytes(b"x")
    with pytest.raises(InvalidInput, match=r"expected a \.mbtiles or \.pmtiles"):
        open_tiles(str(tmp_path / "map.tif"))
    assert open_tiles(None) is None
    assert open_tiles("") is None


def test_a_tile_url_is_fetched_by_the_browser_and_allowed_by_the_csp() -> None:
    source = open_tiles("https://tiles.example.org/{z}/{x}/{y}.png", "© Example")
    assert source is not None
    assert source.archive is None
    assert source.origin == "https://tiles.example.org"
    assert source.config()["attribution"] == "© Example"
    assert "img-src 'self' data: blob: https://tiles.example.org;" in console_csp(source)
    assert "tiles.example.org" not in console_csp(None)


def test_the_hub_serves_a_configured_tile_file(tmp_path: Path) -> None:
    tiles = _mbtiles(tmp_path / "site.mbtiles")
    with data_dir("tiles") as data:
        bootstrap(data)
        hub = Hub(
            data,
            env={"DECONFLICTION_TILES": str(tiles), "DECONFLICTION_TILES_ATTRIBUTION": "© Site"},
            factory="deconfliction.web:create_console_app",
        )
        hub.start()
        try:
            config = httpx.get(hub.url + "/console/config.json").json()
            assert config["tiles"]["url"] == "/tiles/{z}/{x}/{y}"
            assert config["tiles"]["attribution"] == "© Site"
            r = httpx.get(hub.url + "/tiles/1/1/0")
            assert r.status_code == 200
            assert r.headers["content-type"] == "image/png"
            assert _colour(r.content) == (255, 0, 0)
            missing = httpx.get(hub.url + "/tiles/1/0/1")
            assert missing.status_code == 404
            assert missing.headers["content-type"] == "application/problem+json"
            assert httpx.get(hub.url + "/tiles/1/5/0").status_code == 404  # off the grid
        finally:
            hub.stop()


def test_a_bad_tile_setting_stops_the_hub_at_start_with_the_reason() -> None:
    with data_dir("badtiles") as data:
        bootstrap(data)
        hub = Hub(
            data,
            env={"DECONFLICTION_TILES": "/nowhere/map.mbtiles"},
            factory="deconfliction.web:create_console_app",
        )
        with pytest.raises(RuntimeError, match=r"no tile file at /nowhere/map\.mbtiles"):
            hub.start()
