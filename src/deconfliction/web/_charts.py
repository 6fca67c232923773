"""The report's two pictures, drawn with matplotlib's Agg backend into PNG bytes.

:func:`timeline_png`: one row per recipient, each notice from sending through delivery,
reading and its answer, escalations or expiry; the activity's start as a vertical line.
:func:`map_png`: the volumes' footprints in lon/lat on a simple graticule — every version,
the current one filled — with circles drawn as geodesic polygons and polygon edges as
geodesics. Nothing is downloaded (no basemap, no tiles).

Both take the timeline document of ``GET /v1/activities/{id}/timeline`` as it arrives.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import matplotlib.dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from pyproj import Geod

__all__ = ["footprint_ring", "graticule_step", "map_png", "timeline_png"]

_GEOD = Geod(ellps="WGS84")
_DPI = 110

# marker, colour and label of each step of a notice
_STEPS: dict[str, tuple[str, str, str]] = {
    "sent": ("o", "#1f4e99", "sent"),
    "delivered": ("v", "#5b8bd6", "delivered"),
    "read": ("s", "#7a5fb5", "read"),
    "acknowledged": ("*", "#2e8b3a", "acknowledged"),
    "objected": ("X", "#c0392b", "objected"),
    "escalated": ("^", "#e67e22", "escalated"),
    "expired": ("x", "#000000", "expired"),
    "superseded": ("|", "#888888", "superseded"),
}


def _t(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


def _x(t: datetime) -> float:
    """A time as matplotlib's date number (days)."""
    return float(mdates.date2num(t))  # type: ignore[no-untyped-call]


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, bbox_inches="tight")
    return buf.getvalue()


def _notice_steps(n: Mapping[str, Any]) -> list[tuple[str, datetime]]:
    """(step, time) of a notice, in time order."""
    steps: list[tuple[str, datetime | None]] = [
        ("sent", _t(n["sent_at"])),
        ("delivered", _t(n.get("delivered_at"))),
        ("read", _t(n.get("read_at"))),
    ]
    steps += [("escalated", _t(e.get("at"))) for e in n.get("escalations", [])]
    steps.append(("expired", _t(n.get("expired_at"))))
    answer = "objected" if n.get("objection") else "acknowledged"
    steps.append((answer, _t(n.get("answered_at"))))
    if n.get("status") == "superseded":
        steps.append(("superseded", _t(n.get("status_at"))))
    return sorted(((s, t) for s, t in steps if t is not None), key=lambda st: st[1])


def timeline_png(doc: Mapping[str, Any]) -> bytes:
    """One row per recipient: sent → delivered → read → answered / escalated / expired."""
    notices: Sequence[Mapping[str, Any]] = doc["notices"]
    activity = doc["activity"]
    start = _t(activity["start"])
    assert start is not None
    rows: list[str] = []
    for n in notices:
        if n["recipient_name"] not in rows:
            rows.append(n["recipient_name"])
    fig = Figure(figsize=(10, 1.4 + 0.75 * max(len(rows), 1)))
    ax = fig.add_subplot()
    times: list[float] = [_x(start)]
    used: set[str] = set()
    for row, name in enumerate(rows):
        mine = [n for n in notices if n["recipient_name"] == name]
        for i, n in enumerate(mine):
            y = row + (i - (len(mine) - 1) / 2) * min(0.5 / max(len(mine) - 1, 1), 0.22)
            steps = _notice_steps(n)
            xs = [_x(t) for _, t in steps]
            times += xs
            faded = n.get("status") == "superseded"
            ax.plot(
                xs,
                [y] * len(xs),
                color="#999999" if faded else "#1f4e99",
                linewidth=1.2,
                linestyle=":" if faded else "-",
                zorder=1,
            )
            for (step, _), x in zip(steps, xs, strict=True):
                marker, colour, label = _STEPS[step]
                ax.scatter(
                    [x],
                    [y],
                    marker=marker,
                    color=colour,
                    s=60 if marker == "*" else 34,
                    zorder=3,
                    label=None if step in used else label,
                )
                used.add(step)
            flags = [
                f for f, on in (("LATE", n["late"]), ("INSUFFICIENT", n["insufficient"])) if on
            ]
            tag = f"v{n['activity_version']} {n['reason']}" + (
                " — " + " ".join(flags) if flags else ""
            )
            ax.annotate(
                tag,
                (xs[0], y),
                xytext=(0, 6),
                textcoords="offset points",
                fontsize=7,
                color="#c0392b" if flags else "#333333",
                fontweight="bold" if flags else "normal",
            )
    ax.axvline(_x(start), color="#c0392b", linestyle="--", linewidth=1.4, zorder=2)
    ax.annotate(
        "activity start",
        (_x(start), 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -12),
        textcoords="offset points",
        fontsize=8,
        color="#c0392b",
    )
    lo, hi = min(times), max(times)
    pad = max((hi - lo) * 0.06, 2 / 1440)  # at least 2 minutes
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(len(rows) - 0.5 if rows else 0.5, -0.6)
    ax.set_yticks(range(len(rows)), rows)
    locator = mdates.AutoDateLocator(tz="UTC")  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    concise = mdates.ConciseDateFormatter(locator, tz="UTC")  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(concise)
    ax.set_xlabel("hub time (UTC)")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    if not rows:
        ax.text(0.5, 0.5, "no notice was sent", transform=ax.transAxes, ha="center")
    if used:
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.2),
            ncols=len(used),
            fontsize=8,
            frameon=False,
            handletextpad=0.2,
        )
    ax.set_title(f"Notices about '{activity['title']}' (one row per recipient)", fontsize=10)
    return _png(fig)


# ------------------------------------------------------------------------------------- map


def _unwrap(lons: Sequence[float], ref: float) -> list[float]:
    """Longitudes moved by whole turns to stay within 180° of ``ref`` and of each other."""
    out: list[float] = []
    prev = ref
    for lon in lons:
        lon = lon + 360.0 * round((prev - lon) / 360.0)
        out.append(lon)
        prev = lon
    return out


def footprint_ring(
    geometry: Mapping[str, Any], radius_m: float | None
) -> list[tuple[float, float]]:
    """The outline of a footprint as (lon, lat) points: a Point with ``radius_m`` becomes a
    geodesic circle of 90 points; a Polygon's edges are densified along their geodesics.

    >>> ring = footprint_ring({"type": "Point", "coordinates": [2.0, 50.0]}, 1000.0)
    >>> len(ring), round(max(lat for _, lat in ring), 4)
    (91, 50.009)
    """
    if geometry["type"] == "Point":
        lon, lat = geometry["coordinates"][:2]
        az = [i * 4.0 for i in range(90)]
        lons, lats, _ = _GEOD.fwd([lon] * 90, [lat] * 90, az, [radius_m or 0.0] * 90)
        pts = list(zip(lons, lats, strict=True))
        return [*pts, pts[0]]
    ring = [tuple(p[:2]) for p in geometry["coordinates"][0]]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    out: list[tuple[float, float]] = []
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(ring):
        out.append((lon1, lat1))
        dist = _GEOD.inv(lon1, lat1, lon2, lat2)[2]
        n = min(int(dist // 5_000), 64)
        if n > 0:
            out += _GEOD.npts(lon1, lat1, lon2, lat2, n)
    out.append(ring[-1])
    return [(float(lo), float(la)) for lo, la in out]


def graticule_step(span_deg: float) -> float:
    """A round step giving 3 to 8 lines over ``span_deg``.

    >>> graticule_step(0.3), graticule_step(4.0), graticule_step(40.0)
    (0.05, 0.5, 5.0)
    """
    for step in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30):
        if span_deg / step <= 8:
            return float(step)
    return 45.0


def _deg(value: float, pos: str, neg: str, step: float) -> str:
    digits = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    v = (value + 180) % 360 - 180 if pos == "E" else value
    return f"{abs(v):.{digits}f}°{pos if v >= 0 else neg}"


def _band(props: Mapping[str, Any]) -> str:
    """``: 0–3,048 m, 25 13:30–15:30Z`` (what is known of the volume's band and window)."""
    out = ""
    lo, hi = props.get("altitude_lower_m"), props.get("altitude_upper_m")
    if lo is not None and hi is not None:
        out += f", {float(lo):,.0f}–{float(hi):,.0f} m"
    t0, t1 = _t(props.get("time_start")), _t(props.get("time_end"))
    if t0 is not None and t1 is not None:
        out += f", {t0:%d %H:%M}–{t1:%d %H:%M}Z"
    return ": " + out[2:] if out else ""


def map_png(doc: Mapping[str, Any]) -> bytes:
    """The footprints of every version (the current one filled) in lon/lat, on a graticule."""
    versions: Sequence[Mapping[str, Any]] = doc["versions"]
    current = doc["activity"]["version"]
    shapes: list[tuple[int, int, Mapping[str, Any], list[tuple[float, float]]]] = []
    for v in versions:
        for i, f in enumerate(v["volumes"]["features"]):
            props = f.get("properties") or {}
            shapes.append(
                (v["version"], i, props, footprint_ring(f["geometry"], props.get("radius_m")))
            )
    ref = shapes[0][3][0][0] if shapes else 0.0
    fig = Figure(figsize=(7.5, 6.5))
    ax = fig.add_subplot()
    all_lon: list[float] = []
    all_lat: list[float] = []
    for version, i, props, ring in shapes:
        lons = _unwrap([p[0] for p in ring], ref)
        lats = [p[1] for p in ring]
        all_lon += lons
        all_lat += lats
        if version == current:
            label = f"v{version} volume {i}" + _band(props)
            ax.fill(lons, lats, color="#1f4e99", alpha=0.25, zorder=2)
            ax.plot(lons, lats, color="#1f4e99", linewidth=1.5, zorder=3, label=label)
        else:
            ax.plot(
                lons,
                lats,
                color="#888888",
                linewidth=1.0,
                linestyle="--",
                zorder=1,
                label=f"v{version} volume {i} (replaced)",
            )
    if not all_lon:
        all_lon, all_lat = [ref - 1, ref + 1], [-1.0, 1.0]
    w, e, s, n = min(all_lon), max(all_lon), min(all_lat), max(all_lat)
    mid = max(min((s + n) / 2, 85.0), -85.0)
    k = math.cos(math.radians(mid))  # a degree of longitude, in degrees of latitude
    half = max((e - w) / 2 * k, (n - s) / 2, 0.005) * 1.15  # a square view, in latitude
    cx, cy = (w + e) / 2, (s + n) / 2
    x0, x1 = cx - half / k, cx + half / k
    y0, y1 = max(cy - half, -90.0), min(cy + half, 90.0)
    ax.set_aspect(1 / k)
    step = graticule_step(max(x1 - x0, y1 - y0))
    xs = [i * step for i in range(math.ceil(x0 / step), math.floor(x1 / step) + 1)]
    ys = [i * step for i in range(math.ceil(y0 / step), math.floor(y1 / step) + 1)]
    for x in xs:
        ax.axvline(x, color="#cccccc", linewidth=0.6, zorder=0)
    for y in ys:
        ax.axhline(y, color="#cccccc", linewidth=0.6, zorder=0)
    ax.set_xticks(xs, [_deg(x, "E", "W", step) for x in xs], fontsize=8)
    ax.set_yticks(ys, [_deg(y, "N", "S", step) for y in ys], fontsize=8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title("Volumes (WGS84 lon/lat; geodesic edges; current version filled)", fontsize=10)
    if shapes:
        handles, labels = ax.get_legend_handles_labels()
        if len(handles) > 12:  # many volumes: one entry per kind of line
            handles, labels = handles[:12], [*labels[:11], "…"]
        ax.legend(handles, labels, fontsize=7, loc="best")
    return _png(fig)
