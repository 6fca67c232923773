"""SBS-1 BaseStation lines: per-aircraft state, times, every malformed case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from deconfliction.interop import FeedLimits, SbsDecoder, decode_sbs_lines
from deconfliction.model import AltitudeReference, Track, TrackSource

PARTY = UUID(int=3)
DAY = "2021/10/07"


def msg(
    kind: int,
    clock: str,
    *,
    hex_: str = "4CA1F3",
    callsign: str = "",
    alt: str = "",
    gs: str = "",
    trk: str = "",
    lat: str = "",
    lon: str = "",
    vr: str = "",
    ground: str = "0",
    logged: str = "",
    date: str = DAY,
) -> str:
    gen = (date, clock) if clock else ("", "")
    log = (DAY, logged) if logged else ("", "")
    fields = ["MSG", str(kind), "1", "1", hex_, "1", *gen, *log, callsign, alt, gs, trk, lat, lon]
    return ",".join([*fields, vr, "", "0", "0", "0", ground])


def at(clock: str) -> datetime:
    return datetime.strptime(f"{DAY} {clock}", "%Y/%m/%d %H:%M:%S.%f").replace(tzinfo=UTC)


def test_a_position_is_completed_with_the_latest_callsign_altitude_and_velocity() -> None:
    d = SbsDecoder(PARTY)
    assert d.feed(msg(1, "12:00:00.000", callsign="RYR12AB ")) is None
    assert d.feed(msg(4, "12:00:00.500", gs="450", trk="90.5", vr="-1280")) is None
    r = d.feed(msg(3, "12:00:01.250", alt="36000", lat="48.85", lon="2.35"))
    assert isinstance(r, Track)
    assert r.key == "4ca1f3"
    assert r.icao24 == "4ca1f3"
    assert r.party == PARTY
    assert r.source is TrackSource.SBS1
    assert r.time == at("12:00:01.250")
    assert (r.lat, r.lon) == (48.85, 2.35)
    assert r.altitude_m == pytest.approx(10_972.8)
    assert r.altitude_ref is AltitudeReference.BAROMETRIC
    assert r.ground_speed_mps == pytest.approx(231.5)
    assert r.track_deg == 90.5
    assert r.vertical_rate_mps == pytest.approx(-6.502)
    assert r.callsign == "RYR12AB"
    assert not r.on_ground
    assert len(d) == 1


def test_aircraft_are_kept_apart() -> None:
    d = SbsDecoder(PARTY)
    d.feed(msg(1, "12:00:00.000", hex_="AAAAAA", callsign="ONE"))
    d.feed(msg(1, "12:00:00.000", hex_="BBBBBB", callsign="TWO"))
    a = d.feed(msg(3, "12:00:01.000", hex_="BBBBBB", alt="1000", lat="1", lon="2"))
    assert isinstance(a, Track)
    assert a.callsign == "TWO"
    assert a.key == "bbbbbb"
    assert len(d) == 2


def test_stale_altitude_and_velocity_are_not_carried_forward() -> None:
    d = SbsDecoder(PARTY, fresh_s=5)
    d.feed(msg(4, "12:00:00.000", gs="450", trk="90", vr="0"))
    d.feed(msg(5, "12:00:00.000", alt="30000"))
    r = d.feed(msg(3, "12:00:06.000", lat="48.85", lon="2.35"))
    assert isinstance(r, Track)
    assert r.altitude_m is None
    assert r.ground_speed_mps is None
    assert r.track_deg is None
    r = d.feed(msg(3, "12:00:06.000", alt="30000", lat="48.85", lon="2.35"))
    assert isinstance(r, Track)
    assert r.altitude_m is not None


def test_a_surface_position_is_on_the_ground_without_altitude() -> None:
    d = SbsDecoder(PARTY)
    d.feed(msg(5, "12:00:00.000", alt="400"))
    r = d.feed(msg(2, "12:00:01.000", gs="12", trk="270", lat="49.0097", lon="2.5479"))
    assert isinstance(r, Track)
    assert r.on_ground
    assert r.altitude_m is None
    assert r.ground_speed_mps == pytest.approx(6.173)
    assert r.track_deg == 270.0


def test_the_on_ground_flag_is_remembered() -> None:
    d = SbsDecoder(PARTY)
    d.feed(msg(8, "12:00:00.000", ground="-1"))
    r = d.feed(msg(3, "12:00:01.000", alt="0", lat="1", lon="2", ground=""))
    assert isinstance(r, Track)
    assert r.on_ground


def test_logged_time_is_used_when_generated_time_is_missing() -> None:
    d = SbsDecoder(PARTY)
    r = d.feed(msg(3, "", logged="12:00:02.125", alt="1000", lat="1", lon="2"))
    assert isinstance(r, Track)
    assert r.time == at("12:00:02.125")


def test_the_time_zone_of_the_fields_is_configurable() -> None:
    paris = timezone(timedelta(hours=2))
    d = SbsDecoder(PARTY, tz=paris)
    r = d.feed(msg(3, "14:00:00", alt="1000", lat="1", lon="2"))
    assert isinstance(r, Track)
    assert r.time == datetime(2021, 10, 7, 12, 0, tzinfo=UTC)


def test_lines_without_a_position_update_state_only() -> None:
    d = SbsDecoder(PARTY)
    for line in (
        msg(3, "12:00:00.000", alt="1000"),  # airborne message not yet decoded to a position
        msg(6, "12:00:00.000"),
        msg(7, "12:00:00.000", alt="1000"),
        "SEL,,496,2286,4CA1F3,1,2021/10/07,12:00:00.000,2021/10/07,12:00:00.000,RYR12AB",
        "ID,,496,7162,4CA1F3,1,2021/10/07,12:00:00.000,2021/10/07,12:00:00.000,RYR12AB",
        "AIR,,496,1,4CA1F3,1,2021/10/07,12:00:00.000,2021/10/07,12:00:00.000",
        "STA,,5,179,400AE7,10103,2021/10/07,12:00:00.000,2021/10/07,12:00:00.000,RM",
        "CLK,,496,-1,,-1,2021/10/07,12:00:00.000,2021/10/07,12:00:00.000",
    ):
        assert d.feed(line) is None, line


def test_bytes_lines_and_short_lines_are_read() -> None:
    d = SbsDecoder(PARTY)
    line = "MSG,3,,,3C6586,,2021/10/07,12:00:00.000,,,,24000,,,50.03,8.57\r\n"
    r = d.feed(line.encode())
    assert isinstance(r, Track)
    assert r.altitude_m == pytest.approx(7315.2)


def test_non_icao_addresses_keep_their_key() -> None:
    r = SbsDecoder(PARTY).feed(msg(3, "12:00:00.000", hex_="~1A2B3C", alt="1000", lat="1", lon="2"))
    assert isinstance(r, Track)
    assert r.key == "~1a2b3c"
    assert r.icao24 is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "not an SBS-1 line: empty"),
        ("   \r\n", "not an SBS-1 line: empty"),
        (b"MSG,3,\xff", "not an SBS-1 line: not ASCII text"),
        ("M" * 1_001, "not an SBS-1 line: longer than 1000 characters"),
        ("HELLO,world", "not an SBS-1 line: record type 'HELLO'"),
        ("MSG,3,1,1,4CA1F3", "MSG line with 5 fields (at least 11 expected)"),
        (msg(9, "12:00:00.000"), "MSG transmission type '9' is not 1 to 8"),
        (msg(3, "12:00:00.000").replace(",3,", ",x,", 1), "MSG transmission type 'x'"),
        (msg(3, "12:00:00.000", hex_=""), "hex ident '' is not an aircraft address"),
        (msg(3, "12:00:00.000", hex_="4C A1"), "hex ident '4c a1' is not an aircraft address"),
        (msg(3, "12:00:00.000", hex_="4CA1F3-00001"), "is not an aircraft address"),
        (msg(3, ""), "no date/time (fields 7–10 empty)"),
        (msg(3, "25:00:00.000"), "date/time '2021/10/07 25:00:00.000' is not YYYY/MM/DD"),
        (msg(3, "12:00:00.000", date="07/10/2021"), "is not YYYY/MM/DD"),
        (msg(3, "12:00:00.000", alt="high", lat="1", lon="2"), "altitude 'high' is not a number"),
        (
            msg(3, "12:00:00.000", alt="1000", lat="north", lon="2"),
            "latitude 'north' is not a number",
        ),
        (msg(3, "12:00:00.000", alt="1000", lat="1", lon="inf"), "longitude must be finite"),
        (msg(4, "12:00:00.000", gs="fast"), "ground speed 'fast' is not a number"),
        (msg(3, "12:00:00.000", ground="yes"), "flag 'yes' is not -1, 1 or 0"),
        (msg(3, "12:00:00.000", alt="1000", lat="91", lon="2"), "lat: must be between -90 and 90"),
        (msg(3, "12:00:00.000", alt="1000", lat="1", lon="181"), "lon: must be between -180"),
        (
            msg(3, "12:00:00.000", alt="123100", lat="1", lon="2"),
            "altitude 37521 m (123100 ft) is implausible",
        ),
        (
            msg(3, "12:00:00.000", alt="-2000", lat="1", lon="2"),
            "altitude -610 m (-2000 ft) is implausible",
        ),
        (msg(3, "1970:01:01", date="1970/01/01", alt="1", lat="1", lon="2"), "is not YYYY/MM/DD"),
        (
            msg(3, "00:00:00", date="1970/01/01", alt="1", lat="1", lon="2"),
            "is not a plausible time",
        ),
    ],
)
def test_each_malformed_line_gets_a_reason(line: str | bytes, reason: str) -> None:
    out = SbsDecoder(PARTY).feed(line)
    assert isinstance(out, str), out
    assert reason in out


def test_implausible_velocity_is_refused() -> None:
    d = SbsDecoder(PARTY)
    d.feed(msg(4, "12:00:00.000", gs="1200", trk="90", vr="0"))
    out = d.feed(msg(3, "12:00:00.500", alt="1000", lat="1", lon="2"))
    assert out == "ground speed 617 m/s (1200 kt) is implausible (outside 0..514 m/s)"
    d.feed(msg(4, "12:00:01.000", gs="400", trk="90", vr="-15000"))
    out = d.feed(msg(3, "12:00:01.500", alt="1000", lat="1", lon="2"))
    assert isinstance(out, str)
    assert "vertical rate -76 m/s (-15000 ft/min) is implausible" in out
    loose = SbsDecoder(PARTY, limits=FeedLimits(max_vertical_rate_mps=100.0))
    loose.feed(msg(4, "12:00:01.000", gs="400", trk="90", vr="-15000"))
    assert isinstance(loose.feed(msg(3, "12:00:01.500", alt="1000", lat="1", lon="2")), Track)


def test_forgotten_aircraft_free_their_state() -> None:
    d = SbsDecoder(PARTY, forget_s=60)
    d.feed(msg(1, "12:00:00.000", hex_="AAAAAA", callsign="OLD"))
    for i in range(1_000):
        d.feed(msg(4, f"12:{10 + i // 60:02d}:{i % 60:02d}.000", hex_="BBBBBB", gs="100"))
    assert len(d) == 1  # AAAAAA, silent for over 60 s, was dropped


def test_decode_lines_indexes_rejections_and_counts_state_updates() -> None:
    lines = [
        msg(1, "12:00:00.000", callsign="ABC"),
        "garbage",
        msg(3, "12:00:01.000", alt="1000", lat="1", lon="2"),
        msg(3, "12:00:02.000", alt="1000", lat="1", lon="2.001"),
    ]
    result = decode_sbs_lines(lines, SbsDecoder(PARTY))
    assert [r.time.second for r in result.accepted] == [1, 2]
    assert [r.index for r in result.rejected] == [1]
    assert result.skipped == 1
