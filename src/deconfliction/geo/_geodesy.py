"""Geodesy on WGS84: local frames, error bounds, densification, ECEF.

Every horizontal decision is made in a *local frame*: the WGS84 ellipsoid is mapped
conformally onto its Gauss sphere at the frame's latitude (the double projection PROJ calls
``gauss``), then the sphere is projected azimuthal-equidistantly about the frame's centre.
Both steps are closed-form numpy, so a frame costs microseconds, and both come with error
bounds that the decision code uses so that it **never under-reports** a conflict:

* the conformal map has scale ``m(φ)`` with ``m(φ0) = 1`` and ``m'(φ0) = 0``; lengths on
  the sphere are ``m`` times lengths on the ellipsoid, so over a region whose latitudes give
  ``m_min ≤ m ≤ m_max`` every ellipsoidal length ``s`` and its sphere image ``σ`` satisfy
  ``σ/m_max ≤ s ≤ σ/m_min``;
* the azimuthal-equidistant map keeps distances from the centre exact and stretches
  across by ``k(r) = (r/R)/sin(r/R) ≥ 1`` (``R`` the Gauss radius), so a planar distance
  ``D`` between two points within ``r`` of the centre satisfies ``σ ≤ D ≤ k(r)·σ``.

Together: ``D/(k·m_max) ≤ s ≤ D/m_min`` (see :meth:`LocalFrame.distance_bounds`).
Edges are geodesics; they are densified into pieces of at most ``DENSIFY_M`` on the
ellipsoid, and :func:`sagitta_bound` bounds how far a projected piece can bow away from its
chord (a bound checked against pyproj in the tests).

>>> f = LocalFrame.at(10.0, 47.0)
>>> x, y = f.forward_deg([10.0], [47.0])
>>> float(abs(x[0])) < 1e-6 and float(abs(y[0])) < 1e-6
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

__all__ = [
    "A",
    "B",
    "DENSIFY_M",
    "E",
    "E2",
    "FRAME_MAX_RADIUS_M",
    "GEOD",
    "LocalFrame",
    "M_EQUATOR",
    "chord_to_geodesic_upper",
    "densify_ring",
    "ecef",
    "geodesic_distance",
    "isometric_latitude",
    "poleward_pad",
    "sagitta_bound",
    "unit_vectors",
]

Array = NDArray[np.float64]

A = 6378137.0
"""WGS84 semi-major axis, metres."""
F = 1 / 298.257223563
E2 = F * (2 - F)
E = math.sqrt(E2)
B = A * (1 - F)
"""WGS84 semi-minor axis, metres."""
M_EQUATOR = A * (1 - E2)
"""Smallest radius of normal curvature on WGS84 (meridional, at the equator), metres.

Every geodesic, seen as a space curve, has curvature at most ``1/M_EQUATOR``; Schur's
comparison theorem then bounds its length by its chord (:func:`chord_to_geodesic_upper`).
"""

GEOD = Geod(ellps="WGS84")
"""pyproj's geodesic solver (Karney), the reference for every exact distance."""

DENSIFY_M = 10_000.0
"""Longest piece (metres on the ellipsoid) a geodesic edge is split into."""

FRAME_MAX_RADIUS_M = 3_000_000.0
"""A local frame is used only for points within this distance of its centre."""

_HALF_PI = math.pi / 2


def isometric_latitude(lat_rad: Array | float) -> Array:
    """Isometric latitude ψ of geodetic latitude (radians), the Mercator ordinate.

    ψ is what the Gauss map needs; footprints store it so a frame costs one ``exp``.
    Latitudes are clipped 1e-12 rad short of the poles, where ψ is infinite.
    """
    phi = np.clip(np.asarray(lat_rad, dtype=np.float64), -_HALF_PI + 1e-12, _HALF_PI - 1e-12)
    result: Array = np.arcsinh(np.tan(phi)) - E * np.arctanh(E * np.sin(phi))
    return result


def _isometric_scalar(phi: float) -> float:
    phi = min(max(phi, -_HALF_PI + 1e-12), _HALF_PI - 1e-12)
    return math.asinh(math.tan(phi)) - E * math.atanh(E * math.sin(phi))


def ecef_scalar(lon_deg: float, lat_deg: float) -> tuple[float, float, float]:
    """:func:`ecef` of one point, without numpy (hot paths)."""
    lon, lat = math.radians(lon_deg), math.radians(lat_deg)
    s = math.sin(lat)
    n = A / math.sqrt(1 - E2 * s * s)
    c = math.cos(lat)
    return (n * c * math.cos(lon), n * c * math.sin(lon), n * (1 - E2) * s)


def _latitude_from_isometric(psi: Array) -> Array:
    """Inverse of :func:`isometric_latitude` (fixed-point iteration, converges in ~5 steps)."""
    chi = np.arctan(np.sinh(psi))  # conformal latitude (sphere)
    phi = chi
    for _ in range(12):
        s = np.sin(phi)
        phi_new = np.arctan(np.sinh(psi + E * np.arctanh(E * s)))
        if np.all(np.abs(phi_new - phi) < 1e-15):
            phi = phi_new
            break
        phi = phi_new
    return phi


def unit_vectors(lon_deg: Array, lat_deg: Array) -> Array:
    """Geocentric unit vectors of geodetic positions, shape ``(n, 3)`` (for coarse work)."""
    xyz = ecef(lon_deg, lat_deg)
    result: Array = xyz / np.linalg.norm(xyz, axis=1)[:, None]
    return result


def ecef(lon_deg: Array | float, lat_deg: Array | float) -> Array:
    """Earth-centred Earth-fixed coordinates (metres) of points on the ellipsoid surface.

    The straight-line (chord) distance between two such points never exceeds their
    geodesic distance, which makes 3D boxes built from ECEF safe prefilters.

    >>> ecef(0.0, 0.0).round(3).tolist()
    [[6378137.0, 0.0, 0.0]]
    """
    lon = np.radians(np.atleast_1d(np.asarray(lon_deg, dtype=np.float64)))
    lat = np.radians(np.atleast_1d(np.asarray(lat_deg, dtype=np.float64)))
    s = np.sin(lat)
    n = A / np.sqrt(1 - E2 * s * s)
    c = np.cos(lat)
    return np.stack([n * c * np.cos(lon), n * c * np.sin(lon), n * (1 - E2) * s], axis=1)


def chord_to_geodesic_upper(chord_m: Array | float) -> Array:
    """Upper bound of a geodesic's length given its chord (Schur, curvature ≤ 1/M_EQUATOR).

    ``chord ≤ s ≤ 2ρ·asin(chord/2ρ)``, ρ = :data:`M_EQUATOR`; relative excess ≈ c²/24ρ².

    >>> 1.0 < float(chord_to_geodesic_upper(100_000.0)) - 100_000.0 < 1.1
    True
    """
    c = np.asarray(chord_m, dtype=np.float64)
    ratio = np.minimum(c / (2 * M_EQUATOR), 1.0)
    result: Array = 2 * M_EQUATOR * np.arcsin(ratio)
    return result


def geodesic_distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Exact (Karney) geodesic distance in metres between two points."""
    _, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(d)


def densify_ring(lon_deg: Array, lat_deg: Array, max_piece_m: float = DENSIFY_M) -> Array:
    """Points of a closed ring of geodesic edges, with intermediate points added so no piece
    is longer than ``max_piece_m`` on the ellipsoid. Returns ``(n, 2)`` lon/lat degrees,
    not closed; the input vertices are kept, in order.

    >>> ring = densify_ring(np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0]), 50_000.0)
    >>> len(ring) > 3
    True
    """
    lon1 = np.asarray(lon_deg, dtype=np.float64)
    lat1 = np.asarray(lat_deg, dtype=np.float64)
    lon2, lat2 = np.roll(lon1, -1), np.roll(lat1, -1)
    az, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    az = np.asarray(az, dtype=np.float64)
    dist = np.asarray(dist, dtype=np.float64)
    pieces = np.maximum(1, np.ceil(dist / max_piece_m)).astype(np.int64)
    extra = pieces - 1
    total_extra = int(extra.sum())
    if total_extra == 0:
        return np.stack([lon1, lat1], axis=1)
    edge = np.repeat(np.arange(len(lon1)), extra)
    # index of the intermediate point within its edge: 1..extra[i]
    starts = np.cumsum(extra) - extra
    k = np.arange(total_extra) - np.repeat(starts, extra) + 1
    frac = k / np.repeat(pieces, extra)
    ilon, ilat, _ = GEOD.fwd(lon1[edge], lat1[edge], az[edge], dist[edge] * frac)
    ilon = np.asarray(ilon, dtype=np.float64)
    ilat = np.asarray(ilat, dtype=np.float64)
    # Interleave: each vertex followed by its edge's intermediate points.
    out_len = len(lon1) + total_extra
    pos_vertex = np.arange(len(lon1)) + starts
    out = np.empty((out_len, 2))
    out[pos_vertex, 0], out[pos_vertex, 1] = lon1, lat1
    pos_extra = np.repeat(pos_vertex, extra) + k
    out[pos_extra, 0], out[pos_extra, 1] = ilon, ilat
    return out


def poleward_pad(lat_lo: float, lat_hi: float, r: float) -> tuple[float, float]:
    """Widen a latitude range (radians) by how far a geodesic between points within ``r``
    of a frame centre can bow *poleward*: a geodesic's interior latitude extremes are its
    vertices, always poleward of its ends, so the equatorward side needs no padding."""
    worst = min(max(abs(lat_lo), abs(lat_hi)), _HALF_PI - 1e-9)
    pad = (4.0 * r * r) / (8.0 * B * B) * (1.0 + abs(math.tan(worst))) + 1e-6
    lo = max(-_HALF_PI, lat_lo - pad) if lat_lo < 0 else lat_lo - 1e-9
    hi = min(_HALF_PI, lat_hi + pad) if lat_hi > 0 else lat_hi + 1e-9
    return lo, hi


def sagitta_bound(piece_m: float, r_m: float) -> float:
    """Bound on how far a projected geodesic piece of length ``piece_m`` lying within ``r_m``
    of a frame's centre bows away from its chord, in metres.

    The image of a geodesic has curvature below ``(r/R² + e²/R)·2`` in a local frame, so a
    piece of length L bows by at most ``L²·κ/8``. The factor 2
    is a safety margin over the worst case measured against pyproj in the tests; the
    1 cm floor covers rounding and the arbitrary longitude of points at a pole.
    """
    r = r_m
    kappa = 2.0 * (r / (B * B) + E2 / B)
    return piece_m * piece_m * kappa / 8.0 + 1e-2


@dataclass(frozen=True, slots=True)
class LocalFrame:
    """A Gauss-sphere azimuthal-equidistant frame centred at (lon0, lat0).

    Built with :meth:`at`; ``forward`` works on longitudes (radians) and isometric
    latitudes so that stored footprints need no trigonometry of their own per query.
    """

    lon0: float  # radians
    lat0: float  # radians
    c: float  # Gauss exponent C
    log_k: float  # ln K
    radius: float  # Gauss sphere radius R, metres
    rot: tuple[tuple[float, ...], ...]  # rows: east, north, up of the centre on the sphere

    @classmethod
    def at(cls, lon_deg: float, lat_deg: float, gauss_lat_deg: float | None = None) -> LocalFrame:
        """The frame centred at a point given in degrees.

        ``gauss_lat_deg`` is where the Gauss sphere touches the ellipsoid (its scale error
        grows with the cube of the latitude difference); it defaults to the centre's.
        """
        lat_deg = max(-89.999999, min(89.999999, lat_deg))
        g_deg = lat_deg if gauss_lat_deg is None else max(-89.999999, min(89.999999, gauss_lat_deg))
        phi0 = math.radians(g_deg)
        lam0 = math.radians(lon_deg)
        s, c2 = math.sin(phi0), math.cos(phi0) ** 2
        rc = math.sqrt(1 - E2) / (1 - E2 * s * s)
        cexp = math.sqrt(1 + E2 * c2 * c2 / (1 - E2))
        chi0 = math.asin(s / cexp)
        psi0 = _isometric_scalar(phi0)
        # tan(χ/2 + π/4) = K·exp(C·ψ)  ⇔  χ = gd(C·ψ + ln K)
        log_k = math.asinh(math.tan(chi0)) - cexp * psi0
        # the centre's latitude on the Gauss sphere
        chi_c = math.atan(math.sinh(cexp * _isometric_scalar(math.radians(lat_deg)) + log_k))
        sc, cc = math.sin(chi_c), math.cos(chi_c)
        rot = ((0.0, 1.0, 0.0), (-sc, 0.0, cc), (cc, 0.0, sc))
        return cls(lam0, phi0, cexp, log_k, A * rc, rot)

    # -- forward / inverse ---------------------------------------------------------------

    def forward(self, lam: Array, psi: Array) -> tuple[Array, Array]:
        """Project points given as longitude (radians) and isometric latitude; metres."""
        u = self.c * psi + self.log_k
        sin_chi = np.tanh(u)
        cos_chi = 1.0 / np.cosh(u)
        dlam = np.remainder(lam - self.lon0 + math.pi, 2 * math.pi) - math.pi
        big_lam = self.c * dlam
        vx = cos_chi * np.cos(big_lam)
        vy = cos_chi * np.sin(big_lam)
        (ex, ey, ez), (nx, ny, nz), (ux, uy, uz) = self.rot
        e = ex * vx + ey * vy + ez * sin_chi
        n = nx * vx + ny * vy + nz * sin_chi
        up = ux * vx + uy * vy + uz * sin_chi
        rho = np.hypot(e, n)
        ang = np.arctan2(rho, up)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(rho > 0, self.radius * ang / rho, self.radius)
        return e * scale, n * scale

    def forward_deg(
        self, lon_deg: Array | list[float], lat_deg: Array | list[float]
    ) -> tuple[Array, Array]:
        """Project points given in degrees."""
        lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
        psi = isometric_latitude(np.radians(np.asarray(lat_deg, dtype=np.float64)))
        return self.forward(lon, psi)

    def inverse_deg(self, x: Array, y: Array) -> tuple[Array, Array]:
        """Frame metres back to lon/lat degrees (lon wrapped to [-180, 180)).

        Exact but for one sliver: the Gauss longitude C·Δλ (C slightly above 1) spans a
        little more than a turn, so the ``2π(1 − 1/C)`` of longitude at the frame's
        antimeridian — reached only past a pole — maps onto the sphere twice; for a point
        there the inverse returns the preimage that far along its parallel (metres near
        the pole). Nothing decided rests on the inverse.
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        r = np.hypot(x, y)
        ang = r / self.radius
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(r > 0, np.sin(ang) / r, 1.0 / self.radius)
        e, n, up = x * f, y * f, np.cos(ang)
        rows = self.rot
        vx = rows[0][0] * e + rows[1][0] * n + rows[2][0] * up
        vy = rows[0][1] * e + rows[1][1] * n + rows[2][1] * up
        vz = rows[0][2] * e + rows[1][2] * n + rows[2][2] * up
        chi = np.arctan2(vz, np.hypot(vx, vy))
        big_lam = np.arctan2(vy, vx)
        u = np.arcsinh(np.tan(chi))
        psi = (u - self.log_k) / self.c
        phi = _latitude_from_isometric(psi)
        lam = self.lon0 + big_lam / self.c
        lon = np.remainder(np.degrees(lam) + 180.0, 360.0) - 180.0
        return lon, np.degrees(phi)

    # -- error bounds --------------------------------------------------------------------

    def conformal_scale(self, lat_rad: Array) -> Array:
        """Scale ``m(φ)`` of the ellipsoid→Gauss-sphere map (1 at the frame's latitude)."""
        phi = np.clip(np.asarray(lat_rad, dtype=np.float64), -_HALF_PI + 1e-9, _HALF_PI - 1e-9)
        u = self.c * isometric_latitude(phi) + self.log_k
        cos_chi = 1.0 / np.cosh(u)
        s = np.sin(phi)
        n = A / np.sqrt(1 - E2 * s * s)
        result: Array = self.radius * self.c * cos_chi / (n * np.cos(phi))
        return result

    def _scale_scalar(self, phi: float) -> float:
        phi = min(max(phi, -_HALF_PI + 1e-9), _HALF_PI - 1e-9)
        u = self.c * _isometric_scalar(phi) + self.log_k
        s = math.sin(phi)
        n = A / math.sqrt(1 - E2 * s * s)
        return self.radius * self.c / math.cosh(u) / (n * math.cos(phi))

    def scale_range(self, lat_min_rad: float, lat_max_rad: float) -> tuple[float, float]:
        """``(m_min, m_max)`` over a latitude interval (m is monotonic on each side of φ0,
        where it is 1)."""
        a, b = self._scale_scalar(lat_min_rad), self._scale_scalar(lat_max_rad)
        lo, hi = min(a, b), max(a, b)
        if lat_min_rad <= self.lat0 <= lat_max_rad:
            lo, hi = min(lo, 1.0), max(hi, 1.0)
        return lo, hi

    def stretch(self, r_m: float) -> float:
        """Largest azimuthal stretch ``k(r) = (r/R)/sin(r/R)`` within ``r_m`` of the centre."""
        t = r_m / self.radius
        if t < 1e-9:
            return 1.0
        return math.inf if t >= math.pi * 0.999 else t / math.sin(t)

    def sphere_lower(self, planar_m: Array | float, r_m: float) -> Array:
        """Lower bound of the Gauss-sphere distance ``σ`` behind a planar distance ``D``
        between two points within ``r_m`` of the centre:
        ``σ ≥ 2R·asin(D·sin(r/R) / (2r))``.

        The worst case for a given ``D`` is both points at ``r`` (the haversine of the
        pair then reads ``sin(σ/2) = sin(r/R)·sin(Δθ/2)`` with ``D/2 = r·sin(Δθ/2)``); it is
        exact when ``D = 2r`` (points on opposite sides of the centre), so a frame centred
        between two footprints measures their separation with almost no stretch loss. It
        is never below ``D/k(r)``.

        >>> f = LocalFrame.at(0.0, 0.0)
        >>> round(float(f.sphere_lower(200_000.0, 100_000.0)[0]), 6) == 200_000.0
        True
        >>> 200_000.0 / f.stretch(200_000.0) < float(f.sphere_lower(200_000.0, 200_000.0)[0])
        True
        """
        d = np.atleast_1d(np.asarray(planar_m, dtype=np.float64))
        k = self.stretch(r_m)
        if not math.isfinite(k):
            return np.zeros_like(d)
        two_r = 2.0 * self.radius
        x = np.minimum(1.0, d / (two_r * k))
        result: Array = two_r * np.arcsin(x) * (1.0 - 1e-12)
        return result

    def seam_m(self, r_m: float) -> float:
        """Bound on the planar jump at the frame's *seam*, for points within ``r_m`` of
        its centre, metres (0 when no such point lies beyond a pole).

        The Gauss map multiplies longitude differences by ``C ≥ 1``, so the meridian
        opposite the centre (behind the pole) splits: its two sides land on the sphere
        ``2π(C − 1)`` apart in longitude. At sphere distance ``ρ`` from the pole that is an
        arc of at most ``2π(C − 1)·ρ``, stretched by at most ``k(r)`` in the plane. Anything
        measured across the seam (two points either side, a piece crossing it) is off by
        at most that; the bound doubles it for margin (a path may cross the seam twice).

        >>> LocalFrame.at(0.0, 47.0).seam_m(1_000_000.0)
        0.0
        >>> 100.0 < LocalFrame.at(0.0, 70.0).seam_m(3_000_000.0) < 1_000.0
        True
        """
        up_z = abs(self.rot[2][2])  # |sin χ| of the centre on the Gauss sphere
        rho = r_m - self.radius * math.acos(min(1.0, up_z))
        if rho <= 0.0:
            return 0.0
        k = self.stretch(r_m)
        return 2.0 * k * 2.0 * math.pi * (self.c - 1.0) * min(rho, math.pi * self.radius) + 1e-9

    def distance_bounds(
        self, planar_m: Array | float, r_max_m: float, lat_min_rad: float, lat_max_rad: float
    ) -> tuple[Array, Array]:
        """Bounds ``(lower, upper)`` on the ellipsoidal distance behind a planar distance,
        for points within ``r_max_m`` of the centre and between the given latitudes.

        The latitude interval is widened by how far a geodesic between such points can bow
        poleward (never equatorward), so that the bounds hold along the whole geodesic.
        """
        lo, hi = poleward_pad(lat_min_rad, lat_max_rad, r_max_m)
        m_min, m_max = self.scale_range(lo, hi)
        d = np.asarray(planar_m, dtype=np.float64)
        lower = self.sphere_lower(d, r_max_m) / m_max
        return (lower if d.ndim else lower[0]), d / m_min
