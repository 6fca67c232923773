"""Configured feeds: the feeds file's checks, and the hub reading a real SBS-1 TCP server
and an aircraft.json file on loopback, their reports becoming the party's live tracks."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deconfliction.errors import InvalidInput
from deconfliction.interop import FeedConfig, load_feeds
from tests.api._hub import Hub, add_parties, bootstrap, data_dir

GOOD = """
[[feeds]]
name = "Roissy receiver"
type = "sbs1"
host = "127.0.0.1"
port = 30003
party = "Civil"
timezone = "Europe/Paris"

[[feeds]]
type = "aircraft_json"
url = "http://127.0.0.1:8080/data/aircraft.json"
interval_s = 2
party = "Civil"
"""


def test_a_good_feeds_file(tmp_path: Path) -> None:
    f = tmp_path / "feeds.toml"
    f.write_text(GOOD)
    assert load_feeds(f) == [
        FeedConfig("sbs1", "Civil", "Roissy receiver", "127.0.0.1", 30003, "Europe/Paris"),
        FeedConfig(
            "aircraft_json",
            "Civil",
            "aircraft_json feed 2",
            url="http://127.0.0.1:8080/data/aircraft.json",
            interval_s=2.0,
        ),
    ]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[[feeds]]\ntype = 'radar'\nparty = 'C'\n", "feeds[0].type"),
        ("[[feeds]]\ntype = 'sbs1'\nhost = 'h'\nport = 30003\n", "feeds[0].party"),
        ("[[feeds]]\ntype = 'sbs1'\nhost = 'h'\nport = 70000\nparty = 'C'\n", "feeds[0].port"),
        ("[[feeds]]\ntype = 'sbs1'\nport = 1\nparty = 'C'\n", "feeds[0].host"),
        (
            "[[feeds]]\ntype = 'sbs1'\nhost = 'h'\nport = 1\nparty = 'C'\ntimezone = 'Mars/Olympus'\n",
            "feeds[0].timezone",
        ),
        ("[[feeds]]\ntype = 'aircraft_json'\nparty = 'C'\n", "feeds[0].url"),
        (
            "[[feeds]]\ntype = 'aircraft_json'\nurl = 'x'\nparty = 'C'\ninterval_s = 0\n",
            "feeds[0].interval_s",
        ),
        ("[[feeds]]\ntype = 'aircraft_json'\nurl = 'x'\nparty = 'C'\nport = 1\n", "feeds[0].port"),
        ("[radar]\nx = 1\n", "radar"),
        ("feeds = 3\n", "feeds"),
        ("[[feeds]\n", "feeds"),
    ],
)
def test_a_bad_feeds_file_names_the_problem(tmp_path: Path, text: str, where: str) -> None:
    f = tmp_path / "feeds.toml"
    f.write_text(text)
    with pytest.raises(InvalidInput) as err:
        load_feeds(f)
    assert err.value.field == where


class SbsServer:
    """A loopback port-30003 server that sends one aircraft's position every 0.2 s."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by the fixture
                return
            with conn:
                lat = 49.0
                while not self.stop.is_set():
                    now = datetime.now(UTC)  # timezone = "UTC" in the feeds file
                    d, t = now.strftime("%Y/%m/%d"), now.strftime("%H:%M:%S.%f")[:-3]
                    line = (
                        f"MSG,3,1,1,3C6586,1,{d},{t},{d},{t},,24000,,,{lat:.4f},2.35,,,0,0,0,0\r\n"
                    )
                    try:
                        conn.sendall(line.encode())
                    except OSError:
                        break
                    lat += 0.001
                    time.sleep(0.2)


@pytest.fixture
def sbs_server() -> Iterator[SbsServer]:
    s = SbsServer()
    yield s
    s.stop.set()
    time.sleep(0.3)  # the accept loop notices the stop
    s.sock.close()


def test_the_hub_reads_its_feeds_into_the_partys_tracks(sbs_server: SbsServer) -> None:
    with data_dir("feeds") as data:
        aircraft = data / "aircraft.json"
        aircraft.write_text(
            json.dumps(
                {
                    "now": time.time(),
                    "aircraft": [
                        {
                            "hex": "4ca1f3",
                            "flight": "EZY12  ",
                            "lat": 48.9,
                            "lon": 2.4,
                            "alt_baro": 12000,
                            "gs": 250,
                            "track": 90,
                            "seen_pos": 0.5,
                        }
                    ],
                }
            )
        )
        feeds = data / "feeds.toml"
        feeds.write_text(
            f'[[feeds]]\nname = "roissy"\ntype = "sbs1"\nhost = "127.0.0.1"\n'
            f'port = {sbs_server.port}\nparty = "Civil"\n\n'
            f'[[feeds]]\ntype = "aircraft_json"\nurl = "{aircraft}"\ninterval_s = 0.5\n'
            'party = "Civil"\n'
        )
        hub = Hub(
            data,
            env={"DECONFLICTION_FEEDS": str(feeds)},
            factory="deconfliction.interop:create_hub_app",
        )
        hub.admin = bootstrap(data)
        hub.start()
        ps = add_parties(hub, hub.admin)
        try:
            civil = ps["Civil"]
            deadline = time.monotonic() + 20
            while True:
                tracks = {t["key"]: t for t in civil.op.get("/v1/tracks").json()}
                if {"3c6586", "4ca1f3"} <= set(tracks):
                    break
                assert time.monotonic() < deadline, f"feeds never arrived: {hub.log()[-2000:]}"
                time.sleep(0.2)
            assert tracks["3c6586"]["source"] == "sbs1"
            assert tracks["3c6586"]["altitude_m"] == pytest.approx(24000 * 0.3048)
            assert tracks["4ca1f3"]["source"] == "aircraft_json"
            assert tracks["4ca1f3"]["callsign"] == "EZY12"
            first = tracks["3c6586"]["lat"]
            time.sleep(1.0)
            moved = {t["key"]: t for t in civil.op.get("/v1/tracks").json()}["3c6586"]["lat"]
            assert moved > first  # live: the SBS position keeps coming
            assert ps["Blue"].op.get("/v1/tracks").json() == []  # attributed to Civil only
        finally:
            for p in ps.values():
                p.close()
            hub.stop()
            assert "Traceback" not in hub.log(), hub.log()


def test_a_feed_for_an_unknown_party_is_logged_and_the_hub_serves(tmp_path: Path) -> None:
    with data_dir("feeds-bad") as data:
        feeds = data / "feeds.toml"
        feeds.write_text(
            '[[feeds]]\ntype = "aircraft_json"\nurl = "/nonexistent.json"\nparty = "Nobody"\n'
        )
        hub = Hub(
            data,
            env={"DECONFLICTION_FEEDS": str(feeds)},
            factory="deconfliction.interop:create_hub_app",
        )
        hub.admin = bootstrap(data)
        hub.start()
        try:
            deadline = time.monotonic() + 10
            while "no party named 'Nobody'" not in hub.log():
                assert time.monotonic() < deadline, hub.log()
                time.sleep(0.1)
            with hub.client(hub.admin) as c:
                assert c.get("/v1/parties").status_code == 200
        finally:
            hub.stop()


@pytest.mark.regression
def test_a_feeds_file_that_is_not_utf8_names_the_problem(tmp_path: Path) -> None:
    """Found while fuzzing (tests/fuzz): UnicodeDecodeError instead of InvalidInput."""
    f = tmp_path / "feeds.toml"
    f.write_bytes("[[feeds]]\ntype = 'sbs1'\nparty = 'Ré'\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8 text") as err:
        load_feeds(f)
    assert err.value.field == "feeds"
