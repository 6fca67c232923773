"""Live tracks as columns: one numpy array per field, one row per asset.

A :class:`TrackSet` is what the tactical engine works on each cycle. It is built once from
the latest report of every asset (the service keeps it current) and never mutated; the
checks read its columns and a few derived ones (unit normals, 3D ground velocity), which
are computed on first use and cached.

Units follow DESIGN.md §4: degrees, metres (altitude above the WGS84 ellipsoid), metres
per second, track angle in degrees clockwise from true north, time in epoch seconds.

>>> ts = TrackSet.from_columns(
...     ids=["a", "b"], party=["red", "blue"], lat=[47.0, 47.1], lon=[2.0, 2.0],
...     alt_m=[6_000.0, 6_000.0], gs_mps=[200.0, 200.0], trk_deg=[0.0, 180.0],
...     vs_mps=[0.0, 0.0], time_s=[1_000.0, 1_000.0])
>>> len(ts), ts.parties
(2, ('blue', 'red'))
>>> ts.positions()[0]
Position(key='a', lon=2.0, lat=47.0, altitude_m=6000.0, max_speed_mps=200.0)
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from deconfliction.detect._clearance import Position
from deconfliction.errors import InvalidInput
from deconfliction.geo._geodesy import GEOD

__all__ = ["NO_ACTIVITY", "TrackSet", "check_lookahead"]

Array = NDArray[np.float64]
Codes = NDArray[np.int64]

NO_ACTIVITY = -1
"""Code in :attr:`TrackSet.activity` of a track linked to no activity."""

_FLOAT_COLUMNS = ("lat", "lon", "alt_m", "gs_mps", "trk_deg", "vs_mps", "time_s")
_RANGES: dict[str, tuple[float, float]] = {
    "lat": (-90.0, 90.0),
    "lon": (-180.0, 180.0),
    "alt_m": (-1_000.0, 1_000_000.0),
    "gs_mps": (0.0, 3_000.0),
    "trk_deg": (-360.0, 360.0),
    "vs_mps": (-1_000.0, 1_000.0),
    "time_s": (0.0, 1e11),
}


def _codes(values: Sequence[Hashable] | None, n: int, name: str) -> tuple[Codes, tuple[Any, ...]]:
    """Integer codes into a sorted vocabulary (None entries become :data:`NO_ACTIVITY`)."""
    if values is None:
        return np.full(n, NO_ACTIVITY, dtype=np.int64), ()
    if len(values) != n:
        raise InvalidInput(f"tracks.{name}", f"has {len(values)} items for {n} tracks")
    present: list[Any] = [v for v in values if v is not None]
    try:
        vocab = tuple(sorted(set(present)))
    except TypeError:  # mixed, unorderable keys: first-seen order is just as stable
        vocab = tuple(dict.fromkeys(present))
    index = {v: i for i, v in enumerate(vocab)}
    codes = np.fromiter(
        (NO_ACTIVITY if v is None else index[v] for v in values), dtype=np.int64, count=n
    )
    return codes, vocab


@dataclass(frozen=True, eq=False)
class TrackSet:
    """The latest state of N tracks, column by column (build with :meth:`from_columns`).

    ``party``, ``kind`` and ``activity`` are integer codes into the vocabularies
    ``parties``, ``kinds`` and ``activities`` (``activity`` is :data:`NO_ACTIVITY` for an
    unlinked track; every track has a party and a kind).
    """

    ids: NDArray[np.object_]
    party: Codes
    parties: tuple[Any, ...]
    lat: Array
    lon: Array
    alt_m: Array
    gs_mps: Array
    trk_deg: Array
    vs_mps: Array
    time_s: Array
    kind: Codes
    kinds: tuple[str, ...]
    activity: Codes
    activities: tuple[Any, ...]

    @classmethod
    def from_columns(
        cls,
        *,
        ids: Sequence[Hashable],
        party: Sequence[Hashable],
        lat: ArrayLike,
        lon: ArrayLike,
        alt_m: ArrayLike,
        gs_mps: ArrayLike,
        trk_deg: ArrayLike,
        vs_mps: ArrayLike,
        time_s: ArrayLike,
        kind: Sequence[str] | None = None,
        activity: Sequence[Hashable | None] | None = None,
    ) -> TrackSet:
        """Validate and store the columns (every column has one item per track).

        Raises:
            InvalidInput: a column of the wrong length, a value out of range or not
                finite (``field`` names the first offender, e.g. ``tracks.lat[3]``), or a
                repeated id.
        """
        n = len(ids)
        cols: dict[str, Array] = {}
        given = {
            "lat": lat,
            "lon": lon,
            "alt_m": alt_m,
            "gs_mps": gs_mps,
            "trk_deg": trk_deg,
            "vs_mps": vs_mps,
            "time_s": time_s,
        }
        for name in _FLOAT_COLUMNS:
            try:
                arr = np.array(given[name], dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                raise InvalidInput(f"tracks.{name}", "must be numbers") from None
            if len(arr) != n:
                raise InvalidInput(f"tracks.{name}", f"has {len(arr)} items for {n} tracks")
            lo, hi = _RANGES[name]
            bad = np.flatnonzero(~(np.isfinite(arr) & (arr >= lo) & (arr <= hi)))
            if len(bad):
                i = int(bad[0])
                raise InvalidInput(
                    f"tracks.{name}[{i}]", f"{arr[i]!r} is not a finite number in [{lo:g}, {hi:g}]"
                )
            arr.setflags(write=False)
            cols[name] = arr
        id_arr = np.empty(n, dtype=object)
        id_arr[:] = list(ids)
        if len(set(id_arr.tolist())) != n:
            raise InvalidInput("tracks.ids", "must be unique")
        party_codes, parties = _codes(party, n, "party")
        if n and (party_codes == NO_ACTIVITY).any():
            raise InvalidInput("tracks.party", "every track needs a party")
        kind_codes, kinds = _codes(kind if kind is not None else ["default"] * n, n, "kind")
        if n and (kind_codes == NO_ACTIVITY).any():
            raise InvalidInput("tracks.kind", "a kind cannot be None")
        act_codes, activities = _codes(activity, n, "activity")
        return cls(
            ids=id_arr,
            party=party_codes,
            parties=parties,
            kind=kind_codes,
            kinds=kinds,
            activity=act_codes,
            activities=activities,
            **cols,
        )

    def __len__(self) -> int:
        return len(self.ids)

    # -- derived columns (cached) ---------------------------------------------------------

    @cached_property
    def normals(self) -> tuple[Array, Array, Array]:
        """Unit normals of the ellipsoid at each position (geocentric x, y, z components)."""
        phi, lam = np.radians(self.lat), np.radians(self.lon)
        cphi = np.cos(phi)
        return cphi * np.cos(lam), cphi * np.sin(lam), np.sin(phi)

    @cached_property
    def velocity(self) -> tuple[Array, Array, Array]:
        """Ground velocity as a 3D vector tangent at each position, m/s (x, y, z).

        ``gs·(sin(trk)·east + cos(trk)·north)`` with the local east and north unit vectors;
        at a pole, where east is undefined, the longitude given still fixes it.
        """
        phi, lam = np.radians(self.lat), np.radians(self.lon)
        sp, cp, sl, cl = np.sin(phi), np.cos(phi), np.sin(lam), np.cos(lam)
        trk = np.radians(self.trk_deg)
        ve, vn = self.gs_mps * np.sin(trk), self.gs_mps * np.cos(trk)
        return -ve * sl - vn * sp * cl, ve * cl - vn * sp * sl, vn * cp

    # -- views -----------------------------------------------------------------------------

    def take(self, index: ArrayLike) -> TrackSet:
        """The tracks at ``index`` (integer positions or a boolean mask), same vocabularies."""
        idx = np.asarray(index)
        return TrackSet(
            ids=self.ids[idx],
            party=self.party[idx],
            parties=self.parties,
            lat=self.lat[idx],
            lon=self.lon[idx],
            alt_m=self.alt_m[idx],
            gs_mps=self.gs_mps[idx],
            trk_deg=self.trk_deg[idx],
            vs_mps=self.vs_mps[idx],
            time_s=self.time_s[idx],
            kind=self.kind[idx],
            kinds=self.kinds,
            activity=self.activity[idx],
            activities=self.activities,
        )

    def fresh(self, now_s: float, max_age_s: float) -> TrackSet:
        """The tracks reported at most ``max_age_s`` before ``now_s`` (stale ones dropped;
        reports from the future by more than that are dropped too)."""
        age = now_s - self.time_s
        return self.take((age <= max_age_s) & (age >= -max_age_s))

    def advanced_to(self, now_s: float) -> TrackSet:
        """Every track dead-reckoned to ``now_s`` along its geodesic (constant ground speed,
        track angle at the report, vertical rate); itself when all are reported at ``now_s``."""
        dt = now_s - self.time_s
        if not np.any(dt):
            return self
        lon, lat, back = GEOD.fwd(self.lon, self.lat, self.trk_deg, self.gs_mps * dt)
        trk = np.where(self.gs_mps * dt != 0, np.mod(np.asarray(back) + 180.0, 360.0), self.trk_deg)
        moved = self.take(np.arange(len(self)))
        cols = {
            "lon": np.asarray(lon, dtype=np.float64),
            "lat": np.asarray(lat, dtype=np.float64),
            "alt_m": self.alt_m + self.vs_mps * dt,
            "trk_deg": np.asarray(trk, dtype=np.float64),
            "time_s": np.full(len(self), float(now_s)),
        }
        for name, arr in cols.items():
            object.__setattr__(moved, name, arr)
        return moved

    def positions(self, max_speed_mps: float | None = None) -> list[Position]:
        """The tracks as :class:`~deconfliction.detect.Position` for
        :func:`~deconfliction.detect.clearance_needs` (time-to-clear with live tracks).

        Each asset's top speed is ``max_speed_mps`` when given, else its ground speed (at
        least 1 m/s, so that a hovering asset still gets a finite time to clear).
        """
        speed = (
            np.full(len(self), float(max_speed_mps))
            if max_speed_mps is not None
            else np.maximum(self.gs_mps, 1.0)
        )
        return [
            Position(k, float(x), float(y), float(z), float(s))
            for k, x, y, z, s in zip(
                self.ids.tolist(), self.lon, self.lat, self.alt_m, speed, strict=True
            )
        ]


def check_lookahead(lookahead_s: float) -> float:
    """A look-ahead in seconds, validated (finite, > 0, at most one hour)."""
    t = float(lookahead_s)
    if not (math.isfinite(t) and 0 < t <= 3_600):
        raise InvalidInput("lookahead_s", f"{lookahead_s!r} is not in (0, 3600] seconds")
    return t
