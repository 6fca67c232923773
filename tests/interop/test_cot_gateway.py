"""The CoT gateway end to end: the real hub on loopback with its gateway, pytak as the TAK
client, over plain TCP and over TLS with client certificates — positions in, pings
answered, a drawing filed and cancelled, a notice out as GeoChat with the activity drawn,
a bad event dropped without losing the connection, an unknown certificate refused."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api._hub import (
    Hub,
    Party,
    activity_body,
    add_parties,
    bootstrap,
    data_dir,
    feature,
    free_port,
)
from tests.interop._tak import Pki, tak_client

T_FMT = "%Y-%m-%dT%H:%M:%S.000Z"


def _ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime(T_FMT)


def _cot(type_: str, uid: str, lat: float, lon: float, detail: str = "") -> bytes:
    now = datetime.now(UTC)
    return (
        f'<?xml version="1.0"?>\n<event version="2.0" uid="{uid}" type="{type_}" time="{_ts(now)}" '
        f'start="{_ts(now)}" stale="{_ts(now + timedelta(minutes=5))}" how="m-g">'
        f'<point lat="{lat}" lon="{lon}" hae="150" ce="10" le="10"/><detail>{detail}</detail></event>'
    ).encode()


def _until(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


class Gateway:
    def __init__(self, hub: Hub, parties: dict[str, Party], tcp: int, tls: int, pki: Pki) -> None:
        self.hub, self.parties, self.tcp, self.tls, self.pki = hub, parties, tcp, tls, pki


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    with data_dir("cot") as data:
        pki = Pki(data)
        server_cert, server_key = pki.issue("localhost", server=True)
        tcp, tls = free_port(), free_port()
        admin = bootstrap(data)
        # The parties exist before the gateway needs them (it resolves them on connection).
        hub = Hub(data, factory="deconfliction.interop:create_hub_app")
        hub.admin = admin
        hub.start()
        parties = add_parties(hub, admin)
        hub.stop()
        (data / "blue.token").write_text(parties["Blue"].operator + "\n")
        (data / "cot.toml").write_text(
            f"""
[listen]
host = "127.0.0.1"
tcp_port = {tcp}
tcp_party = "Blue"
tls_port = {tls}
cert = "{server_cert}"
key = "{server_key}"
client_ca = "{pki.ca_path}"

[[parties]]
party = "Blue"
token_file = "{data / "blue.token"}"
shapes = "activity"
kind = "air_operation"
start_in_min = 180
hours = 2
lower = "SFC"
upper = "5000ft"

[[parties]]
party = "Red"
cert_cn = "red-tak"
"""
        )
        hub.extra_env["DECONFLICTION_COT"] = str(data / "cot.toml")
        hub.start()
        for p in parties.values():  # the clients were bound to the first run's port
            p.close()
            p.op = hub.client(p.operator)
            p.obs = hub.client(p.observer)
        try:
            yield Gateway(hub, parties, tcp, tls, pki)
        finally:
            hub.stop()
            if "Traceback" in (log := hub.log()) or "not taken" in log:
                sys.__stderr__.write(f"\n--- gateway hub log (tail) ---\n{log}\n")


def test_tcp_positions_ping_drawing_and_notices(gateway: Gateway) -> None:
    blue, red = gateway.parties["Blue"], gateway.parties["Red"]
    lat, lon = -20.0, 130.0  # far from the other tests' places

    async def scenario() -> None:
        async with tak_client(f"tcp://127.0.0.1:{gateway.tcp}") as tak:
            await tak.send(
                _cot(
                    "a-f-G-U-C",
                    "BLUE-TEAM-1",
                    lat,
                    lon,
                    '<contact callsign="BLUE 1"/><track course="90" speed="3"/>',
                )
            )
            tracks = await asyncio.to_thread(
                _until,
                lambda: [t for t in blue.op.get("/v1/tracks").json() if t["key"] == "BLUE-TEAM-1"],
            )
            assert tracks[0]["callsign"] == "BLUE 1"

            await tak.send(_cot("t-x-c-t", "ping-1", 0, 0))
            assert (await tak.next("t-x-c-t-r")).uid == "ping-1-pong"

            # A bad event is dropped; the connection carries on.
            await tak.send(b"<event uid='broken' type='a-f-G' time='nonsense'><point/></event>")

            # A drawing becomes Blue's activity (by the party's rule), filed with its token.
            ring = [
                (lat + 0.1, lon + 0.1),
                (lat + 0.1, lon + 0.3),
                (lat + 0.3, lon + 0.3),
                (lat + 0.1, lon + 0.1),
            ]
            links = "".join(f'<link point="{a},{b},0"/>' for a, b in ring)
            await tak.send(
                _cot(
                    "u-d-f", "drawing-77", lat, lon, links + '<contact callsign="Blue patrol box"/>'
                )
            )
            mine = await asyncio.to_thread(
                _until,
                lambda: [
                    a
                    for a in blue.op.get("/v1/activities", params={"scope": "mine"}).json()
                    if a["title"] == "Blue patrol box"
                ],
            )
            assert mine[0]["kind"] == "air_operation"
            assert mine[0]["state"] == "notified"
            # The same drawing sent again (TAK clients repeat) changes nothing.
            await tak.send(
                _cot(
                    "u-d-f", "drawing-77", lat, lon, links + '<contact callsign="Blue patrol box"/>'
                )
            )

            # Red files over it: Blue's TAK gets the notice as GeoChat and Red's area drawn.
            start = datetime.now(UTC) + timedelta(hours=3, minutes=30)
            filed = await asyncio.to_thread(
                red.file,
                activity_body(
                    "Red live firing", feature(lon + 0.2, lat + 0.2, half=0.05, start=start)
                ),
            )
            chat = await tak.next("b-t-f")
            assert "Red live firing" in (chat.find("remarks").text or "")  # type: ignore[union-attr]
            assert chat.find("__chat/chatgrp").get("uid1") == "BLUE-TEAM-1"  # type: ignore[union-attr]
            shape = await tak.next("u-d-f", uid_prefix=f"hotline-{filed['activity']['id']}")
            assert shape.stale > datetime.now(UTC) + timedelta(hours=3)
            # … and the conflict's common area, drawn red.
            area = await tak.next("u-d-f", uid_prefix="hotline-conflict-")
            assert area.find("contact").get("callsign") == "CONFLICT"  # type: ignore[union-attr]

            # Deleting the drawing in TAK cancels the activity.
            await tak.send(
                _cot(
                    "t-x-d-d",
                    "delete-1",
                    0,
                    0,
                    '<link uid="drawing-77" relation="none" type="u-d-f"/>',
                )
            )
            await asyncio.to_thread(
                _until,
                lambda: (
                    blue.op.get(f"/v1/activities/{mine[0]['id']}").json()["state"] == "cancelled"
                ),
            )
            assert (
                len(
                    [
                        a
                        for a in blue.op.get("/v1/activities", params={"scope": "mine"}).json()
                        if a["title"] == "Blue patrol box"
                    ]
                )
                == 1
            )

    asyncio.run(scenario())
    assert "broken" not in gateway.hub.log() or "dropped" in gateway.hub.log()


def test_tls_clients_are_known_by_their_certificate(gateway: Gateway, tmp_path: Path) -> None:
    red = gateway.parties["Red"]
    cert, key = gateway.pki.issue("red-tak")
    tls = {
        "PYTAK_TLS_CLIENT_CERT": str(cert),
        "PYTAK_TLS_CLIENT_KEY": str(key),
        "PYTAK_TLS_CLIENT_CAFILE": str(gateway.pki.ca_path),
        "PYTAK_TLS_DONT_CHECK_HOSTNAME": "1",
    }

    async def scenario() -> None:
        async with tak_client(f"tls://127.0.0.1:{gateway.tls}", **tls) as tak:
            await tak.send(_cot("a-h-A-M-F", "RED-JET-1", -25.0, 135.0))
            await tak.send(_cot("t-x-c-t", "ping-2", 0, 0))
            assert (await tak.next("t-x-c-t-r")).uid == "ping-2-pong"
        got = await asyncio.to_thread(
            _until, lambda: [t for t in red.op.get("/v1/tracks").json() if t["key"] == "RED-JET-1"]
        )
        assert got[0]["lat"] == -25.0

        # A certificate of the same CA whose CN names no party: refused, nothing taken.
        other_cert, other_key = gateway.pki.issue("stranger")
        stranger = tls | {
            "PYTAK_TLS_CLIENT_CERT": str(other_cert),
            "PYTAK_TLS_CLIENT_KEY": str(other_key),
        }
        async with tak_client(f"tls://127.0.0.1:{gateway.tls}", **stranger) as tak:
            await tak.send(_cot("a-h-A-M-F", "STRANGER-1", -25.0, 135.0))
            await asyncio.sleep(1.5)
        for p in gateway.parties.values():
            assert all(t["key"] != "STRANGER-1" for t in p.op.get("/v1/tracks").json())

    asyncio.run(scenario())
    assert "names no party" in gateway.hub.log()


def test_a_bad_gateway_file_stops_the_hub_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "cot.toml"
    bad.write_text("[listen]\ntcp_port = 8087\n")
    with data_dir("badcot") as data:
        bootstrap(data)
        hub = Hub(
            data,
            env={"DECONFLICTION_COT": str(bad)},
            factory="deconfliction.interop:create_hub_app",
        )
        with pytest.raises(RuntimeError, match="tcp_party"):
            hub.start()


def test_a_drawing_is_found_again_after_a_restart(gateway: Gateway) -> None:
    """The gateway's memory of drawings goes with a restart; the activity a drawing was
    filed as is found again by its remarks: re-sent unchanged, nothing happens; changed,
    the same activity is amended (not a second one filed); deleted, it is cancelled."""
    blue = gateway.parties["Blue"]
    lat, lon = -25.0, 135.0

    def drawing(d: float) -> bytes:
        ring = [(lat, lon), (lat, lon + d), (lat + d, lon + d), (lat, lon)]
        links = "".join(f'<link point="{a},{b},0"/>' for a, b in ring)
        return _cot("u-d-f", "drawing-88", lat, lon, links + '<contact callsign="Blue box 88"/>')

    def mine() -> list[dict[str, Any]]:
        got = blue.op.get("/v1/activities", params={"scope": "mine"}).json()
        return [a for a in got if a["title"] == "Blue box 88"]

    async def send(*events: bytes) -> None:
        async with tak_client(f"tcp://127.0.0.1:{gateway.tcp}") as tak:
            for e in events:
                await tak.send(e)
            await tak.send(_cot("t-x-c-t", "ping-88", 0, 0))  # answered once the rest is read
            assert (await tak.next("t-x-c-t-r")).uid == "ping-88-pong"

    asyncio.run(send(drawing(0.1)))
    (first,) = _until(mine)
    gateway.hub.stop()
    gateway.hub.start()
    for p in gateway.parties.values():
        p.close()
        p.op, p.obs = gateway.hub.client(p.operator), gateway.hub.client(p.observer)
    asyncio.run(send(drawing(0.1)))  # unchanged
    time.sleep(0.5)
    assert [(a["id"], a["version"]) for a in mine()] == [(first["id"], 1)]
    asyncio.run(send(drawing(0.2)))  # changed: amended
    (moved,) = _until(lambda: [a for a in mine() if a["version"] == 2])
    assert moved["id"] == first["id"]
    assert len(mine()) == 1
    gateway.hub.stop()
    gateway.hub.start()
    for p in gateway.parties.values():
        p.close()
        p.op, p.obs = gateway.hub.client(p.operator), gateway.hub.client(p.observer)
    delete = '<link uid="drawing-88" relation="none" type="u-d-f"/>'
    asyncio.run(send(_cot("t-x-d-d", "delete-88", 0, 0, delete)))
    _until(lambda: blue.op.get(f"/v1/activities/{first['id']}").json()["state"] == "cancelled")
