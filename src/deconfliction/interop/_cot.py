"""Cursor-on-Target (CoT) events, as TAK clients exchange them: split, parse, build.

**In.** :class:`CotSplitter` takes bytes as they arrive on a connection and yields one
event's bytes at a time, split after ``</event>`` (leading whitespace and XML declarations
between events are tolerated); an event over :data:`MAX_EVENT_BYTES` without its end is
dropped with the reason and the splitter resynchronises. :func:`parse_event` reads one event
through defusedxml (no DTD, no entities) into a :class:`CotEvent` — or raises
:class:`InvalidInput` with the reason, which the gateway logs before carrying on. From a
parsed event: :func:`track_of` (an ``a-*`` position → a :class:`~deconfliction.model.Track`
of the connection's party), :func:`shape_of` (``u-d-f`` polygon from ``<link point>``
vertices or ``<shape><polyline><vertex>``, ``u-d-r`` rectangle, ``u-d-c-c`` circle from
``<shape><ellipse>`` → a GeoJSON footprint).

**Out.** :func:`pong`, :func:`shape_event` (an activity's volume or a conflict area as a
``u-d-f`` drawing with a stable uid and ``stale`` at its end), :func:`chat_event` (GeoChat
``b-t-f`` direct message) and :func:`alert_event` (``b-a-g``-style alert at a position).
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from deconfliction.errors import InvalidInput
from deconfliction.model import Track, TrackSource

__all__ = [
    "MAX_EVENT_BYTES",
    "CotEvent",
    "CotSplitter",
    "alert_event",
    "chat_event",
    "parse_event",
    "pong",
    "shape_event",
    "shape_of",
    "track_of",
]

MAX_EVENT_BYTES = 256 * 1024
"""The largest single event taken (a drawn shape with thousands of vertices fits)."""
_END = b"</event>"
_UNKNOWN = 9_999_999.0  # CoT's "not known" for hae, ce and le
_HUB_UID = "deconfliction-hotline"


@dataclass(frozen=True)
class CotEvent:
    uid: str
    type: str
    time: datetime
    start: datetime
    stale: datetime
    how: str
    lat: float
    lon: float
    hae: float | None
    detail: Element | None = field(default=None, compare=False)

    def find(self, path: str) -> Element | None:
        return None if self.detail is None else self.detail.find(path)

    def findall(self, path: str) -> list[Element]:
        return [] if self.detail is None else self.detail.findall(path)


class CotSplitter:
    """Bytes in, whole events out; what cannot be an event is reported in :attr:`dropped`."""

    def __init__(self, max_event: int = MAX_EVENT_BYTES) -> None:
        self.max_event = max_event
        self.buf = bytearray()
        self.dropped: list[str] = []

    def feed(self, data: bytes) -> Iterator[bytes]:
        self.buf += data
        while True:
            end = self.buf.find(_END)
            if end < 0:
                if len(self.buf) > self.max_event:
                    self.dropped.append(f"an event over {self.max_event} bytes without its end")
                    start = self.buf.rfind(b"<event", 1)
                    del self.buf[: start if start > 0 else len(self.buf)]
                    if len(self.buf) > self.max_event:
                        self.buf.clear()
                return
            cut = end + len(_END)
            chunk = bytes(self.buf[:cut]).strip()
            del self.buf[:cut]
            if len(chunk) > self.max_event:
                self.dropped.append(f"an event of {len(chunk)} bytes (over {self.max_event})")
                continue
            if chunk:
                yield chunk


def _time(value: str | None, name: str) -> datetime:
    if not value:
        raise InvalidInput(name, "is required")
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(name, f"{value!r} is not an ISO 8601 time") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _float(value: str | None, name: str, lo: float, hi: float) -> float:
    try:
        x = float(value if value is not None else "nan")
    except ValueError:
        raise InvalidInput(name, f"{value!r} is not a number") from None
    if not lo <= x <= hi:
        raise InvalidInput(name, f"{value!r} is not in [{lo:g}, {hi:g}]")
    return x


def parse_event(data: bytes) -> CotEvent:
    """One ``<event>`` (an XML declaration before it is fine)."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InvalidInput("event", f"refused XML: {type(exc).__name__}") from None
    except SafeET.ParseError as exc:
        raise InvalidInput("event", f"not well-formed XML: {exc}") from None
    # The XML declaration's encoding is looked up by Python: an unknown one raises
    # LookupError, a multi-byte one (EUC-JP…) or a broken codec ValueError.
    except (LookupError, ValueError) as exc:
        raise InvalidInput("event", f"unreadable XML declaration: {exc}") from None
    if root.tag != "event":
        raise InvalidInput("event", f"root element is {root.tag!r}, not 'event'")
    uid = (root.get("uid") or "").strip()
    type_ = (root.get("type") or "").strip()
    if not uid or len(uid) > 200:
        raise InvalidInput("event.uid", "is required (at most 200 characters)")
    if not type_ or len(type_) > 100:
        raise InvalidInput("event.type", "is required (at most 100 characters)")
    point = root.find("point")
    if point is None:
        raise InvalidInput("event.point", "is required")
    hae = _float(point.get("hae", str(_UNKNOWN)), "point.hae", -20_000, _UNKNOWN)
    return CotEvent(
        uid=uid,
        type=type_,
        time=_time(root.get("time"), "event.time"),
        start=_time(root.get("start") or root.get("time"), "event.start"),
        stale=_time(root.get("stale"), "event.stale"),
        how=root.get("how", ""),
        lat=_float(point.get("lat"), "point.lat", -90, 90),
        lon=_float(point.get("lon"), "point.lon", -180, 180),
        hae=None if hae >= _UNKNOWN else hae,
        detail=root.find("detail"),
    )


def track_of(event: CotEvent, party: UUID) -> Track:
    """An ``a-*`` position as a track of ``party`` (key: the event's uid; height above the
    ellipsoid, as CoT's ``hae`` is; course and speed from ``<track>``)."""
    if not event.type.startswith("a-"):
        raise InvalidInput("event.type", f"{event.type!r} is not a position (a-*)")
    track = event.find("track")
    course = speed = None
    if track is not None:
        if track.get("course") not in (None, ""):
            course = _float(track.get("course"), "track.course", 0, 360)
        if track.get("speed") not in (None, ""):
            speed = _float(track.get("speed"), "track.speed", 0, 2_000)
    contact = event.find("contact")
    callsign = None if contact is None else (contact.get("callsign") or None)
    return Track(
        key=event.uid,
        party=party,
        source=TrackSource.OWN,
        time=event.time,
        lat=event.lat,
        lon=event.lon,
        altitude_m=event.hae,
        ground_speed_mps=speed,
        track_deg=course,
        callsign=callsign,
        on_ground=event.type.split("-")[2:3] == ["G"],  # a-<affiliation>-G-…: a ground unit
    )


def _link_points(event: CotEvent) -> list[tuple[float, float]]:
    out = []
    for link in event.findall("link"):
        text = link.get("point")
        if not text:
            continue
        parts = text.split(",")
        if len(parts) < 2:
            raise InvalidInput("link.point", f"{text!r} is not 'lat,lon[,hae]'")
        out.append(
            (_float(parts[1], "link.point", -180, 180), _float(parts[0], "link.point", -90, 90))
        )
    if not out:
        for v in event.findall("shape/polyline/vertex"):
            out.append(
                (
                    _float(v.get("lon"), "vertex.lon", -180, 180),
                    _float(v.get("lat"), "vertex.lat", -90, 90),
                )
            )
    return out


def shape_of(event: CotEvent) -> dict[str, Any]:
    """A drawn shape's footprint as a GeoJSON geometry (a circle as Point + ``radius_m``)."""
    if event.type == "u-d-c-c":
        ellipse = event.find("shape/ellipse")
        if ellipse is None:
            raise InvalidInput("shape.ellipse", "a circle (u-d-c-c) needs <shape><ellipse>")
        major = _float(ellipse.get("major"), "ellipse.major", 0.1, 1_000_000)
        minor = _float(ellipse.get("minor", ellipse.get("major")), "ellipse.minor", 0.1, 1_000_000)
        return {
            "type": "Point",
            "coordinates": [event.lon, event.lat],
            "radius_m": max(major, minor),  # an ellipse is declared as its enclosing circle
        }
    if event.type not in ("u-d-f", "u-d-r"):
        raise InvalidInput("event.type", f"{event.type!r} is not a drawn shape")
    pts = _link_points(event)
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    if len(pts) < 3:
        raise InvalidInput("shape", f"a {event.type} needs at least 3 vertices, got {len(pts)}")
    ring = [[x, y] for x, y in pts] + [[pts[0][0], pts[0][1]]]
    return {"type": "Polygon", "coordinates": [ring]}


# ------------------------------------------------------------------------------- out


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _event(
    uid: str,
    type_: str,
    now: datetime,
    stale: datetime,
    lat: float,
    lon: float,
    detail: str,
    hae: float | None = None,
) -> bytes:
    h = _UNKNOWN if hae is None else hae
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<event version="2.0" uid={quoteattr(uid)} '
        f'type={quoteattr(type_)} time="{_stamp(now)}" start="{_stamp(now)}" '
        f'stale="{_stamp(stale)}" how="h-e"><point lat="{lat:.7f}" lon="{lon:.7f}" '
        f'hae="{h:.1f}" ce="{_UNKNOWN:.1f}" le="{_UNKNOWN:.1f}"/><detail>{detail}</detail></event>'
    ).encode()


def pong(ping: CotEvent, now: datetime) -> bytes:
    """The answer to a ``t-x-c-t`` ping."""
    return _event(f"{ping.uid}-pong", "t-x-c-t-r", now, now + timedelta(seconds=20), 0, 0, "")


def shape_event(
    uid: str,
    title: str,
    ring: Sequence[Sequence[float]],
    now: datetime,
    stale: datetime,
    *,
    colour: int = -65536,
    remarks: str = "",
) -> bytes:
    """A drawn polygon (``u-d-f``), vertices as ``<link point>`` closed on the first; its
    point is the vertices' mean; ``stale`` is when it stops being shown."""
    pts = [(float(p[1]), float(p[0])) for p in ring]  # (lat, lon)
    if pts[0] != pts[-1]:
        pts.append(pts[0])
    lat = sum(p[0] for p in pts[:-1]) / (len(pts) - 1)
    lon = sum(p[1] for p in pts[:-1]) / (len(pts) - 1)
    links = "".join(f'<link point="{a:.7f},{b:.7f}"/>' for a, b in pts)
    detail = (
        f"{links}<contact callsign={quoteattr(title[:80])}/>"
        f'<strokeColor value="{colour}"/><strokeWeight value="3.0"/>'
        f'<fillColor value="{(colour & 0x00FFFFFF) | 0x40000000}"/>'
        f'<remarks>{escape(remarks)}</remarks><labels_on value="true"/>'
    )
    return _event(uid, "u-d-f", now, stale, lat, lon, detail)


def chat_event(message_id: str, to_uid: str, to_callsign: str, text: str, now: datetime) -> bytes:
    """A GeoChat direct message (``b-t-f``) from the hotline to one TAK user."""
    uid = f"GeoChat.{_HUB_UID}.{to_uid}.{message_id}"
    detail = (
        f'<__chat parent="RootContactGroup" groupOwner="false" chatroom={quoteattr(to_callsign)} '
        f'id={quoteattr(to_uid)} senderCallsign="Hotline"><chatgrp uid0="{_HUB_UID}" '
        f"uid1={quoteattr(to_uid)} id={quoteattr(to_uid)}/></__chat>"
        f'<link uid="{_HUB_UID}" type="a-f-G-U-C" relation="p-p"/>'
        f'<remarks source="BAO.F.ATAK.{_HUB_UID}" to={quoteattr(to_uid)} time="{_stamp(now)}">'
        f"{escape(text)}</remarks>"
    )
    return _event(uid, "b-t-f", now, now + timedelta(days=1), 0, 0, detail)


def alert_event(
    uid: str, text: str, lat: float, lon: float, now: datetime, stale: datetime
) -> bytes:
    """A tactical alert at a position (``b-a-g``: the geofence-breach alert TAK shows)."""
    detail = (
        f"<contact callsign={quoteattr(text[:80])}/><remarks>{escape(text)}</remarks>"
        f'<emergency type="Geo-fence Breached">{escape(text[:80])}</emergency>'
    )
    return _event(uid, "b-a-g", now, stale, lat, lon, detail)
