"""SBS-1 BaseStation lines (dump1090/readsb port 30003) → track reports.

Each ``MSG`` line carries only some fields: type 1 the callsign, 3 the airborne position
and altitude, 2 a surface position, 4 ground speed, track and vertical rate, 5 and 7 an
altitude, 6 the squawk, 8 the on-ground flag. :class:`SbsDecoder` keeps the latest of each
per aircraft and emits a report whenever a line brings a position, completed with the
other fields when they are recent. Altitudes are barometric feet, speeds knots, vertical
rates feet per minute.

The time is the message's *generated* date and time (fields 7–8, when the receiver
decoded it), else the *logged* one (fields 9–10). dump1090 writes them in the receiver's
local time, readsb in UTC: say which with ``tz``.

>>> from uuid import UUID
>>> d = SbsDecoder(UUID(int=1))
>>> d.feed("MSG,1,1,1,4CA1F3,1,2021/10/07,12:00:00.000,2021/10/07,12:00:00.050,RYR12AB ,,,,,,,,,,,0")
>>> d.feed("MSG,3,1,1,4CA1F3,1,2021/10/07,12:00:01.000,2021/10/07,12:00:01.050,,36000,,,48.85,2.35,,,0,0,0,0")
Track(key='4ca1f3', ..., altitude_m=10972.8, ..., callsign='RYR12AB', icao24='4ca1f3', ...)
>>> d.feed("MSG,3,1,1,4CA1F3,1,2021/13/07,12:00:01.000,,,,36000,,,48.85,2.35,,,0,0,0,0")
"date/time '2021/13/07 12:00:01.000' is not YYYY/MM/DD HH:MM:SS[.fff]"
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from uuid import UUID

from deconfliction.geo import FEET_TO_METRES
from deconfliction.interop._common import (
    ADDRESS,
    DEFAULT_FEED_LIMITS,
    FeedLimits,
    number,
    surveillance_track,
)
from deconfliction.model import (
    FEET_PER_MIN_MPS,
    KNOT_MPS,
    Rejection,
    Track,
    TrackBatchResult,
    TrackSource,
)

__all__ = ["SbsDecoder", "decode_sbs_lines"]

_OTHER_TYPES = frozenset({"SEL", "ID", "AIR", "STA", "CLK"})
"""BaseStation record types that carry no position: taken without effect."""
_MAX_LINE = 1_000


@dataclass(slots=True)
class _Aircraft:
    """What the decoder last heard from one aircraft (times: epoch seconds)."""

    seen_s: float
    callsign: str | None = None
    altitude_ft: float | None = None
    altitude_s: float = 0.0
    speed_kt: float | None = None
    track_deg: float | None = None
    vrate_fpm: float | None = None
    velocity_s: float = 0.0
    on_ground: bool = False


def _flag(value: str) -> bool | None:
    v = value.strip()
    if not v:
        return None
    if v in ("-1", "1"):
        return True
    if v == "0":
        return False
    raise ValueError(f"flag {v[:10]!r} is not -1, 1 or 0")


class SbsDecoder:
    """Decodes SBS-1 lines of one feed into reports attributed to ``party``.

    ``tz`` is the time zone of the line's date/time fields (UTC for readsb; the receiver's
    local zone for dump1090). Altitude and velocity heard at most ``fresh_s`` seconds
    before a position complete it; an aircraft not heard for ``forget_s`` is forgotten.
    """

    def __init__(
        self,
        party: UUID,
        *,
        tz: tzinfo = UTC,
        source: TrackSource = TrackSource.SBS1,
        limits: FeedLimits = DEFAULT_FEED_LIMITS,
        fresh_s: float = 10.0,
        forget_s: float = 300.0,
    ) -> None:
        self.party = party
        self.tz = tz
        self.source = source
        self.limits = limits
        self.fresh_s = fresh_s
        self.forget_s = forget_s
        self._aircraft: dict[str, _Aircraft] = {}
        self._lines = 0

    def __len__(self) -> int:
        """How many aircraft the decoder remembers."""
        return len(self._aircraft)

    def feed(self, line: str | bytes) -> Track | str | None:
        """Take one line: a report when it brings a position, a reason when it is
        malformed (or its report implausible), None when it only updates the state."""
        if isinstance(line, bytes):
            try:
                line = line.decode("ascii")
            except UnicodeDecodeError:
                return "not an SBS-1 line: not ASCII text"
        line = line.strip()
        if not line:
            return "not an SBS-1 line: empty"
        if len(line) > _MAX_LINE:
            return f"not an SBS-1 line: longer than {_MAX_LINE} characters"
        f = line.split(",")
        kind = f[0].strip()
        if kind in _OTHER_TYPES:
            return None
        if kind != "MSG":
            return f"not an SBS-1 line: record type {kind[:10]!r} (expected MSG, SEL, ID, AIR, STA or CLK)"
        if len(f) < 11:
            return f"MSG line with {len(f)} fields (at least 11 expected)"
        f += [""] * (22 - len(f))
        try:
            return self._message(f)
        except ValueError as exc:
            return str(exc)

    def _time(self, f: list[str]) -> float:
        date, clock = f[6].strip(), f[7].strip()
        if not date or not clock:
            date, clock = f[8].strip(), f[9].strip()
        if not date or not clock:
            raise ValueError("no date/time (fields 7–10 empty)")
        text = f"{date} {clock}"
        try:
            fmt = "%Y/%m/%d %H:%M:%S.%f" if "." in clock else "%Y/%m/%d %H:%M:%S"
            t = datetime.strptime(text, fmt).replace(tzinfo=self.tz)
        except ValueError:
            raise ValueError(f"date/time {text[:40]!r} is not YYYY/MM/DD HH:MM:SS[.fff]") from None
        return t.timestamp()

    def _message(self, f: list[str]) -> Track | str | None:
        msg = f[1].strip()
        if msg not in ("1", "2", "3", "4", "5", "6", "7", "8"):
            return f"MSG transmission type {msg[:10]!r} is not 1 to 8"
        address = f[4].strip().lower()
        if not ADDRESS.fullmatch(address):
            return f"MSG,{msg}: hex ident {address[:20]!r} is not an aircraft address"
        t = self._time(f)
        ac = self._aircraft.get(address)
        if ac is None:
            ac = self._aircraft[address] = _Aircraft(seen_s=t)
        ac.seen_s = max(ac.seen_s, t)
        self._housekeeping(t)
        callsign = f[10].strip()
        if callsign:
            ac.callsign = callsign
        alt = number(f[11], "altitude")
        if alt is not None:
            ac.altitude_ft, ac.altitude_s = alt, t
        gs, trk, vr = (
            number(f[12], "ground speed"),
            number(f[13], "track"),
            number(f[16], "vertical rate"),
        )
        if gs is not None or trk is not None or vr is not None:
            ac.speed_kt, ac.track_deg, ac.velocity_s = gs, trk, t
            if vr is not None or msg == "4":
                ac.vrate_fpm = vr
        ground = _flag(f[21])
        if ground is not None:
            ac.on_ground = ground
        lat, lon = number(f[14], "latitude"), number(f[15], "longitude")
        if msg not in ("2", "3") or lat is None or lon is None:
            return None
        return self._report(ac, address, t, lat, lon, surface=msg == "2")

    def _report(
        self, ac: _Aircraft, address: str, t: float, lat: float, lon: float, *, surface: bool
    ) -> Track | str:
        fresh = self.fresh_s
        alt = ac.altitude_ft if not surface and t - ac.altitude_s <= fresh else None
        moving = t - ac.velocity_s <= fresh
        return surveillance_track(
            party=self.party,
            source=self.source,
            time_s=t,
            address=address,
            lat=lat,
            lon=lon,
            altitude_m=None if alt is None else alt * FEET_TO_METRES,
            ground_speed_mps=None if not moving or ac.speed_kt is None else ac.speed_kt * KNOT_MPS,
            track_deg=ac.track_deg if moving else None,
            vertical_rate_mps=(
                None if not moving or ac.vrate_fpm is None else ac.vrate_fpm * FEET_PER_MIN_MPS
            ),
            callsign=ac.callsign,
            on_ground=surface or ac.on_ground,
            limits=self.limits,
        )

    def _housekeeping(self, t: float) -> None:
        self._lines += 1
        if self._lines % 1_000:
            return
        cutoff = t - self.forget_s  # this line's time: one far-off time cannot wipe the state
        for address in [a for a, ac in self._aircraft.items() if ac.seen_s < cutoff]:
            del self._aircraft[address]


def decode_sbs_lines(lines: Iterable[str | bytes], decoder: SbsDecoder) -> TrackBatchResult:
    """Feed ``lines`` to ``decoder``; malformed lines are rejected with their index.

    Lines that only update the decoder's state count as skipped.
    """
    accepted: list[Track] = []
    rejected: list[Rejection] = []
    skipped = 0
    for i, line in enumerate(lines):
        out = decoder.feed(line)
        if isinstance(out, Track):
            accepted.append(out)
        elif out is None:
            skipped += 1
        else:
            rejected.append(Rejection(i, out))
    return TrackBatchResult(tuple(accepted), tuple(rejected), skipped)
