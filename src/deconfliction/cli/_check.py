"""``deconfliction check``: conflicts between the volumes of a GeoJSON file."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from deconfliction.detect import Conflict, Subject, SubjectKind, detect_conflicts, index_subject
from deconfliction.errors import InvalidGeoJSON
from deconfliction.geo import Buffers, Volume4D, VolumeIndex, volume_from_geojson

__all__ = ["load_subjects", "run_check"]


def load_subjects(doc: object) -> dict[Subject, tuple[list[Volume4D], float, str]]:
    """Subjects of a FeatureCollection: volumes, buffer and title per subject."""
    if not isinstance(doc, Mapping) or doc.get("type") != "FeatureCollection":
        raise InvalidGeoJSON("type", 'must be "FeatureCollection"')
    features = doc.get("features")
    if not isinstance(features, list):
        raise InvalidGeoJSON("features", "must be a list of Features")
    out: dict[Subject, tuple[list[Volume4D], float, str]] = {}
    for i, f in enumerate(features):
        where = f"features[{i}]"
        props = f.get("properties") if isinstance(f, Mapping) else None
        if not isinstance(props, Mapping):
            raise InvalidGeoJSON(f"{where}.properties", "must be an object")
        try:
            volume = volume_from_geojson(f)
        except InvalidGeoJSON as exc:
            raise InvalidGeoJSON(f"{where}.{exc.field}", exc.reason) from None
        sid, owner = props.get("id"), props.get("owner")
        if not isinstance(sid, str | int) or isinstance(sid, bool):
            raise InvalidGeoJSON(f"{where}.properties.id", "is required (a string)")
        if not isinstance(owner, str) or not owner:
            raise InvalidGeoJSON(f"{where}.properties.owner", "is required (a string)")
        kind_raw = props.get("kind", "activity")
        try:
            kind = SubjectKind(kind_raw)
        except ValueError:
            raise InvalidGeoJSON(
                f"{where}.properties.kind",
                f'must be "activity" or "protected_site", got {kind_raw!r}',
            ) from None
        buffer = props.get("buffer_m", 0.0)
        if not isinstance(buffer, int | float) or isinstance(buffer, bool) or not 0 <= buffer < 1e7:
            raise InvalidGeoJSON(f"{where}.properties.buffer_m", "must be a number of metres ≥ 0")
        subject = Subject(kind, str(sid), owner)
        vols, _, title = out.get(subject, ([], 0.0, str(props.get("title", sid))))
        vols.append(volume)
        out[subject] = (vols, float(buffer), title)
    return out


def _fmt_time(c: Conflict) -> str:
    w = c.overlap.time_window
    if w is None:
        return f"within {c.overlap.time_gap_s:.0f} s"
    return f"{w.start:%Y-%m-%d %H:%M}–{w.end:%H:%M}Z"


def _fmt_alt(c: Conflict) -> str:
    b = c.overlap.altitude_band
    if b is None:
        return f"within {c.overlap.vertical_gap_m:.0f} m"
    return f"{b.lower_m:.0f}–{b.upper_m:.0f} m"


def run_check(
    path: Path,
    *,
    horizontal_m: float,
    vertical_m: float,
    time_s: float,
    as_json: bool,
    progress: TextIO | None,
    out: TextIO,
) -> int:
    """Load ``path``, index every subject, report each conflicting pair once."""
    buffers = Buffers(horizontal_m, vertical_m, time_s)
    doc = json.loads(path.read_text(encoding="utf-8"))
    subjects = load_subjects(doc)
    started = time.monotonic()
    index = VolumeIndex()
    for subject, (vols, buffer, _) in subjects.items():
        index_subject(index, subject, vols, buffer_m=buffer)
    n_vol = sum(len(v) for v, _, _ in subjects.values())
    if progress:
        print(f"indexed {len(subjects)} subjects, {n_vol} volumes", file=progress)
    seen: set[tuple[Subject, Subject]] = set()
    rows: list[tuple[Subject, Subject, Conflict]] = []
    activities = [s for s in subjects if s.kind is SubjectKind.ACTIVITY]
    for n, subject in enumerate(activities, 1):
        vols, _, _ = subjects[subject]
        for c in detect_conflicts(index, vols, subject.owner, buffers):
            pair = (subject, c.subject)
            if (c.subject, subject) in seen and c.subject.kind is SubjectKind.ACTIVITY:
                continue
            seen.add(pair)
            rows.append((subject, c.subject, c))
        if progress and len(activities) > 1_000 and n % 1_000 == 0:
            print(f"checked {n}/{len(activities)} activities", file=progress)
    titles = {s: t for s, (_, _, t) in subjects.items()}
    if as_json:
        for a, b, c in rows:
            record: dict[str, Any] = {
                "activity": {"id": a.id, "owner": a.owner, "volume": c.own_volume_index},
                "other": {
                    "kind": b.kind.value,
                    "id": b.id,
                    "owner": b.owner,
                    "volume": c.volume_index,
                },
                "horizontal_distance_m": round(c.overlap.horizontal_distance_m, 3),
                "vertical_gap_m": c.overlap.vertical_gap_m,
                "time_gap_s": c.overlap.time_gap_s,
                "time_window": None
                if c.overlap.time_window is None
                else [
                    c.overlap.time_window.start.isoformat(),
                    c.overlap.time_window.end.isoformat(),
                ],
                "intersection": c.overlap.intersection,
            }
            print(json.dumps(record), file=out)
    else:
        by_activity: dict[Subject, list[tuple[Subject, Conflict]]] = defaultdict(list)
        for a, b, c in rows:
            by_activity[a].append((b, c))
        print(
            f"{len(rows)} conflict(s) among {len(subjects)} subjects "
            f"(buffers {horizontal_m:g} m, {vertical_m:g} m, {time_s:g} s)",
            file=out,
        )
        for a, items in by_activity.items():
            print(f"\n{titles[a]} [{a.owner}]", file=out)
            for b, c in items:
                d = c.overlap.horizontal_distance_m
                where = "overlapping" if d == 0 else f"{d:,.0f} m apart"
                kind = "protected site" if b.kind is SubjectKind.PROTECTED_SITE else "activity"
                print(
                    f"  ↔ {kind} {titles[b]} [{b.owner}]: {where}; {_fmt_time(c)}; {_fmt_alt(c)}",
                    file=out,
                )
    if progress:
        print(f"done in {time.monotonic() - started:.2f} s", file=progress)
    return 0
