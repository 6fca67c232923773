"""Activity files: foreign members, flags over the file, time shifting, local validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deconfliction.cli._errors import UsageError
from deconfliction.cli._files import load_activity_body, parse_duration, shift_times

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "demo"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("60s", 60),
        ("1m", 60),
        ("15 min", 900),
        ("3h", 10_800),
        ("2d", 172_800),
        ("1h30m", 5_400),
        ("0.5h", 1_800),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "3", "h", "3 hours", "-1h", "1h x"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError, match="duration"):
        parse_duration(text)


def test_shift_keeps_the_shape_of_the_schedule() -> None:
    feats = [
        {
            "type": "Feature",
            "properties": {
                "time_start": "2030-01-01T10:00:00Z",
                "time_end": "2030-01-01T11:00:00Z",
            },
        },
        {
            "type": "Feature",
            "properties": {
                "time_start": "2030-01-01T09:00:00+01:00",
                "time_end": "2030-01-02T00:00:00Z",
            },
        },
    ]
    out = shift_times(feats, 90, NOW)
    assert [f["properties"]["time_start"] for f in out] == [
        "2026-11-25T14:01:30Z",
        "2026-11-25T12:01:30Z",
    ]
    assert out[1]["properties"]["time_end"] == "2026-11-26T04:01:30Z"
    assert feats[0]["properties"]["time_start"] == "2030-01-01T10:00:00Z"  # not modified


def test_foreign_members_then_flags() -> None:
    f = EXAMPLES / "red-engagement-zone.geojson"
    body = load_activity_body(f)
    assert (body["kind"], body["title"], body["priority"]) == (
        "hazard",
        "Air-defence engagement zone LAON",
        "immediate",
    )
    assert "remarks" in body
    assert set(body["volumes"]) == {"type", "features"}
    body = load_activity_body(f, kind="flight", title="Other", priority="flash", remarks="r")
    assert (body["kind"], body["title"], body["priority"], body["remarks"]) == (
        "flight",
        "Other",
        "flash",
        "r",
    )


def test_fallback_is_used_last(tmp_path: Path) -> None:
    doc = json.loads((EXAMPLES / "blue-exercise.geojson").read_text())
    for key in ("kind", "title", "priority", "remarks"):
        del doc[key]
    f = tmp_path / "bare.geojson"
    f.write_text(json.dumps(doc))
    with pytest.raises(UsageError, match="no activity kind: pass --kind"):
        load_activity_body(f)
    with pytest.raises(UsageError, match="no title"):
        load_activity_body(f, kind="flight")
    body = load_activity_body(
        f, fallback={"kind": "maritime", "title": "Was", "priority": "priority"}
    )
    assert (body["kind"], body["title"], body["priority"]) == ("maritime", "Was", "priority")
    assert load_activity_body(f, kind="flight", title="T")["priority"] == "routine"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"type": "Feature"}', "must be a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "non-empty list"),
        (
            '{"type": "FeatureCollection", "kind": "boat", "title": "x", "features": FEATS}',
            "kind 'boat' is not one of",
        ),
        (
            '{"type": "FeatureCollection", "kind": "flight", "title": "x", "features": BADFEATS}',
            "features[0].properties.time_end: must be after time.start",
        ),
    ],
)
def test_bad_files_are_usage_errors(tmp_path: Path, content: str, message: str) -> None:
    feats = json.loads((EXAMPLES / "blue-exercise.geojson").read_text())["features"]
    bad = json.loads(json.dumps(feats))
    bad[0]["properties"]["time_end"] = "2020-01-01T00:00:00Z"
    f = tmp_path / "f.geojson"
    f.write_text(content.replace("BADFEATS", json.dumps(bad)).replace("FEATS", json.dumps(feats)))
    with pytest.raises(UsageError) as exc:
        load_activity_body(f)
    assert message in str(exc.value)
    assert str(exc.value).startswith(str(f))


def test_missing_file() -> None:
    with pytest.raises(UsageError, match="No such file"):
        load_activity_body(Path("/nonexistent/x.geojson"))
