"""The CoT codec: splitting a byte stream into events (any chunking), parsing with the
reasons for refusals (hostile XML included), positions and drawn shapes, and the events the
gateway writes read back by the same parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.errors import InvalidInput
from deconfliction.interop import (
    CotSplitter,
    alert_event,
    chat_event,
    parse_event,
    pong,
    shape_event,
    shape_of,
    track_of,
)

T = "2026-11-26T10:00:00.000Z"
PARTY = UUID(int=42)


def _event(
    type_: str = "a-f-G-U-C",
    uid: str = "ANDROID-1",
    detail: str = "",
    lat: float = 49.9,
    lon: float = 2.3,
) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<event version="2.0" uid="{uid}" type="{type_}" '
        f'time="{T}" start="{T}" stale="2026-11-26T10:05:00.000Z" how="m-g">'
        f'<point lat="{lat}" lon="{lon}" hae="120.5" ce="9999999.0" le="9999999.0"/>'
        f"<detail>{detail}</detail></event>"
    ).encode()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=30))
def test_any_chunking_yields_the_same_events(cuts: list[int]) -> None:
    events = [_event(uid=f"U{i}") for i in range(5)]
    stream = b"\n".join(events) + b"\n"
    splitter = CotSplitter()
    got: list[bytes] = []
    pos = 0
    for n in cuts:
        got += splitter.feed(stream[pos : pos + n])
        pos += n
    got += splitter.feed(stream[pos:])
    assert [parse_event(g).uid for g in got] == [f"U{i}" for i in range(5)]
    assert not splitter.dropped


def test_an_oversized_event_is_dropped_and_the_stream_resynchronises() -> None:
    splitter = CotSplitter(max_event=2000)
    huge = _event(detail="<remarks>" + "x" * 5000 + "</remarks>")
    out = list(splitter.feed(huge[:3000])) + list(splitter.feed(huge[3000:] + _event(uid="NEXT")))
    assert [parse_event(o).uid for o in out if b"NEXT" in o] == ["NEXT"]
    assert splitter.dropped


BOMB = b"""<?xml version="1.0"?><!DOCTYPE event [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>
<event uid="x" type="a-f-G" time="2026-11-26T10:00:00Z" stale="2026-11-26T10:05:00Z"><point lat="1" lon="1"/></event>"""


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (BOMB, "event", "refused XML"),
        (b"<event uid='x'", "event", "not well-formed"),
        (b"<foo/>", "event", "not 'event'"),
        (_event().replace(b'uid="ANDROID-1"', b""), "event.uid", "required"),
        (_event().replace(b"<point", b"<pt"), "event.point", "required"),
        (_event(lat=91.0), "point.lat", "not in"),
        (_event().replace(T.encode(), b"yesterday", 1), "event.time", "ISO 8601"),
        # found by fuzzing (fuzz/fuzz_cot.py): LookupError / ValueError from the codec
        pytest.param(b'<?xml version="1.0" encoding="UTF-9"?><event/>', "event",
                     "unreadable XML declaration", marks=pytest.mark.regression),
        pytest.param(b'<?xml version="1.0" encoding="EUC-JP"?><event/>', "event",
                     "unreadable XML declaration", marks=pytest.mark.regression),
    ],
)  # fmt: skip
def test_bad_events_are_refused_with_the_field_and_reason(
    data: bytes, field: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_event(data)
    assert err.value.field == field
    assert reason in err.value.reason


def test_a_position_is_a_track_of_the_connection_s_party() -> None:
    e = parse_event(
        _event(detail='<contact callsign="VIPER-1"/><track course="271.5" speed="55.2"/>')
    )
    t = track_of(e, PARTY)
    assert (t.key, t.party, t.callsign) == ("ANDROID-1", PARTY, "VIPER-1")
    assert (t.lat, t.lon, t.altitude_m) == (49.9, 2.3, 120.5)
    assert (t.track_deg, t.ground_speed_mps, t.on_ground) == (271.5, 55.2, True)
    assert t.time == datetime(2026, 11, 26, 10, tzinfo=UTC)
    air = track_of(parse_event(_event(type_="a-f-A-M-F")), PARTY)
    assert not air.on_ground
    with pytest.raises(InvalidInput):
        track_of(parse_event(_event(type_="u-d-f")), PARTY)


def test_drawn_shapes_as_footprints() -> None:
    links = "".join(
        f'<link point="{lat},{lon},0"/>' for lat, lon in [(49, 2), (49, 2.1), (49.1, 2.1), (49, 2)]
    )
    poly = shape_of(parse_event(_event("u-d-f", detail=links)))
    assert poly == {
        "type": "Polygon",
        "coordinates": [[[2.0, 49.0], [2.1, 49.0], [2.1, 49.1], [2.0, 49.0]]],
    }
    vertices = '<shape><polyline closed="true"><vertex lat="49" lon="2"/><vertex lat="49" lon="2.1"/><vertex lat="49.1" lon="2.1"/></polyline></shape>'
    assert shape_of(parse_event(_event("u-d-f", detail=vertices))) == poly
    rect = "".join(
        f'<link point="{lat},{lon}"/>' for lat, lon in [(49, 2), (49, 2.1), (49.1, 2.1), (49.1, 2)]
    )
    assert len(shape_of(parse_event(_event("u-d-r", detail=rect)))["coordinates"][0]) == 5
    circle = shape_of(
        parse_event(
            _event("u-d-c-c", detail='<shape><ellipse major="800" minor="500" angle="0"/></shape>')
        )
    )
    assert circle == {"type": "Point", "coordinates": [2.3, 49.9], "radius_m": 800.0}
    with pytest.raises(InvalidInput, match="at least 3 vertices"):
        shape_of(parse_event(_event("u-d-f", detail='<link point="49,2"/>')))
    with pytest.raises(InvalidInput, match="ellipse"):
        shape_of(parse_event(_event("u-d-c-c")))


def test_what_the_gateway_writes_reads_back() -> None:
    now = datetime(2026, 11, 26, 10, tzinfo=UTC)
    ring = [[2.0, 49.0], [2.1, 49.0], [2.1, 49.1], [2.0, 49.0]]
    e = parse_event(shape_event("hotline-a-1", "Range <day>", ring, now, now + timedelta(hours=1)))
    assert (e.uid, e.type, e.stale) == ("hotline-a-1", "u-d-f", now + timedelta(hours=1))
    assert shape_of(e)["coordinates"] == [ring]
    assert e.find("contact").get("callsign") == "Range <day>"  # type: ignore[union-attr]
    chat = parse_event(chat_event("n1", "ANDROID-1", "VIPER", "Red: new activity & more", now))
    assert chat.type == "b-t-f"
    assert chat.find("remarks").text == "Red: new activity & more"  # type: ignore[union-attr]
    assert chat.find("__chat/chatgrp").get("uid1") == "ANDROID-1"  # type: ignore[union-attr]
    alert = parse_event(alert_event("al-1", "incursion alert", 49.5, 2.5, now, now))
    assert (alert.type, alert.lat, alert.lon) == ("b-a-g", 49.5, 2.5)
    p = parse_event(pong(parse_event(_event("t-x-c-t", uid="ping-1")), now))
    assert p.type == "t-x-c-t-r"
