"""Incursion: a track inside, or predicted to enter, another party's active volume.

**The model.** A track flies its geodesic from where it is, at its ground speed and
track angle, and climbs at its vertical rate; it *meets* a volume at time ``t`` in
``[0, lookahead]`` when its position is in the footprint (grown by ``buffer_m``), its
altitude in the band (grown by ``vertical_buffer_m``) and ``now + t`` in the volume's time
window — so a volume that opens within the look-ahead counts. Volumes of the track's own
party never do. The reported time to entry is the first such ``t`` (0: inside now).

**How.** Candidates come from the :class:`~deconfliction.detect._volumes.VolumeSet`'s
STRtree (bounding cubes on the globe against each track's reach), then the vertical and
time constraints give each pair one interval ``[t_lo, t_hi]``; the horizontal decision is
:func:`~deconfliction.detect._volumes.path_within` on that stretch of the path, in the
volume's own frame between the exactly projected true positions at ``t_lo`` and
``t_hi``, vectorised over all pairs (``shapely.dwithin``), with the bow of the projected
geodesic and the densified ring's sagitta as margins. It never misses a meeting of the
model; it may report one whose path stays outside by less than those margins
(centimetres; about a metre for a 300 s path). The entry is where the chord first comes
within the threshold of the core (exact capsule tests against the core's edges, hits
only), the time interpolated linearly along the stretch: reported to within the margins
over the ground speed, plus the frame's scale variation along the stretch (≪ 0.1 %).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from deconfliction.detect._grid import GRID_RADIUS_M
from deconfliction.detect._tracks import TrackSet, check_lookahead
from deconfliction.detect._volumes import VolumeSet, path_within
from deconfliction.errors import InvalidInput
from deconfliction.geo._geodesy import GEOD

__all__ = ["IncursionResult", "capsule_entry", "detect_incursions", "vertical_window"]

Array = NDArray[np.float64]
Codes = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class IncursionResult:
    """One row per (track, activity) met — its earliest-met volume — sorted by track,
    then activity (``track`` indexes the TrackSet, ``activity`` the VolumeSet's list)."""

    track: Codes
    activity: Codes
    volume: Codes
    """Index of the volume within its activity."""
    time_to_entry_s: Array
    candidates: int = 0

    def __len__(self) -> int:
        return len(self.track)


def vertical_window(
    alt: Array, vs: Array, lo: Array, hi: Array, buffer_m: float
) -> tuple[Array, Array]:
    """Times when ``alt + vs·t`` is within ``[lo − buffer, hi + buffer]`` (closed; an
    empty window has start > end)."""
    lo_b, hi_b = lo - buffer_m, hi + buffer_m
    moving = vs != 0
    safe = np.where(moving, vs, 1.0)
    t1, t2 = (lo_b - alt) / safe, (hi_b - alt) / safe
    inside = (alt >= lo_b) & (alt <= hi_b)
    start = np.where(moving, np.minimum(t1, t2), np.where(inside, -np.inf, np.inf))
    end = np.where(moving, np.maximum(t1, t2), np.where(inside, np.inf, -np.inf))
    return start, end


def _empty(candidates: int = 0) -> IncursionResult:
    e = np.empty(0, dtype=np.int64)
    return IncursionResult(e, e.copy(), e.copy(), np.empty(0), candidates)


def detect_incursions(
    tracks: TrackSet,
    volumes: VolumeSet,
    now_s: float,
    *,
    lookahead_s: float = 120.0,
    buffer_m: float = 0.0,
    vertical_buffer_m: float = 0.0,
) -> IncursionResult:
    """Every (track, other party's activity) the track is in or will enter within the
    look-ahead (see the module docstring). Tracks must be at ``now_s``."""
    t = check_lookahead(lookahead_s)
    if not (buffer_m >= 0 and vertical_buffer_m >= 0):
        raise InvalidInput("buffer_m", "buffers must be ≥ 0")
    if len(tracks) and not np.all(tracks.time_s == now_s):
        raise InvalidInput("tracks.time_s", "tracks must be at now_s: use advanced_to(now)")
    if not len(tracks) or not len(volumes):
        return _empty()
    length = tracks.gs_mps * t
    if float(length.max()) + buffer_m > volumes.max_reach_m:
        raise InvalidInput(
            "lookahead_s",
            f"a track reaches {float(length.max()) + buffer_m:.0f} m, beyond the volume "
            f"set's max_reach_m of {volumes.max_reach_m:.0f} m",
        )
    nx, ny, nz = tracks.normals
    g = GRID_RADIUS_M
    ti, vi = volumes.near(nx * g, ny * g, nz * g, length + buffer_m)
    candidates = len(ti)
    vparty = volumes.party_codes(tracks.parties)
    keep = tracks.party[ti] != vparty[vi]
    ti, vi = ti[keep], vi[keep]
    v_lo, v_hi = vertical_window(
        tracks.alt_m[ti],
        tracks.vs_mps[ti],
        volumes.alt_lo[vi],
        volumes.alt_hi[vi],
        vertical_buffer_m,
    )
    t_lo = np.maximum(np.maximum(v_lo, volumes.t_start[vi] - now_s), 0.0)
    t_hi = np.minimum(np.minimum(v_hi, volumes.t_end[vi] - now_s), t)
    keep = t_lo <= t_hi
    ti, vi, t_lo, t_hi = ti[keep], vi[keep], t_lo[keep], t_hi[keep]
    if not len(ti):
        return _empty(candidates)
    # the true positions at both ends of each pair's stretch, in the volume's frame
    lon, lat, trk, gs = tracks.lon[ti], tracks.lat[ti], tracks.trk_deg[ti], tracks.gs_mps[ti]
    lon_a, lat_a, _ = GEOD.fwd(lon, lat, trk, gs * t_lo)
    lon_b, lat_b, _ = GEOD.fwd(lon, lat, trk, gs * t_hi)
    ax, ay = volumes.project(np.asarray(lon_a), np.asarray(lat_a), vi)
    bx, by = volumes.project(np.asarray(lon_b), np.asarray(lat_b), vi)
    hit, thr = path_within(
        volumes, vi, ax, ay, bx, by, gs * (t_hi - t_lo), length[ti] + buffer_m, buffer_m
    )
    if not hit.any():
        return _empty(candidates)
    ti, vi, t_lo, t_hi = ti[hit], vi[hit], t_lo[hit], t_hi[hit]
    entry = _entry_times(volumes, vi, ax[hit], ay[hit], bx[hit], by[hit], thr[hit], t_lo, t_hi)
    act = volumes.activity[vi]
    # earliest volume per (track, activity)
    order = np.lexsort((entry, act, ti))
    ti, act, vi, entry = ti[order], act[order], vi[order], entry[order]
    first = np.ones(len(ti), dtype=bool)
    first[1:] = (ti[1:] != ti[:-1]) | (act[1:] != act[:-1])
    return IncursionResult(
        ti[first], act[first], volumes.position[vi[first]], entry[first], candidates
    )


def capsule_entry(
    ax: Array,
    ay: Array,
    dx: Array,
    dy: Array,
    x0: Array,
    y0: Array,
    x1: Array,
    y1: Array,
    r: Array,
) -> Array:
    """Smallest ``u`` in [0, 1] where ``(ax, ay) + u·(dx, dy)`` is within ``r`` of the
    segment ``(x0, y0)–(x1, y1)`` (its *capsule*: a rectangle and two discs); ``inf``
    when never. Planar, exact, vectorised over rows."""
    best = np.full(len(ax), np.inf)
    a = dx * dx + dy * dy
    a_safe = np.where(a > 0, a, 1.0)
    for ex, ey in ((x0, y0), (x1, y1)):  # the end discs
        px, py = ax - ex, ay - ey
        b = dx * px + dy * py
        c = px * px + py * py - r * r
        disc = b * b - a * c
        root = (-b - np.sqrt(np.maximum(disc, 0.0))) / a_safe
        # c > 0 (starting outside): both roots share a sign, the smaller is the entry
        u = np.where(c <= 0, 0.0, np.where((a > 0) & (disc >= 0) & (root >= 0), root, np.inf))
        best = np.minimum(best, np.where(u <= 1.0, u, np.inf))
    fx, fy = x1 - x0, y1 - y0
    length = np.hypot(fx, fy)
    ok = length > 0
    ls = np.where(ok, length, 1.0)
    ux, uy = fx / ls, fy / ls
    px, py = ax - x0, ay - y0
    lo, hi = np.zeros(len(ax)), np.ones(len(ax))
    # along the edge: 0 ≤ s(u) ≤ length; across it: |h(u)| ≤ r; both linear in u
    for p0, slope, low, high in (
        (px * ux + py * uy, dx * ux + dy * uy, np.zeros(len(ax)), length),
        (px * -uy + py * ux, dx * -uy + dy * ux, -r, r),
    ):
        moving = slope != 0
        sl = np.where(moving, slope, 1.0)
        t1, t2 = (low - p0) / sl, (high - p0) / sl
        inside = (p0 >= low) & (p0 <= high)
        lo = np.maximum(lo, np.where(moving, np.minimum(t1, t2), np.where(inside, 0.0, np.inf)))
        hi = np.minimum(hi, np.where(moving, np.maximum(t1, t2), np.where(inside, 1.0, -np.inf)))
    band = np.where(ok & (lo <= hi), lo, np.inf)
    result: Array = np.minimum(best, band)
    return result


def _entry_times(
    volumes: VolumeSet,
    v: Codes,
    ax: Array,
    ay: Array,
    bx: Array,
    by: Array,
    thr: Array,
    t_lo: Array,
    t_hi: Array,
) -> Array:
    """First time each segment comes within ``thr`` of its volume's core (planar): 0 of
    its stretch when it starts inside, else the first capsule of the core's edges entered."""
    start_in = shapely.dwithin(shapely.points(ax, ay), volumes.core[v], thr)
    frac = np.zeros(len(v))
    todo = np.flatnonzero(~start_in)
    if len(todo):
        row, x0, y0, x1, y1 = volumes.edges(v[todo])
        at = todo[row]
        u = capsule_entry(ax[at], ay[at], bx[at] - ax[at], by[at] - ay[at], x0, y0, x1, y1, thr[at])
        first = np.full(len(todo), np.inf)
        np.minimum.at(first, row, u)
        # a hit found by GEOS but by no capsule (rounding at a tangent): its closest point
        far = ~np.isfinite(first)
        if far.any():
            seg = shapely.linestrings(
                np.stack(
                    [
                        np.stack([ax[todo][far], ay[todo][far]], axis=1),
                        np.stack([bx[todo][far], by[todo][far]], axis=1),
                    ],
                    axis=1,
                )
            )
            near = shapely.get_coordinates(shapely.shortest_line(seg, volumes.core[v[todo][far]]))
            ddx, ddy = bx[todo][far] - ax[todo][far], by[todo][far] - ay[todo][far]
            span2 = np.maximum(ddx * ddx + ddy * ddy, 1e-18)
            proj = (near[0::2, 0] - ax[todo][far]) * ddx + (near[0::2, 1] - ay[todo][far]) * ddy
            first[far] = np.clip(proj / span2, 0.0, 1.0)
        frac[todo] = first
    return t_lo + frac * (t_hi - t_lo)
