"""Reading activity files: a GeoJSON FeatureCollection of volumes → an ``ActivityIn`` body.

The file is a FeatureCollection whose Features are the activity's volumes (see
:mod:`deconfliction.geo` for their properties), or a KML/KMZ file read as one
(:func:`deconfliction.interop.read_kml`; ``--lower``/``--upper`` give the altitudes its
placemarks leave out). The activity's ``kind``, ``title``,
``priority`` and ``remarks`` may be top-level members of the FeatureCollection; flags
override them. ``--start-in`` shifts every volume's times so that the earliest starts that
long from now — so the example files can be filed on any day.

>>> parse_duration("90s"), parse_duration("1h30m"), parse_duration("2d"), parse_duration("15 min")
(90.0, 5400.0, 172800.0, 900.0)
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from deconfliction.cli._errors import UsageError
from deconfliction.errors import InvalidInput
from deconfliction.geo import volume_from_geojson
from deconfliction.interop import altitude_property, read_kml
from deconfliction.model import ActivityKind, Priority

__all__ = [
    "altitude_default",
    "load_activity_body",
    "parse_duration",
    "read_json",
    "read_volumes",
    "shift_times",
]

_UNITS = {"d": 86_400.0, "h": 3_600.0, "min": 60.0, "m": 60.0, "s": 1.0}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(d|h|min|m|s)")


def parse_duration(text: str) -> float:
    """``90s``, ``15m``/``15min``, ``3h``, ``2d`` or sums like ``1h30m`` → seconds."""
    pos, total = 0, 0.0
    t = text.strip().lower()
    while pos < len(t):
        m = _PART.match(t, pos)
        if m is None:
            raise UsageError(f"duration {text!r}: use e.g. 90s, 15m, 3h, 2d or 1h30m")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not t:
        raise UsageError("duration: empty")
    return total


def read_json(path: Path) -> Any:
    """A JSON file, or a one-line :class:`UsageError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not JSON: {exc}") from None


def altitude_default(text: str, which: str) -> tuple[str, float]:
    """``--lower``/``--upper`` as the volume property it sets (see
    :func:`deconfliction.interop.altitude_property`), or a one-line :class:`UsageError`."""
    try:
        return altitude_property(text, which)
    except InvalidInput as exc:
        raise UsageError(f"--{which} {exc.reason}") from None


def read_volumes(path: Path, *, lower: str | None = None, upper: str | None = None) -> Any:
    """A GeoJSON file, or a KML/KMZ file read as one (``lower``/``upper``: the altitudes of
    placemarks that give none), or a one-line :class:`UsageError`."""
    if path.suffix.lower() not in (".kml", ".kmz"):
        return read_json(path)
    defaults = dict(altitude_default(t, w) for t, w in ((lower, "lower"), (upper, "upper")) if t)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    try:
        return read_kml(data, source=str(path), defaults=defaults)
    except InvalidInput as exc:
        raise UsageError(f"{exc.field}: {exc.reason}") from None


def _parse_time(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise UsageError(f"{where}: must be an ISO 8601 time with a UTC offset")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{where}: {value!r} is not an ISO 8601 time") from None
    if t.tzinfo is None:
        raise UsageError(f"{where}: {value!r} has no UTC offset (add Z)")
    return t


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def shift_times(
    features: list[dict[str, Any]], start_in_s: float, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Copies of ``features`` with every time moved so the earliest start is now + ``start_in_s``."""
    now = now or datetime.now(UTC)
    starts = [
        _parse_time((f.get("properties") or {}).get("time_start"), f"features[{i}].time_start")
        for i, f in enumerate(features)
    ]
    delta = now + timedelta(seconds=start_in_s) - min(starts)
    out = []
    for i, f in enumerate(features):
        props = dict(f.get("properties") or {})
        for key in ("time_start", "time_end"):
            t = _parse_time(props.get(key), f"features[{i}].{key}")
            props[key] = _iso(t + delta)
        out.append({**f, "properties": props})
    return out


def _choice(value: object, enum: type[ActivityKind] | type[Priority], name: str, path: Path) -> str:
    allowed = [e.value for e in enum]
    if value not in allowed:
        raise UsageError(f"{path}: {name} {value!r} is not one of: {', '.join(allowed)}")
    return str(value)


def load_activity_body(
    path: Path,
    *,
    kind: str | None = None,
    title: str | None = None,
    priority: str | None = None,
    remarks: str | None = None,
    start_in_s: float | None = None,
    fallback: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    lower: str | None = None,
    upper: str | None = None,
) -> dict[str, Any]:
    """The request body for filing (or amending) the activity in ``path``.

    Each of kind/title/priority/remarks comes from the flag, else the file's top-level
    member, else ``fallback`` (the current activity, when amending). Every volume is checked
    here first, so a bad file is an input error before anything is sent.
    """
    doc = read_volumes(path, lower=lower, upper=upper)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise UsageError(f"{path}: must be a GeoJSON FeatureCollection of volumes")
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise UsageError(f"{path}: features: must be a non-empty list of Features")
    for i, f in enumerate(features):
        if not isinstance(f, dict):
            raise UsageError(f"{path}: features[{i}]: must be a Feature")
    if start_in_s is not None:
        features = shift_times(features, start_in_s, now)
    for i, f in enumerate(features):
        try:
            volume_from_geojson(f)
        except InvalidInput as exc:
            raise UsageError(f"{path}: features[{i}].{exc.field}: {exc.reason}") from None
    fb = fallback or {}

    def pick(flag: str | None, key: str) -> Any:
        if flag is not None:
            return flag
        if key in doc:
            return doc[key]
        return fb.get(key)

    k, t, p, r = (
        pick(kind, "kind"),
        pick(title, "title"),
        pick(priority, "priority"),
        pick(remarks, "remarks"),
    )
    if k is None:
        raise UsageError(f'{path}: no activity kind: pass --kind or add a top-level "kind"')
    if t is None:
        raise UsageError(f'{path}: no title: pass --title or add a top-level "title"')
    if not isinstance(t, str) or not t.strip():
        raise UsageError(f"{path}: title must be a non-empty string")
    body: dict[str, Any] = {
        "kind": _choice(k, ActivityKind, "kind", path),
        "title": t,
        "priority": _choice(p or Priority.ROUTINE.value, Priority, "priority", path),
        "volumes": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": f.get("geometry"),
                    "properties": f.get("properties"),
                }
                for f in features
            ],
        },
    }
    if r is not None:
        if not isinstance(r, str):
            raise UsageError(f"{path}: remarks must be a string")
        body["remarks"] = r
    return body


def check_out_path(path: Path) -> Path:
    """``--out PATH`` must name a file in an existing folder; returns that folder."""
    if path.is_dir():
        raise UsageError(f"--out: {path} is a directory (name the file to write)")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"--out: the directory {parent} does not exist")
    return parent


@contextmanager
def atomic_file(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """A file that becomes ``path`` only when the block ends well: written beside it
    under a temporary name, fsynced, then renamed over ``path``. On any failure (Ctrl-C
    too) the temporary file is removed and the error propagates: nothing half-written."""
    parent = path.parent if str(path.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # cleanup only: the error propagates unchanged
        tmp.unlink(missing_ok=True)
        raise
