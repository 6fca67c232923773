"""The samples' record format, the streaming JSON reader, the fetch into the cache, and a
replay of the real Paris sample."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from deconfliction.errors import InvalidInput
from deconfliction.interop import (
    SAMPLE_FILES,
    SAMPLES_ENV,
    SamplesUnavailable,
    _fetch,
    fetch_samples,
    iter_json_array,
    iter_sample_records,
    samples_dir,
    track_from_sample,
)
from deconfliction.model import AltitudeReference, Track, TrackSource, check_track

PARTY = UUID(int=9)
ROOT = Path(__file__).resolve().parents[2]
RECORD = {
    "altitude": 13650.0,
    "callsign": "MSR799",
    "groundspeed": 325.0,
    "icao24": "0101de",
    "latitude": 48.4824371338,
    "longitude": 3.8288057767,
    "onground": False,
    "squawk": "1000",
    "timestamp": 1633608773000,
    "track": 311.1362180242,
    "vertical_rate": -896.0,
}


# --- records --------------------------------------------------------------------------------


def test_a_record_becomes_a_report_in_si_units() -> None:
    r = track_from_sample(RECORD, PARTY)
    assert isinstance(r, Track)
    assert r.source is TrackSource.OPENSKY
    assert r.key == "0101de"
    assert r.icao24 == "0101de"
    assert r.time == datetime(2021, 10, 7, 12, 12, 53, tzinfo=UTC)
    assert r.altitude_m == pytest.approx(4160.52)
    assert r.altitude_ref is AltitudeReference.BAROMETRIC
    assert r.ground_speed_mps == pytest.approx(167.194, abs=1e-3)
    assert r.vertical_rate_mps == pytest.approx(-4.552, abs=1e-3)
    assert r.callsign == "MSR799"
    assert not r.on_ground


def test_a_record_can_be_shifted_to_replay_as_live() -> None:
    r = track_from_sample(RECORD, PARTY, shift=timedelta(days=1))
    assert isinstance(r, Track)
    assert r.time == datetime(2021, 10, 8, 12, 12, 53, tzinfo=UTC)


def test_nulls_and_variants_of_the_format_are_read() -> None:
    rec = {**RECORD, "altitude": None, "groundspeed": float("nan"), "track": -128,
           "vertical_rate": None, "onground": True, "timestamp": "2021-10-07T12:12:53+00:00"}  # fmt: skip
    del rec["callsign"]
    r = track_from_sample(rec, PARTY)
    assert isinstance(r, Track)
    assert r.altitude_m is None
    assert r.ground_speed_mps is None
    assert r.vertical_rate_mps is None
    assert r.track_deg == 232.0
    assert r.on_ground
    assert r.callsign is None
    assert r.time == datetime(2021, 10, 7, 12, 12, 53, tzinfo=UTC)
    del rec["onground"]
    assert isinstance(track_from_sample(rec, PARTY), Track)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"icao24": None}, "no icao24"),
        ({"icao24": "  "}, "no icao24"),
        ({"timestamp": None}, "no timestamp"),
        ({"timestamp": "yesterday"}, "timestamp 'yesterday' is not epoch ms nor ISO 8601"),
        ({"timestamp": "2021-10-07T12:00:00"}, "timestamp has no time zone"),
        ({"timestamp": 1633608773}, "is not a plausible time"),  # seconds, not ms
        ({"timestamp": True}, "timestamp must be a number, got bool"),
        ({"latitude": None}, "no position"),
        ({"latitude": 123.0}, "lat: must be between -90 and 90"),
        ({"altitude": 123_100.0}, "altitude 37521 m (123100 ft) is implausible"),
        ({"altitude": -1_600.0}, "altitude -488 m (-1600 ft) is implausible"),
        ({"altitude": "FL350"}, "altitude 'FL350' is not a number"),
        ({"groundspeed": 1_500.0}, "ground speed 772 m/s (1500 kt) is implausible"),
        ({"groundspeed": -1.0}, "ground speed -0.514444 m/s is negative"),
        ({"vertical_rate": 16_512.0}, "vertical rate 84 m/s (16512 ft/min) is implausible"),
        ({"track": "north"}, "track 'north' is not a number"),
        ({"onground": "no"}, "onground must be true or false"),
        ({"icao24": "x" * 101}, "address 'xxxxxxxxxxxxxxxxxxxx' is not 6 hex digits (or ~ and 6)"),
        ({"icao24": "4ca1f"}, "address '4ca1f' is not 6 hex digits"),
    ],
)
def test_each_bad_record_gets_a_reason(change: dict[str, Any], reason: str) -> None:
    out = track_from_sample({**RECORD, **change}, PARTY)
    assert isinstance(out, str), out
    assert reason in out


def test_a_record_that_is_not_an_object_gets_a_reason() -> None:
    assert track_from_sample([1, 2], PARTY) == "not a JSON object (list)"


# --- streaming reader -----------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 1 << 20])
def test_the_streaming_reader_equals_json_loads(chunk: int) -> None:
    items = [RECORD, 1.5e-3, -12, "a,]b", [], {"x": [1, {"y": None}]}, True, None, 123456789]
    text = json.dumps(items, indent=1)
    assert list(iter_json_array(StringIO(text), chunk=chunk)) == items


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "must be a JSON array (the text is empty)"),
        ("{}", "must be a JSON array"),
        ("[1, 2", "truncated"),
        ("[1 2]", "expected ',' or ']'"),
        ("[1,]", "item 1: Expecting value"),
        ("[nul]", "item 0: Expecting value"),
        ("[1] [2]", "text after the array's closing ']'"),
        ("[" + "[" * 100_000 + "]" * 100_000 + "]", "nested too deeply"),
    ],
)
def test_the_streaming_reader_refuses_what_is_not_one_array(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        list(iter_json_array(StringIO(text), "f.json", chunk=3))
    assert exc.value.field == "f.json"
    assert reason in exc.value.reason


def test_sample_files_are_read_gzipped_or_plain(tmp_path: Path) -> None:
    data = json.dumps([RECORD, RECORD])
    (tmp_path / "a.json").write_text(data, encoding="utf-8")
    with gzip.open(tmp_path / "a.json.gz", "wt", encoding="utf-8") as f:
        f.write(data)
    assert list(iter_sample_records(tmp_path / "a.json")) == [RECORD, RECORD]
    assert list(iter_sample_records(tmp_path / "a.json.gz")) == [RECORD, RECORD]


def test_unreadable_sample_files_are_invalid_input(tmp_path: Path) -> None:
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip at all")
    (tmp_path / "cut.json.gz").write_bytes(gzip.compress(b"[1, 2, 3]")[:-12])
    (tmp_path / "latin.json").write_bytes(b'["\xe9"]')
    for name in ("bad.json.gz", "cut.json.gz", "latin.json", "missing.json"):
        with pytest.raises(InvalidInput) as exc:
            list(iter_sample_records(tmp_path / name))
        assert exc.value.field == str(tmp_path / name)


# --- fetch ----------------------------------------------------------------------------------


def fake_wheel(folder: Path, members: dict[str, bytes]) -> Path:
    wheel = folder / "traffic-2.13-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return wheel


def test_the_cache_folder_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SAMPLES_ENV, "/somewhere/samples")
    assert samples_dir() == Path("/somewhere/samples")
    monkeypatch.delenv(SAMPLES_ENV)
    assert samples_dir() == Path.home() / ".cache" / "deconfliction" / "samples"


def test_fetch_extracts_the_missing_files_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    members = {member: name.encode() for name, member in SAMPLE_FILES.items()}
    members["traffic/__init__.py"] = b""

    def download(work: Path, say: Any) -> Path:
        calls.append(work)
        return fake_wheel(work, members)

    monkeypatch.setattr(_fetch, "_download", download)
    cache = tmp_path / "cache"
    lines: list[str] = []
    assert fetch_samples(cache, say=lines.append) == cache
    assert sorted(p.name for p in cache.iterdir()) == sorted(SAMPLE_FILES)
    assert (cache / "quickstart.json.gz").read_bytes() == b"quickstart.json.gz"
    assert any("extracted LFBOTMA.json" in line for line in lines)
    assert len(calls) == 1
    fetch_samples(cache)  # idempotent: nothing missing, no download
    assert len(calls) == 1
    (cache / "toulouse.json.gz").unlink()
    fetch_samples(cache)
    assert len(calls) == 2
    assert (cache / "toulouse.json.gz").exists()
    assert sorted(p.name for p in cache.iterdir()) == sorted(SAMPLE_FILES)  # no leftovers


def test_fetch_says_what_went_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_pip(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 1, "", "ERROR: No matching distribution found")

    monkeypatch.setattr(_fetch.subprocess, "run", failing_pip)
    with pytest.raises(
        SamplesUnavailable, match=r"(?s)registry reachable.*No matching distribution"
    ):
        fetch_samples(tmp_path / "c1")
    monkeypatch.setattr(_fetch, "_download", lambda work, say: fake_wheel(work, {"x": b""}))
    with pytest.raises(SamplesUnavailable, match="has no member traffic/data/samples/"):
        fetch_samples(tmp_path / "c2")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SamplesUnavailable, match="cannot create the cache folder"):
        fetch_samples(blocker / "sub")


def test_the_fetch_script_reports_the_folder(tmp_path: Path) -> None:
    for name in SAMPLE_FILES:
        (tmp_path / name).write_bytes(b"")
    script = ROOT / "scripts" / "fetch_samples.py"
    done = subprocess.run(
        [sys.executable, str(script), "--cache", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path)
    assert "already in" in done.stderr


# --- the real sample ------------------------------------------------------------------------


@pytest.mark.slow
def test_the_paris_sample_replays_with_plausible_rejections(samples: Path) -> None:
    """quickstart.json.gz: 284,505 records of 213 aircraft over Paris, 2021-10-07 12–15 UTC.

    The file is grouped by flight, not by time (3944ee flies twice, its later flight listed
    first), so it is replayed as a live feed would deliver it: in time order, shifted to
    today, the hub clock following the recording. Every aircraft gives reports; the noise
    is refused with reasons (0.16 %: a stuck 72,500 ft and a stuck 60,900 ft altitude and
    a few spikes above 90,000 ft); nothing goes backwards.
    """
    start = datetime(2021, 10, 7, 12, tzinfo=UTC)
    shift = datetime.now(UTC).replace(microsecond=0) - start
    records = 0
    aircraft: set[str] = set()
    reports: list[Track] = []
    reasons: Counter[str] = Counter()
    for rec in iter_sample_records(samples / "quickstart.json.gz"):
        records += 1
        assert isinstance(rec, dict)
        aircraft.add(rec["icao24"])
        r = track_from_sample(rec, PARTY, shift=shift)
        if isinstance(r, Track):
            reports.append(r)
        else:
            reasons["implausible" if "implausible" in r else r] += 1
    reports.sort(key=lambda r: r.time)
    last: dict[tuple[UUID, str], datetime] = {}
    taken: set[str] = set()
    for r in reports:
        why = check_track(r, r.time + timedelta(seconds=1), last.get(r.ident))
        if why is None:
            taken.add(r.key)
            last[r.ident] = r.time
        else:
            reasons[why.split(":")[0].split(" of ")[0]] += 1
    assert records == 284_505
    assert len(aircraft) == 213
    assert len(taken) == 213
    rejected = sum(reasons.values())
    assert 0 < rejected / records < 0.01, reasons
    assert reasons["implausible"] >= 457, reasons  # the two stuck altitudes alone
    assert reasons["implausible"] == rejected, reasons
    print(f"quickstart: {records} records, {records - rejected} taken, refused: {dict(reasons)}")
