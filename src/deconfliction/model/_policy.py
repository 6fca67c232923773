"""Policy: lead times, buffers, acknowledgement deadlines and area caps per activity kind.

Parsed from TOML text (reading the file is the caller's job: this layer does no I/O).
Every key is optional; :data:`DEFAULT_POLICY_TOML` documents the defaults and is what a hub
runs with when given no policy file. Units are in the key names.

>>> p = Policy.from_toml('[defaults]\\nmin_lead_time_min = 30\\n[kinds.hazard]\\nack_deadline_min = 2')
>>> p.for_kind("flight").min_lead_time_s, p.for_kind("hazard").ack_deadline_s
(1800.0, 120.0)
>>> p.for_kind("flight").buffers
Buffers(horizontal_m=9260.0, vertical_m=304.8, time_s=300.0)
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from deconfliction.errors import InvalidPolicy
from deconfliction.geo import FEET_TO_METRES, Buffers
from deconfliction.model._checks import enum_value
from deconfliction.model._enums import ActivityKind
from deconfliction.model._track import TrackPolicy
from deconfliction.model._units import NAUTICAL_MILE_M

__all__ = ["DEFAULT_POLICY_TOML", "NAUTICAL_MILE_M", "KindPolicy", "Policy"]

DEFAULT_POLICY_TOML = """\
# Deconfliction Hotline policy. Every key is optional; these are the defaults.
# [defaults] applies to every activity kind; [kinds.<kind>] overrides it for one kind
# (kinds: air_operation, flight, uas_operation, ground_movement, maritime,
#  airspace_reservation, hazard).

[defaults]
min_lead_time_min = 60       # notice shorter than this is flagged late (never rejected)
ack_deadline_min = 15        # an affected party should acknowledge within this time
asset_max_age_min = 60       # asset positions older than this are not used for time-to-clear
ack_expected = false         # true: the owner's view lists who has not acknowledged yet
buffer_horizontal_nm = 5     # 9,260 m: ICAO Doc 4444 surveillance separation minimum
buffer_vertical_ft = 1000    # 304.8 m: RVSM vertical separation
buffer_time_min = 5          # windows closer than this in time still conflict
max_area_km2 = 10000         # a declared footprint larger than this is refused

[links]
degraded_after_min = 1       # a party's link is degraded after this long without a heartbeat
down_after_min = 3           # … and down after this long: owners are told notices wait

[tracks]
stale_after_s = 30           # a track without a report for this long leaves the live picture
max_future_s = 10            # a report timed further ahead of the hub clock is refused
max_past_s = 300             # a report older than this on arrival is refused
max_batch = 10000            # reports per ingest request (a larger batch is refused whole)
alert_deadline_s = 120       # an alert's notice is to be acknowledged within this (then escalated)
lookahead_s = 120            # how far ahead tracks are extrapolated for proximity and incursion

[kinds.ground_movement]
min_lead_time_min = 2880     # 48 h: humanitarian movement notification practice

[kinds.airspace_reservation]
min_lead_time_min = 2880     # 48 h: ICAO Annex 11, foreseeable airspace restrictions
max_area_km2 = 50000

[kinds.maritime]
min_lead_time_min = 720

[kinds.uas_operation]
min_lead_time_min = 30
buffer_horizontal_nm = 1     # small aircraft, small buffers
buffer_vertical_ft = 500

[kinds.hazard]
min_lead_time_min = 360      # live fire, engagement zones, launch windows
ack_deadline_min = 5
ack_expected = true
"""

_KEYS: dict[str, float] = {
    # key -> factor to SI (seconds, metres, square metres)
    "min_lead_time_min": 60.0,
    "ack_deadline_min": 60.0,
    "asset_max_age_min": 60.0,
    "buffer_horizontal_nm": NAUTICAL_MILE_M,
    "buffer_horizontal_m": 1.0,
    "buffer_vertical_ft": FEET_TO_METRES,
    "buffer_vertical_m": 1.0,
    "buffer_time_min": 60.0,
    "max_area_km2": 1.0e6,
}


@dataclass(frozen=True, slots=True)
class KindPolicy:
    """The rules for one activity kind (SI units)."""

    min_lead_time_s: float
    ack_deadline_s: float
    buffers: Buffers
    max_area_m2: float
    asset_max_age_s: float = 3600.0
    """Reported asset positions older than this are not used for time-to-clear."""
    ack_expected: bool = False
    """The owner's view of such an activity lists who has not acknowledged yet."""


_FLAGS = frozenset({"ack_expected"})
"""Keys that take true or false (stored as 1.0 / 0.0 among the numbers)."""


def _number(table: Mapping[str, Any], key: str, path: str) -> float | None:
    if key not in table:
        return None
    v = table[key]
    if key in _FLAGS:
        if not isinstance(v, bool):
            raise InvalidPolicy(f"{path}.{key}", "must be true or false")
        return 1.0 if v else 0.0
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
        raise InvalidPolicy(f"{path}.{key}", "must be a finite number ≥ 0")
    return float(v) * _KEYS[key]


def _overlay(base: dict[str, float], table: object, path: str) -> dict[str, float]:
    if not isinstance(table, Mapping):
        raise InvalidPolicy(path, "must be a table")
    known = [*_KEYS, *sorted(_FLAGS)]
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise InvalidPolicy(f"{path}.{unknown[0]}", f"unknown key (known: {', '.join(known)})")
    out = dict(base)
    for key in table:
        value = _number(table, key, path)
        assert value is not None
        # *_nm/_m and *_ft/_m write the same quantity; the last one given wins.
        out[key.rsplit("_", 1)[0] if key.startswith("buffer_") else key] = value
    return out


def _kind_policy(values: Mapping[str, float], path: str) -> KindPolicy:
    if values["max_area_km2"] <= 0:
        raise InvalidPolicy(f"{path}.max_area_km2", "must be > 0")
    return KindPolicy(
        min_lead_time_s=values["min_lead_time_min"],
        ack_deadline_s=values["ack_deadline_min"],
        buffers=Buffers(
            values["buffer_horizontal"], values["buffer_vertical"], values["buffer_time"]
        ),
        max_area_m2=values["max_area_km2"],
        asset_max_age_s=values["asset_max_age_min"],
        ack_expected=values["ack_expected"] > 0,
    )


@dataclass(frozen=True, slots=True)
class Policy:
    """Rules per activity kind; build with :meth:`from_toml` or :meth:`default`."""

    kinds: Mapping[ActivityKind, KindPolicy]
    link_degraded_after_s: float = 60.0
    """A party's link is degraded after this long without a heartbeat from its clients."""
    link_down_after_s: float = 180.0
    """… and down after this long."""
    tracks: TrackPolicy = field(default_factory=TrackPolicy)
    """Live tracks: staleness, clock tolerance, batch size (``[tracks]``)."""

    def for_kind(self, kind: ActivityKind | str) -> KindPolicy:
        """The rules for ``kind``."""
        return self.kinds[enum_value(ActivityKind, kind, "kind")]

    @property
    def max_buffers(self) -> Buffers:
        """The largest buffers of any kind (what a query must cover to be safe for all)."""
        ks = self.kinds.values()
        return Buffers(
            max(k.buffers.horizontal_m for k in ks),
            max(k.buffers.vertical_m for k in ks),
            max(k.buffers.time_s for k in ks),
        )

    @classmethod
    def default(cls) -> Policy:
        """The documented defaults (:data:`DEFAULT_POLICY_TOML`)."""
        return cls.from_toml("")

    @classmethod
    def from_toml(cls, text: str) -> Policy:
        """Parse a policy document.

        Layering, each over the one before: the built-in ``[defaults]``, the built-in
        ``[kinds.<kind>]``, the document's ``[defaults]``, the document's ``[kinds.<kind>]``.
        So a document's ``[defaults]`` applies to every kind its own kind tables do not set.
        """
        doc = _load(text)
        unknown = sorted(set(doc) - {"defaults", "kinds", "links", "tracks"})
        if unknown:
            raise InvalidPolicy(unknown[0], "unknown table (known: defaults, kinds, links, tracks)")
        kinds_table = doc.get("kinds", {})
        if not isinstance(kinds_table, Mapping):
            raise InvalidPolicy("kinds", "must be a table of activity kinds")
        known = [k.value for k in ActivityKind]
        for name in kinds_table:
            if name not in known:
                raise InvalidPolicy(
                    f"kinds.{name}", f"unknown activity kind (known: {', '.join(known)})"
                )
        builtin = _load(DEFAULT_POLICY_TOML)
        out: dict[ActivityKind, KindPolicy] = {}
        for k in ActivityKind:
            path = f"kinds.{k.value}"
            values = _overlay({}, builtin["defaults"], "defaults")
            values = _overlay(values, builtin["kinds"].get(k.value, {}), path)
            values = _overlay(values, doc.get("defaults", {}), "defaults")
            values = _overlay(values, kinds_table.get(k.value, {}), path)
            out[k] = _kind_policy(values, path)
        links = _links(builtin["links"], doc.get("links", {}))
        tracks = _tracks(builtin["tracks"], doc.get("tracks", {}))
        return cls(MappingProxyType(out), *links, tracks)


def _links(builtin: Mapping[str, Any], table: object) -> tuple[float, float]:
    if not isinstance(table, Mapping):
        raise InvalidPolicy("links", "must be a table")
    keys = ("degraded_after_min", "down_after_min")
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise InvalidPolicy(f"links.{unknown[0]}", f"unknown key (known: {', '.join(keys)})")
    merged = {**builtin, **table}
    vals = []
    for k in keys:
        v = merged[k]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise InvalidPolicy(f"links.{k}", "must be a finite number > 0")
        vals.append(float(v) * 60.0)
    if vals[1] < vals[0]:
        raise InvalidPolicy("links.down_after_min", "must be at least degraded_after_min")
    return vals[0], vals[1]


def _tracks(builtin: Mapping[str, Any], table: object) -> TrackPolicy:
    if not isinstance(table, Mapping):
        raise InvalidPolicy("tracks", "must be a table")
    keys = (
        "stale_after_s",
        "max_future_s",
        "max_past_s",
        "max_batch",
        "alert_deadline_s",
        "lookahead_s",
    )
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise InvalidPolicy(f"tracks.{unknown[0]}", f"unknown key (known: {', '.join(keys)})")
    merged = {**builtin, **table}
    for k in (*keys[:3], *keys[4:]):
        v = merged[k]
        if isinstance(v, int) and not isinstance(v, bool):
            merged[k] = float(v)
        elif not isinstance(v, float):
            raise InvalidPolicy(f"tracks.{k}", "must be a number")
    return TrackPolicy(**{k: merged[k] for k in keys})


def _load(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidPolicy("policy", f"not valid TOML: {exc}") from None
