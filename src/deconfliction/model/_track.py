"""Tracks: live position reports of assets (own reports, ADS-B, Cursor-on-Target…).

A :class:`Track` is one report; building one checks every field's type and range (an
out-of-range latitude, altitude or speed raises :class:`~deconfliction.errors.InvalidInput`
naming the field). What depends on the hub's clock and on earlier reports — a time too far
ahead or behind, a track going backwards — is :func:`check_track`'s job, a pure function
that returns the reason or None; :func:`check_batch` applies it to a batch, item by item.

>>> from uuid import UUID
>>> from datetime import datetime, timezone
>>> t = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
>>> r = Track("4CA1F3", UUID(int=1), TrackSource.ADSB, t, 48.85, 2.35, icao24="4CA1F3")
>>> r.icao24, r.ident
('4ca1f3', (UUID('00000000-0000-0000-0000-000000000001'), '4CA1F3'))
>>> check_track(r, t, last_time=t)
'repeats the time of the last report of track 4CA1F3 (2026-12-01T12:00:00+00:00)'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from deconfliction.errors import InvalidInput, InvalidPolicy
from deconfliction.model._asset import MAX_ASSET_SPEED_MPS
from deconfliction.model._checks import aware, enum_value, text

__all__ = [
    "ICAO24",
    "MAX_TRACK_ALTITUDE_M",
    "MAX_VERTICAL_RATE_MPS",
    "MIN_TRACK_ALTITUDE_M",
    "AltitudeReference",
    "Rejection",
    "Track",
    "TrackBatchResult",
    "TrackPolicy",
    "TrackSource",
    "check_batch",
    "check_track",
]

MIN_TRACK_ALTITUDE_M = -1_000.0
"""Lowest altitude a track may report (below the Dead Sea shore is a unit error)."""
MAX_TRACK_ALTITUDE_M = 100_000.0
"""Highest altitude a track may report (the edge of space; feeds set tighter limits)."""
MAX_VERTICAL_RATE_MPS = 500.0
"""Largest climb or descent rate accepted (about 98,000 ft/min: beyond is a unit error)."""

ICAO24 = re.compile(r"[0-9a-f]{6}")
"""An ICAO 24-bit address as reports carry it (after stripping and lower-casing)."""


class TrackSource(StrEnum):
    """Where a report came from."""

    OWN = "own"
    """The party's own report of its asset (API, WebSocket)."""
    ADSB = "adsb"
    """ADS-B from a source not listed below."""
    SBS1 = "sbs1"
    """SBS-1 BaseStation lines (dump1090/readsb port 30003)."""
    AIRCRAFT_JSON = "aircraft_json"
    """readsb/dump1090 ``aircraft.json``."""
    OPENSKY = "opensky"
    """OpenSky Network state vectors (live, or the recorded samples replayed)."""
    COT = "cot"
    """Cursor-on-Target events (TAK)."""
    OTHER = "other"


class AltitudeReference(StrEnum):
    """What a track's altitude is measured from (it is always given in metres)."""

    BAROMETRIC = "barometric"
    """Pressure altitude (standard atmosphere, 1013.25 hPa), as transponders report it;
    differs from the true height by the day's pressure and temperature (often 100s of m)."""
    GEOMETRIC = "geometric"
    """GNSS altitude as the aircraft broadcasts it (above the WGS84 ellipsoid for ADS-B
    version 2 equipment, possibly above mean sea level for older equipment)."""
    WGS84 = "wgs84"
    """Height above the WGS84 ellipsoid: the package's internal reference."""
    MSL = "msl"
    """Above mean sea level (the geoid)."""
    AGL = "agl"
    """Above ground level."""


def _number(value: object, name: str, lo: float, hi: float) -> float:
    if type(value) is float and lo <= value <= hi:  # the common case, fast
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(name, f"must be a number, got {type(value).__name__}")
    v = float(value)
    if not (lo <= v <= hi):  # also false for NaN
        raise InvalidInput(name, f"must be between {lo:g} and {hi:g}, got {value!r}")
    return v


def _optional(value: object, name: str, lo: float, hi: float) -> float | None:
    return None if value is None else _number(value, name, lo, hi)


def _uuid(value: object, name: str, *, required: bool = True) -> UUID | None:
    if value is None and not required:
        return None
    if not isinstance(value, UUID):
        raise InvalidInput(name, "must be a UUID")
    return value


@dataclass(frozen=True, slots=True)
class Track:
    """One position report of one asset.

    ``key`` names the track within its party (the ICAO address for ADS-B, the party's own
    reference for its reports); a track is identified by ``(party, key)`` (:attr:`ident`).
    Speeds are m/s, angles degrees clockwise from true north, altitudes metres measured
    from ``altitude_ref``; None means not reported (an unknown altitude is treated as any
    altitude).
    """

    key: str
    party: UUID
    source: TrackSource
    time: datetime
    lat: float
    lon: float
    altitude_m: float | None = None
    altitude_ref: AltitudeReference = AltitudeReference.WGS84
    ground_speed_mps: float | None = None
    track_deg: float | None = None
    """Track angle over the ground, in [0, 360)."""
    vertical_rate_mps: float | None = None
    """Positive climbing."""
    callsign: str | None = None
    icao24: str | None = None
    """ICAO 24-bit aircraft address, six lower-case hex digits."""
    activity_id: UUID | None = None
    """The activity of its party this asset flies for, if any (for conformance)."""
    on_ground: bool = False

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "key", text(self.key, "key", max_len=100))
        _uuid(self.party, "party")
        s(self, "source", enum_value(TrackSource, self.source, "source"))
        s(self, "time", aware(self.time, "time"))
        s(self, "lat", _number(self.lat, "lat", -90.0, 90.0))
        s(self, "lon", _number(self.lon, "lon", -180.0, 180.0))
        lo, hi = MIN_TRACK_ALTITUDE_M, MAX_TRACK_ALTITUDE_M
        s(self, "altitude_m", _optional(self.altitude_m, "altitude_m", lo, hi))
        s(self, "altitude_ref", enum_value(AltitudeReference, self.altitude_ref, "altitude_ref"))
        top = MAX_ASSET_SPEED_MPS
        s(self, "ground_speed_mps", _optional(self.ground_speed_mps, "ground_speed_mps", 0, top))
        angle = _optional(self.track_deg, "track_deg", 0.0, 360.0)
        s(self, "track_deg", None if angle is None else angle % 360.0)
        vr = MAX_VERTICAL_RATE_MPS
        s(
            self,
            "vertical_rate_mps",
            _optional(self.vertical_rate_mps, "vertical_rate_mps", -vr, vr),
        )
        if self.callsign is not None:
            call = text(self.callsign, "callsign", max_len=40, required=False)
            s(self, "callsign", call or None)
        if self.icao24 is not None:
            icao: object = self.icao24
            if not isinstance(icao, str) or not ICAO24.fullmatch(icao := icao.strip().lower()):
                raise InvalidInput("icao24", "must be 6 hexadecimal digits")
            s(self, "icao24", icao)
        _uuid(self.activity_id, "activity_id", required=False)
        if not isinstance(self.on_ground, bool):
            raise InvalidInput("on_ground", "must be true or false")

    @property
    def ident(self) -> tuple[UUID, str]:
        """``(party, key)``: what identifies the track this report belongs to."""
        return (self.party, self.key)


@dataclass(frozen=True, slots=True)
class TrackPolicy:
    """The ``[tracks]`` policy: when reports are taken and how long a track lives.

    ``stale_after_s`` — a track without a report for this long leaves the tactical
    picture (30 s: ADS-B gives a position every 0.5–1 s, OpenSky every 5–10 s; in 30 s an
    airliner covers ~7.5 km, close to the 5 NM separation minimum, so an older position
    says less than the separation it would be checked against). ``max_future_s`` — a
    report timed further ahead of the hub's clock is refused (10 s: twice the 5 s clock
    sync of ASTM F3548-21). ``max_past_s`` — a report older than this on arrival is
    refused (5 min: a feed that late is replaying, not reporting). ``max_batch`` — reports
    per ingest request. ``alert_deadline_s`` — a tactical alert's notice is to be
    acknowledged within this, then goes up the recipient's escalation ladder (2 min: the
    look-ahead of the alert itself). ``lookahead_s`` — how far ahead the tactical engine
    extrapolates tracks (120 s: short-term conflict alert practice; at most 600 s).
    """

    stale_after_s: float = 30.0
    max_future_s: float = 10.0
    max_past_s: float = 300.0
    max_batch: int = 10_000
    alert_deadline_s: float = 120.0
    lookahead_s: float = 120.0

    def __post_init__(self) -> None:
        for name, lo in (
            ("stale_after_s", 1e-9),
            ("max_future_s", 0.0),
            ("max_past_s", 1e-9),
            ("alert_deadline_s", 1e-9),
            ("lookahead_s", 1e-9),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise InvalidPolicy(f"tracks.{name}", "must be a finite number")
            if v < lo:
                raise InvalidPolicy(f"tracks.{name}", "must be > 0" if lo else "must be ≥ 0")
        if self.lookahead_s > 600:
            raise InvalidPolicy("tracks.lookahead_s", "must be at most 600 s")
        b: object = self.max_batch
        if isinstance(b, bool) or not isinstance(b, int) or not 1 <= b <= 1_000_000:
            raise InvalidPolicy("tracks.max_batch", "must be an integer from 1 to 1000000")


@dataclass(frozen=True, slots=True)
class Rejection:
    """An item of a batch that was not taken: its position in the batch and why."""

    index: int
    reason: str


@dataclass(frozen=True, slots=True)
class TrackBatchResult:
    """What became of a batch: the reports taken (in order), the items refused, and how many
    items were skipped without being an error (e.g. a feed's aircraft without a position)."""

    accepted: tuple[Track, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    skipped: int = field(default=0)


def check_track(
    report: Track,
    now: datetime,
    last_time: datetime | None,
    policy: TrackPolicy | None = None,
) -> str | None:
    """Why ``report`` is refused at ``now`` (the hub's clock), or None when it is taken.

    ``last_time`` is the time of the last report taken for the same track (None for a new
    track): a report at or before it is refused (going backwards, or a duplicate).
    """
    p = policy or _DEFAULT_POLICY
    now = aware(now, "now")
    ahead = (report.time - now).total_seconds()
    if ahead > p.max_future_s:
        return (
            f"time {report.time.isoformat()} is {ahead:.1f} s ahead of the hub clock "
            f"(at most {p.max_future_s:g} s)"
        )
    if -ahead > p.max_past_s:
        return (
            f"time {report.time.isoformat()} is {-ahead:.1f} s old on arrival "
            f"(at most {p.max_past_s:g} s)"
        )
    if last_time is not None:
        back = (last_time - report.time).total_seconds()
        if back == 0:
            return (
                f"repeats the time of the last report of track {report.key} "
                f"({last_time.astimezone(UTC).isoformat()})"
            )
        if back > 0:
            return (
                f"goes backwards: {back:g} s before the last report of track {report.key} "
                f"({last_time.astimezone(UTC).isoformat()})"
            )
    return None


def check_batch(
    items: Sequence[Track | str],
    now: datetime,
    last_times: Mapping[tuple[UUID, str], datetime],
    policy: TrackPolicy | None = None,
) -> TrackBatchResult:
    """Check a batch item by item; refused items are reported with their index and reason.

    An item may already be a reason (a ``str``: the caller could not build a report from
    it), so that indices stay those of the request. ``last_times`` holds the last time
    taken per :attr:`Track.ident`; reports of one track within the batch must go forward
    too. A batch over ``policy.max_batch`` items is refused whole (InvalidInput).
    """
    p = policy or _DEFAULT_POLICY
    if len(items) > p.max_batch:
        raise InvalidInput("tracks", f"{len(items)} reports exceed the limit of {p.max_batch}")
    lo, hi = _sure_window(now, p)
    latest: dict[tuple[UUID, str], datetime] = {}
    accepted: list[Track] = []
    rejected: list[Rejection] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            rejected.append(Rejection(i, item))
            continue
        ident = (item.party, item.key)
        last = latest.get(ident) or last_times.get(ident)
        t = item.time
        if lo <= t <= hi and (last is None or t > last):  # surely taken: no need to ask
            reason = None
        else:
            reason = check_track(item, now, last, p)
        if reason is None:
            accepted.append(item)
            latest[ident] = item.time
        else:
            rejected.append(Rejection(i, reason))
    return TrackBatchResult(tuple(accepted), tuple(rejected))


def _sure_window(now: datetime, p: TrackPolicy) -> tuple[datetime, datetime]:
    """Times that :func:`check_track` surely finds neither too old nor too far ahead at
    ``now``: a whole microsecond inside each limit, so that its float seconds never round
    across it (an empty window when the limits are beyond what a datetime holds)."""
    try:
        now = aware(now, "now")  # a naive one: check_track says so at the first report
        past = timedelta(microseconds=math.floor(p.max_past_s * 1e6) - 1)
        ahead = timedelta(microseconds=math.floor(p.max_future_s * 1e6) - 1)
        return now - past, now + ahead
    except (InvalidInput, OverflowError):
        return datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC)


_DEFAULT_POLICY = TrackPolicy()
