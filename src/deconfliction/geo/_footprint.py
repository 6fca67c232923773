"""Footprints: geodesic polygons and circles on WGS84.

A :class:`Polygon` is a ring of lon/lat vertices joined by **geodesic** edges (as ASTM
F3548-21 defines them), 3–10,000 vertices, closing vertex optional, either winding. A
:class:`Circle` is every point within ``radius_m`` (geodesic) of its centre. Both cross the
antimeridian and cover poles without special handling, as long as they stay within
:data:`~deconfliction.geo._geodesy.FRAME_MAX_RADIUS_M` of their centre.

Construction validates and precomputes what the overlap code needs (a densified ring in
longitude/isometric latitude, an enclosing cap), so a footprint is checked once and then
compared cheaply many times.

>>> p = Polygon([(179.9, -0.1), (-179.9, -0.1), (-179.9, 0.1), (179.9, 0.1)])
>>> round(p.centre[1], 6), round(abs(p.centre[0]), 6)
(0.0, 180.0)
>>> 15_000 < p.radius_m < 16_000
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import shapely
from numpy.typing import NDArray

from deconfliction.errors import InvalidVolume
from deconfliction.geo._geodesy import (
    DENSIFY_M,
    E2,
    FRAME_MAX_RADIUS_M,
    GEOD,
    LocalFrame,
    densify_ring,
    ecef,
    isometric_latitude,
    poleward_pad,
    sagitta_bound,
)

__all__ = ["MAX_VERTICES", "Circle", "Footprint", "Polygon"]

Array = NDArray[np.float64]

MAX_VERTICES = 10_000
_MIN_AREA_M2 = 0.01


def _coord(value: object, field_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise InvalidVolume(field_name, f"must be a number, got {type(value).__name__}")
    try:
        v = float(value)
    except OverflowError:
        raise InvalidVolume(
            field_name, "is too large to be a number of degrees or metres"
        ) from None
    if not math.isfinite(v):
        raise InvalidVolume(field_name, "must be finite (got NaN or infinity)")
    return v + 0.0


def _check_lon_lat(lon: object, lat: object, field_name: str) -> tuple[float, float]:
    x = _coord(lon, f"{field_name}.lon")
    y = _coord(lat, f"{field_name}.lat")
    if not -180.0 <= x <= 180.0:
        raise InvalidVolume(f"{field_name}.lon", f"longitude {x} is outside [-180, 180]")
    if not -90.0 <= y <= 90.0:
        raise InvalidVolume(f"{field_name}.lat", f"latitude {y} is outside [-90, 90]")
    return x, y


def _centre_of(lon: Array, lat: Array, field_name: str) -> tuple[float, float]:
    """Centre of a point set: the normalised mean of its geocentric unit vectors."""
    xyz = ecef(lon, lat)
    xyz /= np.linalg.norm(xyz, axis=1)[:, None]
    mean = xyz.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm < 0.5:
        raise InvalidVolume(field_name, "spans too much of the globe to have a centre; split it")
    mx, my, mz = (float(c) for c in mean / norm)
    # the mean direction is geocentric; the surface point along it has geodetic latitude
    # atan(tan ψ / (1 - e²))
    geocentric = math.atan2(mz, math.hypot(mx, my))
    glat = math.atan2(math.sin(geocentric), math.cos(geocentric) * (1 - E2))
    return math.degrees(math.atan2(my, mx)) + 0.0, math.degrees(glat) + 0.0


class Polygon:
    """A geodesic polygon footprint (immutable, hashable).

    ``vertices`` are ``(lon, lat)`` degrees; they are stored counter-clockwise (seen from
    above) without the closing vertex, whatever the input's winding.

    >>> sq = Polygon([(0, 0), (0, 1), (1, 1), (1, 0), (0, 0)])   # clockwise, closed
    >>> sq.vertices[:2]
    ((0.0, 0.0), (1.0, 0.0))
    >>> round(sq.area_m2 / 1e6)
    12309
    """

    __slots__ = (
        "_area",
        "_centre",
        "_hash",
        "_inner",
        "_lam",
        "_lats",
        "_lonlat",
        "_psi",
        "_radius",
        "_sag",
        "_xyz",
    )
    kind: Literal["polygon"] = "polygon"
    core_radius_m: float = 0.0
    """Distance added around the core geometry (0: the polygon is its own core)."""

    _lonlat: Array
    _lam: Array | None
    _psi: Array | None
    _lats: tuple[float, float] | None
    _centre: tuple[float, float]
    _radius: float
    _sag: float
    _area: float | None
    _hash: int
    _inner: tuple[float, float, float] | None
    _xyz: Array | None

    def __init__(self, vertices: Iterable[Sequence[float]] | Array) -> None:
        pts = _parse_vertices(vertices)
        lon, lat = pts[:, 0], pts[:, 1]
        centre = _centre_of(lon, lat, "footprint.vertices")
        dense = densify_ring(lon, lat, DENSIFY_M)
        frame = LocalFrame.at(*centre)
        lam = np.radians(dense[:, 0])
        psi = isometric_latitude(np.radians(dense[:, 1]))
        x, y = frame.forward(lam, psi)
        r = np.hypot(x, y)
        r_max = float(r.max())
        if r_max > FRAME_MAX_RADIUS_M:
            raise InvalidVolume(
                "footprint.vertices",
                f"extends {r_max / 1000:.0f} km from its centre, more than the "
                f"{FRAME_MAX_RADIUS_M / 1000:.0f} km supported; split it",
            )
        ring = np.stack([x, y], axis=1)
        poly = shapely.Polygon(ring)
        area = float(poly.area)
        if abs(area) < _MIN_AREA_M2:
            raise InvalidVolume("footprint.vertices", "ring has zero area")
        if not poly.is_valid:
            reason = shapely.is_valid_reason(poly)
            where = ""
            loc = reason.partition("[")[2].rstrip("]").split()
            if len(loc) == 2:
                wlon, wlat = frame.inverse_deg(np.array([float(loc[0])]), np.array([float(loc[1])]))
                where = f" near ({float(wlon[0]):.6f}, {float(wlat[0]):.6f})"
            kind = "self-intersecting" if "elf" in reason else "invalid"
            raise InvalidVolume(
                "footprint.vertices", f"ring is {kind}{where} ({reason.split('[')[0]})"
            )
        if not shapely.LinearRing(ring).is_ccw:
            pts = pts[np.concatenate([[0], np.arange(len(pts) - 1, 0, -1)])]
            keep = np.concatenate([[0], np.arange(len(dense) - 1, 0, -1)])
            dense, lam, psi, r = dense[keep], lam[keep], psi[keep], r[keep]
        lat_rad = np.radians(dense[:, 1])
        _, _, dist = GEOD.inv(
            np.full(len(dense), centre[0]), np.full(len(dense), centre[1]), dense[:, 0], dense[:, 1]
        )
        sag = sagitta_bound(DENSIFY_M, r_max)
        pts.setflags(write=False)
        lam.setflags(write=False)
        psi.setflags(write=False)
        set_ = object.__setattr__
        set_(self, "_lonlat", pts)
        set_(self, "_lam", lam)
        set_(self, "_psi", psi)
        set_(self, "_centre", centre)
        # geodesic discs are convex at these sizes: the farthest boundary point is a vertex
        # of the densified ring, up to the sagitta of its pieces
        set_(self, "_radius", float(np.max(dist)) * (1 + 1e-12) + sag)
        set_(self, "_lats", (float(lat_rad.min()), float(lat_rad.max())))
        set_(self, "_sag", sag)
        set_(self, "_area", None)
        set_(self, "_hash", hash(pts.tobytes()))
        set_(self, "_inner", _inner_disc(frame, x, y, poly, self._lats, pts, centre))
        xyz = ecef(dense[:, 0], dense[:, 1])
        xyz.setflags(write=False)
        set_(self, "_xyz", xyz)

    @classmethod
    def restore(
        cls,
        lonlat: Array,
        centre: tuple[float, float],
        radius_m: float,
        sagitta_m: float,
        inner: Sequence[float] | None = None,
    ) -> Polygon:
        """A polygon this package built before, from :meth:`derived` values (no checks).

        For trusted storage only (the hub's own database): it skips validation and
        computes the densified ring only when a decision first needs it, so reloading many
        polygons costs little. ``lonlat`` must be :attr:`lonlat` of the original.
        """
        pts = np.array(lonlat, dtype=np.float64).reshape(-1, 2)
        pts.setflags(write=False)
        self = cls.__new__(cls)
        set_ = object.__setattr__
        set_(self, "_lonlat", pts)
        set_(self, "_lam", None)
        set_(self, "_psi", None)
        set_(self, "_lats", None)
        set_(self, "_centre", (float(centre[0]), float(centre[1])))
        set_(self, "_radius", float(radius_m))
        set_(self, "_sag", float(sagitta_m))
        set_(self, "_area", None)
        set_(self, "_hash", hash(pts.tobytes()))
        set_(self, "_inner", None if inner is None else tuple(float(v) for v in inner))
        set_(self, "_xyz", None)
        return self

    def derived(self) -> dict[str, Any]:
        """What :meth:`restore` needs besides :attr:`lonlat` (JSON-serialisable)."""
        return {
            "centre": list(self._centre),
            "radius_m": self._radius,
            "sagitta_m": self._sag,
            "inner": list(self.inner_disc),
        }

    @property
    def ring_ecef(self) -> Array:
        """ECEF coordinates (metres, ``(n, 3)``, read-only) of the densified ring's points,
        which lie on the footprint's boundary; consecutive points (cyclically) are joined by
        geodesic pieces of at most :data:`~deconfliction.geo._geodesy.DENSIFY_M`."""
        if self._xyz is None:
            self._densify()
        assert self._xyz is not None
        return self._xyz

    @property
    def inner_disc(self) -> tuple[float, float, float]:
        """``(lon, lat, r)``: a point of the footprint and a radius (metres, ≥ 0) such that
        every point within ``r`` (geodesic) of it belongs to the footprint.

        A lower bound, not the largest such disc; see :func:`_inner_disc`.
        """
        if self._inner is None:
            lat_lo, lat_hi = self._lat_range
            frame = LocalFrame.at(*self._centre)
            x, y = frame.forward(self._dense_lam, self._dense_psi)
            poly = shapely.Polygon(np.stack([x, y], axis=1))
            object.__setattr__(
                self,
                "_inner",
                _inner_disc(frame, x, y, poly, (lat_lo, lat_hi), self._lonlat, self._centre),
            )
        assert self._inner is not None
        return self._inner

    def _densify(self) -> None:
        dense = densify_ring(self._lonlat[:, 0], self._lonlat[:, 1], DENSIFY_M)
        lam = np.radians(dense[:, 0])
        lat_rad = np.radians(dense[:, 1])
        psi = isometric_latitude(lat_rad)
        xyz = ecef(dense[:, 0], dense[:, 1])
        lam.setflags(write=False)
        psi.setflags(write=False)
        xyz.setflags(write=False)
        set_ = object.__setattr__
        set_(self, "_lam", lam)
        set_(self, "_psi", psi)
        set_(self, "_xyz", xyz)
        set_(self, "_lats", (float(lat_rad.min()), float(lat_rad.max())))

    @property
    def _dense_lam(self) -> Array:
        """Longitudes (radians) of the densified ring, counter-clockwise."""
        if self._lam is None:
            self._densify()
        assert self._lam is not None
        return self._lam

    @property
    def _dense_psi(self) -> Array:
        """Isometric latitudes of the densified ring."""
        if self._psi is None:
            self._densify()
        assert self._psi is not None
        return self._psi

    @property
    def _lat_range(self) -> tuple[float, float]:
        """Lowest and highest latitude (radians) of the densified ring."""
        if self._lats is None:
            self._densify()
        assert self._lats is not None
        return self._lats

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Polygon is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Polygon is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Polygon):
            return NotImplemented
        return self._lonlat.shape == other._lonlat.shape and bool(
            np.array_equal(self._lonlat, other._lonlat)
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Polygon({len(self._lonlat)} vertices, centre={self._centre})"

    def __reduce__(self) -> tuple[type[Polygon], tuple[Array]]:
        return (Polygon, (np.array(self._lonlat),))

    @property
    def vertices(self) -> tuple[tuple[float, float], ...]:
        """Vertices as ``(lon, lat)`` tuples, counter-clockwise, not closed."""
        return tuple((float(x), float(y)) for x, y in self._lonlat)

    @property
    def lonlat(self) -> Array:
        """Vertices as a read-only ``(n, 2)`` array."""
        return self._lonlat

    @property
    def centre(self) -> tuple[float, float]:
        """``(lon, lat)`` of the footprint's centre (mean direction of its vertices)."""
        return self._centre

    @property
    def radius_m(self) -> float:
        """Upper bound of the geodesic distance from :attr:`centre` to any point."""
        return self._radius

    @property
    def area_m2(self) -> float:
        """Geodesic area in square metres (pyproj, exact for geodesic edges)."""
        if self._area is None:
            lon, lat = self._lonlat[:, 0], self._lonlat[:, 1]
            area, _ = GEOD.polygon_area_perimeter(lon, lat)
            object.__setattr__(self, "_area", abs(float(area)))
        assert self._area is not None
        return self._area


def _inner_disc(
    frame: LocalFrame,
    x: Array,
    y: Array,
    poly: shapely.Polygon,
    lats: tuple[float, float] | None,
    vertices: Array,
    centre: tuple[float, float],
) -> tuple[float, float, float]:
    """An inner disc of a polygon from its densified ring projected in the frame centred
    at its :attr:`~Polygon.centre` (``x``, ``y``; ``poly`` the planar polygon).

    Why it is inside, rigorously: the true (geodesic-edged) boundary lies within
    ``sag`` (the pieces' sagitta plus the frame's seam, :func:`sagitta_bound`) of the
    planar ring. If the frame's origin (the centre) is inside the planar ring at a planar
    distance ``D > sag`` from it, the true boundary, being a deformation of the planar ring
    that never comes within ``D - sag > 0`` of the origin, winds around the origin as the
    planar ring does: the centre is inside the footprint, and every true boundary point
    lies at planar distance ``≥ D - sag`` from the origin. In this azimuthal-equidistant
    frame the planar distance from the origin *is* the Gauss-sphere distance ``σ``; the
    bounds of :meth:`LocalFrame.sphere_lower` (never above ``σ``) and of the conformal
    scale (``s ≥ σ / m_max`` over the latitudes padded by :func:`poleward_pad`) turn it into
    a lower bound ``r`` of the ellipsoidal distance from the centre to the boundary, less
    1 cm for rounding. The geodesic disc of radius ``r`` is path-connected, contains the
    centre and meets no boundary point, so it lies inside the footprint.

    Otherwise (the centre outside or too close to an edge) the disc is the first vertex
    with radius 0: a vertex belongs to the closed footprint.
    """
    r_max = float(np.hypot(x, y).max())
    sag = sagitta_bound(DENSIFY_M, r_max) + frame.seam_m(r_max)
    if lats is not None and shapely.contains_xy(poly, 0.0, 0.0):
        d = float(shapely.distance(poly.exterior, shapely.Point(0.0, 0.0)))
        if d > sag:
            _, m_max = frame.scale_range(*poleward_pad(lats[0], lats[1], r_max + sag))
            r = float(frame.sphere_lower(d - sag, r_max + sag)[0]) / m_max
            r -= 1e-2 + 1e-9 * r
            if r > 0:
                return (centre[0], centre[1], r)
    return (float(vertices[0, 0]), float(vertices[0, 1]), 0.0)


def _parse_vertices(vertices: Iterable[Sequence[float]] | Array) -> Array:
    if isinstance(vertices, np.ndarray) and vertices.dtype.kind == "f" and vertices.ndim == 2:
        arr = vertices[:, :2].astype(np.float64)
        if vertices.shape[1] not in (2, 3):
            raise InvalidVolume("footprint.vertices", "must be a list of [lon, lat] pairs")
    else:
        try:
            raw = list(vertices)
        except TypeError:
            raise InvalidVolume(
                "footprint.vertices", "must be a list of [lon, lat] pairs"
            ) from None
        if len(raw) > MAX_VERTICES + 1:
            raise InvalidVolume(
                "footprint.vertices", f"has {len(raw)} vertices, more than {MAX_VERTICES}"
            )
        out: list[tuple[float, float]] = []
        for i, v in enumerate(raw):
            name = f"footprint.vertices[{i}]"
            if isinstance(v, Mapping):  # has a length but no v[0] (found by fuzzing)
                raise InvalidVolume(name, "must be a [lon, lat] pair, got an object")
            try:
                n = len(v)
            except TypeError:
                raise InvalidVolume(name, "must be a [lon, lat] pair") from None
            if n not in (2, 3):
                raise InvalidVolume(name, f"must be a [lon, lat] pair, got {n} values")
            out.append((_coord(v[0], f"{name}.lon"), _coord(v[1], f"{name}.lat")))
        arr = np.array(out, dtype=np.float64).reshape(-1, 2)
    if len(arr) > MAX_VERTICES + 1:
        raise InvalidVolume(
            "footprint.vertices", f"has {len(arr)} vertices, more than {MAX_VERTICES}"
        )
    bad = ~(
        np.isfinite(arr).all(axis=1) & (np.abs(arr[:, 0]) <= 180.0) & (np.abs(arr[:, 1]) <= 90.0)
    )
    if bad.any():
        i = int(np.argmax(bad))
        _check_lon_lat(float(arr[i, 0]), float(arr[i, 1]), f"footprint.vertices[{i}]")
    pts = arr
    if len(pts) >= 2 and np.array_equal(pts[0], pts[-1]):
        pts = pts[:-1]
    if len(pts) > 1:  # drop consecutive duplicates (zero-length edges)
        keep = np.ones(len(pts), dtype=bool)
        keep[1:] = np.any(pts[1:] != pts[:-1], axis=1)
        pts = pts[keep]
        if len(pts) > 1 and np.array_equal(pts[0], pts[-1]):
            pts = pts[:-1]
    distinct = len(np.unique(pts, axis=0)) if len(pts) < 64 else 3
    if distinct < 3:
        raise InvalidVolume(
            "footprint.vertices", f"needs at least 3 distinct vertices, got {distinct}"
        )
    if len(pts) > MAX_VERTICES:
        raise InvalidVolume(
            "footprint.vertices", f"has {len(pts)} vertices, more than {MAX_VERTICES}"
        )
    pts = np.ascontiguousarray(pts) + 0.0  # + 0.0 turns -0.0 into 0.0 (hash = equality)
    # Poles: every longitude is the same place; normalise so equality and hashing agree.
    pts[np.abs(pts[:, 1]) == 90.0, 0] = 0.0
    return pts


@dataclass(frozen=True, slots=True)
class Circle:
    """Every point within ``radius_m`` metres (geodesic) of ``centre`` = ``(lon, lat)``.

    >>> Circle((10.0, 47.0), 500.0).radius_m
    500.0
    >>> Circle((10.0, 47.0), 0)
    Traceback (most recent call last):
    ...
    deconfliction.errors.InvalidVolume: footprint.radius_m: must be greater than 0
    """

    centre: tuple[float, float]
    radius_m: float
    kind: Literal["circle"] = field(default="circle", init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            lon, lat = self.centre
        except (TypeError, ValueError):
            raise InvalidVolume("footprint.centre", "must be a [lon, lat] pair") from None
        c = _check_lon_lat(lon, lat, "footprint.centre")
        if c[1] in (90.0, -90.0):
            c = (0.0, c[1])
        r = _coord(self.radius_m, "footprint.radius_m")
        if r <= 0:
            raise InvalidVolume("footprint.radius_m", "must be greater than 0")
        if r > FRAME_MAX_RADIUS_M:
            raise InvalidVolume(
                "footprint.radius_m", f"{r:g} m is above the {FRAME_MAX_RADIUS_M:g} m supported"
            )
        object.__setattr__(self, "centre", c)
        object.__setattr__(self, "radius_m", r)

    @property
    def core_radius_m(self) -> float:
        """The circle is its centre point grown by this distance."""
        return self.radius_m

    @property
    def inner_disc(self) -> tuple[float, float, float]:
        """``(lon, lat, r)``: the circle itself (see :attr:`Polygon.inner_disc`)."""
        return (self.centre[0], self.centre[1], self.radius_m)

    @property
    def area_m2(self) -> float:
        """Area of the geodesic disc (spherical-cap formula at the local Gauss radius)."""
        frame = LocalFrame.at(*self.centre)
        t = self.radius_m / frame.radius
        return 2 * math.pi * frame.radius**2 * (1 - math.cos(t))


Footprint = Polygon | Circle
"""A horizontal footprint: geodesic polygon or circle."""
