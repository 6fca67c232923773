"""JSON surveillance documents → track reports: readsb/dump1090 ``aircraft.json`` and
OpenSky state vectors (the REST ``/states/all`` shape).

A document that is not what it claims (not JSON, no ``now``, ``aircraft`` not a list…)
raises :class:`~deconfliction.errors.InvalidInput`; inside a good document each bad item is
rejected with its index and reason, and items without a position are skipped.

>>> from uuid import UUID
>>> doc = '{"now": 1633608800.0, "aircraft": [{"hex": "4ca1f3", "lat": 48.85, "lon": 2.35,'\\
...       ' "alt_baro": 36000, "gs": 450, "track": 90, "seen_pos": 0.5}, {"hex": "3c6586"}]}'
>>> r = parse_aircraft_json(doc, UUID(int=1))
>>> r.accepted[0].time.isoformat(), round(r.accepted[0].ground_speed_mps, 1), r.skipped
('2021-10-07T12:13:19.500000+00:00', 231.5, 1)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from deconfliction.errors import InvalidInput
from deconfliction.geo import FEET_TO_METRES
from deconfliction.interop._common import (
    DEFAULT_FEED_LIMITS,
    FeedLimits,
    number,
    surveillance_track,
)
from deconfliction.model import (
    FEET_PER_MIN_MPS,
    KNOT_MPS,
    AltitudeReference,
    Rejection,
    Track,
    TrackBatchResult,
    TrackSource,
)

__all__ = ["parse_aircraft_json", "parse_opensky_states"]

_Item = Callable[[object], "Track | str | None"]


def _document(data: bytes | str, name: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise InvalidInput(name, f"not JSON: {str(exc)[:200]}") from None


def _batch(items: list[Any], item: _Item) -> TrackBatchResult:
    accepted: list[Track] = []
    rejected: list[Rejection] = []
    skipped = 0
    for i, raw in enumerate(items):
        try:
            out = item(raw)
        except ValueError as exc:
            out = str(exc)
        if isinstance(out, Track):
            accepted.append(out)
        elif out is None:
            skipped += 1
        else:
            rejected.append(Rejection(i, out))
    return TrackBatchResult(tuple(accepted), tuple(rejected), skipped)


def _text(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    return value.strip() or None


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def parse_aircraft_json(
    data: bytes | str,
    party: UUID,
    *,
    limits: FeedLimits = DEFAULT_FEED_LIMITS,
    source: TrackSource = TrackSource.AIRCRAFT_JSON,
) -> TrackBatchResult:
    """Reports from a readsb/dump1090 ``aircraft.json`` document.

    The position time is ``now − seen_pos`` (``seen`` when ``seen_pos`` is absent). The
    altitude is ``alt_baro`` (barometric; ``"ground"`` means on the ground, altitude
    unknown), else ``alt_geom`` (geometric); the vertical rate ``baro_rate``, else
    ``geom_rate``. The older dump1090 names ``altitude``, ``speed`` and ``vert_rate`` are
    read too. Items without ``lat``/``lon`` are skipped.
    """
    doc = _document(data, "aircraft.json")
    if not isinstance(doc, Mapping):
        raise InvalidInput("aircraft.json", "must be a JSON object")
    try:
        now = number(doc.get("now"), "now")
    except ValueError as exc:
        raise InvalidInput("aircraft.json.now", str(exc)) from None
    if now is None:
        raise InvalidInput("aircraft.json.now", "is missing (the receiver's clock, epoch s)")
    items = doc.get("aircraft")
    if not isinstance(items, list):
        raise InvalidInput("aircraft.json.aircraft", "must be a list")

    def item(raw: object) -> Track | str | None:
        if not isinstance(raw, Mapping):
            return f"not a JSON object ({type(raw).__name__})"
        lat, lon = number(raw.get("lat"), "lat"), number(raw.get("lon"), "lon")
        if lat is None and lon is None:
            return None
        address = _text(raw.get("hex"), "hex")
        if address is None:
            return "no hex (aircraft address)"
        age = number(raw.get("seen_pos", raw.get("seen")), "seen_pos")
        if age is None:
            return "no seen_pos (age of the position)"
        baro = raw.get("alt_baro", raw.get("altitude"))
        ground = baro == "ground"
        alt = None if ground else number(baro, "alt_baro")
        ref = AltitudeReference.BAROMETRIC
        if alt is None and not ground:
            alt, ref = number(raw.get("alt_geom"), "alt_geom"), AltitudeReference.GEOMETRIC
        rate = number(raw.get("baro_rate", raw.get("vert_rate")), "baro_rate")
        if rate is None:
            rate = number(raw.get("geom_rate"), "geom_rate")
        return surveillance_track(
            party=party,
            source=source,
            time_s=now - age,
            address=address,
            lat=lat,
            lon=lon,
            altitude_m=_times(alt, FEET_TO_METRES),
            altitude_ref=ref,
            ground_speed_mps=_times(number(raw.get("gs", raw.get("speed")), "gs"), KNOT_MPS),
            track_deg=number(raw.get("track"), "track"),
            vertical_rate_mps=_times(rate, FEET_PER_MIN_MPS),
            callsign=_text(raw.get("flight"), "flight"),
            on_ground=ground,
            limits=limits,
        )

    return _batch(items, item)


def parse_opensky_states(
    data: bytes | str,
    party: UUID,
    *,
    limits: FeedLimits = DEFAULT_FEED_LIMITS,
    source: TrackSource = TrackSource.OPENSKY,
) -> TrackBatchResult:
    """Reports from an OpenSky state-vector document (``{"time": …, "states": [[…], …]}``).

    Each state is ``[icao24, callsign, origin_country, time_position, last_contact,
    longitude, latitude, baro_altitude, on_ground, velocity, true_track, vertical_rate,
    sensors, geo_altitude, squawk, spi, position_source, (category)]``, in metres, m/s
    and degrees. The time is ``time_position``; the altitude ``baro_altitude``, else
    ``geo_altitude``. States without a position are skipped; ``"states": null`` (no
    aircraft) is an empty result.
    """
    doc = _document(data, "opensky")
    if not isinstance(doc, Mapping):
        raise InvalidInput("opensky", "must be a JSON object")
    states = doc.get("states", None)
    if states is None:
        return TrackBatchResult()
    if not isinstance(states, list):
        raise InvalidInput("opensky.states", "must be a list (or null)")

    def item(raw: object) -> Track | str | None:
        if not isinstance(raw, list) or len(raw) < 17:
            return "not a state vector (a list of at least 17 values)"
        lon, lat = number(raw[5], "longitude"), number(raw[6], "latitude")
        if lat is None and lon is None:
            return None
        address = _text(raw[0], "icao24")
        if address is None:
            return "no icao24"
        t = number(raw[3], "time_position")
        if t is None:
            return "no time_position"
        alt, ref = number(raw[7], "baro_altitude"), AltitudeReference.BAROMETRIC
        if alt is None:
            alt, ref = number(raw[13], "geo_altitude"), AltitudeReference.GEOMETRIC
        if not isinstance(raw[8], bool):
            return "on_ground must be true or false"
        return surveillance_track(
            party=party,
            source=source,
            time_s=t,
            address=address,
            lat=lat,
            lon=lon,
            altitude_m=alt,
            altitude_ref=ref,
            ground_speed_mps=number(raw[9], "velocity"),
            track_deg=number(raw[10], "true_track"),
            vertical_rate_mps=number(raw[11], "vertical_rate"),
            callsign=_text(raw[1], "callsign"),
            on_ground=raw[8],
            limits=limits,
        )

    return _batch(states, item)
