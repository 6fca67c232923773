"""Track reports: field validation, the clock and order checks, batches, the [tracks] policy."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.errors import InvalidInput, InvalidPolicy
from deconfliction.model import (
    DEFAULT_POLICY_TOML,
    AltitudeReference,
    Policy,
    Rejection,
    Track,
    TrackPolicy,
    TrackSource,
    check_batch,
    check_track,
)

PARTY = UUID(int=42)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def report(**kw: Any) -> Track:
    fields: dict[str, Any] = {
        "key": "blue-1",
        "party": PARTY,
        "source": TrackSource.OWN,
        "time": NOW,
        "lat": 48.85,
        "lon": 2.35,
    }
    return Track(**(fields | kw))


def test_a_full_report_keeps_its_values_normalised() -> None:
    t = report(
        key="  4CA1F3 ",
        source="adsb",
        time=datetime(2026, 12, 1, 13, 0, tzinfo=timezone(timedelta(hours=1))),
        altitude_m=10_000,
        altitude_ref="barometric",
        ground_speed_mps=230,
        track_deg=360.0,
        vertical_rate_mps=-5,
        callsign=" RYR12AB ",
        icao24="4CA1F3",
        activity_id=UUID(int=7),
        on_ground=False,
    )
    assert t.key == "4CA1F3"
    assert t.source is TrackSource.ADSB
    assert t.time == NOW
    assert t.time.tzinfo is UTC
    assert t.altitude_m == 10_000.0
    assert isinstance(t.altitude_m, float)
    assert t.altitude_ref is AltitudeReference.BAROMETRIC
    assert t.track_deg == 0.0
    assert t.callsign == "RYR12AB"
    assert t.icao24 == "4ca1f3"
    assert t.ident == (PARTY, "4CA1F3")


def test_optional_fields_default_to_unknown() -> None:
    t = report(callsign="   ")
    assert t.altitude_m is None
    assert t.ground_speed_mps is None
    assert t.track_deg is None
    assert t.vertical_rate_mps is None
    assert t.callsign is None
    assert t.icao24 is None
    assert t.altitude_ref is AltitudeReference.WGS84
    assert not t.on_ground


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"key": ""}, "key"),
        ({"key": "x" * 101}, "key"),
        ({"key": "a\x00b"}, "key"),
        ({"key": 5}, "key"),
        ({"party": "not-a-uuid"}, "party"),
        ({"source": "radar"}, "source"),
        ({"time": datetime(2026, 12, 1, 12)}, "time"),
        ({"time": "2026-12-01T12:00:00Z"}, "time"),
        ({"lat": 90.0001}, "lat"),
        ({"lat": -91}, "lat"),
        ({"lat": math.nan}, "lat"),
        ({"lat": True}, "lat"),
        ({"lon": 180.5}, "lon"),
        ({"lon": "2.35"}, "lon"),
        ({"altitude_m": -1_001.0}, "altitude_m"),
        ({"altitude_m": 100_001.0}, "altitude_m"),
        ({"altitude_m": math.inf}, "altitude_m"),
        ({"altitude_ref": "qnh"}, "altitude_ref"),
        ({"ground_speed_mps": -1.0}, "ground_speed_mps"),
        ({"ground_speed_mps": 1_000.5}, "ground_speed_mps"),
        ({"track_deg": -0.1}, "track_deg"),
        ({"track_deg": 360.1}, "track_deg"),
        ({"vertical_rate_mps": 501.0}, "vertical_rate_mps"),
        ({"callsign": "x" * 41}, "callsign"),
        ({"icao24": "4ca1f"}, "icao24"),
        ({"icao24": "4ca1fg"}, "icao24"),
        ({"icao24": 0x4CA1F3}, "icao24"),
        ({"activity_id": "x"}, "activity_id"),
        ({"on_ground": 1}, "on_ground"),
    ],
)
def test_each_bad_field_is_named(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        report(**kw)
    assert exc.value.field == field
    assert exc.value.reason


def test_range_edges_are_taken() -> None:
    for kw in (
        {"lat": -90.0, "lon": -180.0},
        {"lat": 90, "lon": 180},
        {"altitude_m": -1_000.0, "ground_speed_mps": 0.0, "vertical_rate_mps": -500.0},
        {"altitude_m": 100_000.0, "ground_speed_mps": 1_000.0, "vertical_rate_mps": 500.0},
    ):
        report(**kw)


# --- check_track ----------------------------------------------------------------------------


def test_a_timely_report_is_taken() -> None:
    assert check_track(report(), NOW, None) is None
    assert check_track(report(time=NOW + timedelta(seconds=10)), NOW, None) is None
    assert check_track(report(time=NOW - timedelta(seconds=300)), NOW, None) is None
    assert check_track(report(), NOW, NOW - timedelta(milliseconds=1)) is None


def test_a_report_too_far_ahead_of_the_hub_clock_is_refused() -> None:
    reason = check_track(report(time=NOW + timedelta(seconds=10.5)), NOW, None)
    assert (
        reason
        == "time 2026-12-01T12:00:10.500000+00:00 is 10.5 s ahead of the hub clock (at most 10 s)"
    )


def test_a_report_too_old_on_arrival_is_refused() -> None:
    reason = check_track(report(time=NOW - timedelta(minutes=6)), NOW, None)
    assert reason is not None
    assert "360.0 s old on arrival (at most 300 s)" in reason


def test_the_policy_sets_the_clock_tolerances() -> None:
    p = TrackPolicy(max_future_s=0.0, max_past_s=1.0)
    assert check_track(report(time=NOW + timedelta(milliseconds=1)), NOW, None, p) is not None
    assert check_track(report(time=NOW - timedelta(seconds=2)), NOW, None, p) is not None
    assert check_track(report(), NOW, None, p) is None


def test_a_report_going_backwards_or_repeating_is_refused() -> None:
    back = check_track(report(), NOW, NOW + timedelta(seconds=2))
    assert back == (
        "goes backwards: 2 s before the last report of track blue-1 (2026-12-01T12:00:02+00:00)"
    )
    again = check_track(report(), NOW, NOW)
    assert again is not None
    assert again.startswith("repeats the time of the last report")


def test_the_hub_clock_must_be_aware() -> None:
    with pytest.raises(InvalidInput, match="naive"):
        check_track(report(), datetime(2026, 12, 1, 12), None)


# --- check_batch ----------------------------------------------------------------------------


def test_a_batch_takes_the_good_items_and_names_each_bad_one() -> None:
    other = uuid4()
    items: list[Track | str] = [
        report(time=NOW - timedelta(seconds=2)),  # 0 ok
        "lat: must be between -90 and 90, got 91",  # 1 could not be built
        report(time=NOW - timedelta(seconds=3)),  # 2 backwards within the batch
        report(time=NOW - timedelta(seconds=1)),  # 3 ok
        report(key="blue-2", time=NOW + timedelta(minutes=1)),  # 4 future
        report(key="blue-3", time=NOW - timedelta(seconds=9)),  # 5 behind last_times
        report(key="blue-3", party=other, time=NOW - timedelta(seconds=9)),  # 6 other party: ok
        report(time=NOW - timedelta(seconds=1)),  # 7 duplicate of 3
    ]
    last = {(PARTY, "blue-3"): NOW - timedelta(seconds=5)}
    result = check_batch(items, NOW, last)
    assert [r.time for r in result.accepted] == [items[i].time for i in (0, 3, 6)]  # type: ignore[union-attr]
    assert [r.index for r in result.rejected] == [1, 2, 4, 5, 7]
    assert result.rejected[0] == Rejection(1, "lat: must be between -90 and 90, got 91")
    assert "goes backwards" in result.rejected[1].reason
    assert "ahead of the hub clock" in result.rejected[2].reason
    assert "goes backwards" in result.rejected[3].reason
    assert "repeats the time" in result.rejected[4].reason
    assert result.skipped == 0


def test_an_empty_batch_is_fine_and_an_oversized_one_is_refused_whole() -> None:
    assert check_batch([], NOW, {}).accepted == ()
    p = TrackPolicy(max_batch=2)
    three = [report(time=NOW - timedelta(seconds=i)) for i in (3, 2, 1)]
    assert len(check_batch(three[:2], NOW, {}, p).accepted) == 2
    with pytest.raises(InvalidInput, match="3 reports exceed the limit of 2") as exc:
        check_batch(three, NOW, {}, p)
    assert exc.value.field == "tracks"


def test_the_default_batch_limit_is_ten_thousand() -> None:
    base = report()
    items = [replace(base, key=f"k{i}") for i in range(10_000)]
    assert len(check_batch(items, NOW, {}).accepted) == 10_000
    with pytest.raises(InvalidInput):
        check_batch([*items, base], NOW, {})


# --- [tracks] policy ------------------------------------------------------------------------


def test_track_policy_defaults_are_documented() -> None:
    p = Policy.default().tracks
    assert p == TrackPolicy()
    assert (p.stale_after_s, p.max_future_s, p.max_past_s, p.max_batch) == (
        30.0,
        10.0,
        300.0,
        10_000,
    )
    assert "[tracks]" in DEFAULT_POLICY_TOML
    assert Policy.from_toml(DEFAULT_POLICY_TOML).tracks == p


def test_track_policy_keys_override_one_by_one() -> None:
    p = Policy.from_toml("[tracks]\nstale_after_s = 12.5\nmax_batch = 500\n").tracks
    assert p == TrackPolicy(stale_after_s=12.5, max_batch=500)
    assert isinstance(Policy.from_toml("[tracks]\nmax_past_s = 60\n").tracks.max_past_s, float)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("tracks = 3\n", "tracks"),
        ("[tracks]\nstale_s = 3\n", "tracks.stale_s"),
        ("[tracks]\nstale_after_s = 0\n", "tracks.stale_after_s"),
        ("[tracks]\nstale_after_s = 'x'\n", "tracks.stale_after_s"),
        ("[tracks]\nmax_future_s = -1\n", "tracks.max_future_s"),
        ("[tracks]\nmax_past_s = inf\n", "tracks.max_past_s"),
        ("[tracks]\nmax_batch = 0\n", "tracks.max_batch"),
        ("[tracks]\nmax_batch = 2.5\n", "tracks.max_batch"),
        ("[tracks]\nmax_batch = true\n", "tracks.max_batch"),
        ("[tracks]\nmax_batch = 1000001\n", "tracks.max_batch"),
    ],
)
def test_bad_track_policy_keys_are_named(text: str, field: str) -> None:
    with pytest.raises(InvalidPolicy) as exc:
        Policy.from_toml(text)
    assert exc.value.field == field


# --- check_batch against check_track, item by item (its fast window must never differ) -----


def _batch_oracle(items, now, last_times, p):
    latest: dict = {}
    accepted, rejected = [], []
    for i, item in enumerate(items):
        if isinstance(item, str):
            rejected.append(Rejection(i, item))
            continue
        last = latest.get(item.ident) or last_times.get(item.ident)
        reason = check_track(item, now, last, p)
        if reason is None:
            accepted.append(item)
            latest[item.ident] = item.time
        else:
            rejected.append(Rejection(i, reason))
    return accepted, rejected


_limits = st.one_of(
    st.sampled_from([0.0, 1e-6, 10.0, 300.0, 0.3, 0.1 + 0.2, 1e300]),
    st.floats(1e-9, 1e6, allow_nan=False),
)


_offsets_us = st.one_of(
    st.integers(-400_000_001, 20_000_001),
    st.sampled_from([0, -1, 1, -300_000_001, -300_000_000, -299_999_999, 9_999_999, 10_000_000]),
    st.sampled_from([10_000_001, 300_001, 300_000, 299_999]),
)


@given(
    st.lists(st.tuples(st.sampled_from("abc"), _offsets_us), max_size=8),
    st.dictionaries(st.sampled_from("ab"), _offsets_us, max_size=2),
    _limits,
    _limits,
)
def test_check_batch_answers_as_check_track_does(rows, last, future, past) -> None:
    p = TrackPolicy(max_future_s=future, max_past_s=max(past, 1e-9))
    items = [report(key=k, time=NOW + timedelta(microseconds=us)) for k, us in rows]
    last_times = {(PARTY, k): NOW + timedelta(microseconds=us) for k, us in last.items()}
    got = check_batch(items, NOW, last_times, p)
    assert (list(got.accepted), list(got.rejected)) == _batch_oracle(items, NOW, last_times, p)
