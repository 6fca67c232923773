"""Reports built by column answer, row by row, exactly as ``Track(...)`` does (the oracle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.errors import InvalidInput
from deconfliction.model import AltitudeReference, Track, TrackSource
from deconfliction.model._track_columns import tracks_from_columns

PARTY = UUID(int=42)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

_odd = st.sampled_from([None, True, False, "1.5", [], {}, float("nan"), float("inf"), 1e301])


def _numbers(lo: float, hi: float) -> st.SearchStrategy[object]:
    good = st.one_of(st.floats(lo, hi), st.integers(int(lo), int(hi)), st.sampled_from([lo, hi]))
    bad = st.one_of(
        st.sampled_from([-0.0, 0, 360.0, 10**300]),
        st.floats(allow_nan=True),
        st.integers(-(10**20), 10**20),
        _odd,
    )
    return _mostly(good, bad)


def _mostly(good: st.SearchStrategy[object], bad: st.SearchStrategy[object]) -> Any:
    """Mostly good values, so that whole rows pass often enough to compare their values."""
    return st.integers(0, 9).flatmap(lambda k: bad if k == 5 else good)


_texts = _mostly(
    st.from_regex(r" ?[a-c1]{1,6} ?", fullmatch=True),
    st.one_of(
        st.text(max_size=6),
        st.text(alphabet="ab \t\n\x01\x1c", max_size=6),
        st.text(alphabet="x", min_size=38, max_size=102),
        _odd,
    ),
)
_times = _mostly(
    st.sampled_from(
        [
            NOW,
            NOW.astimezone(timezone(timedelta(hours=2))),
            NOW + timedelta(microseconds=1),
        ]
    ),
    st.one_of(st.datetimes(timezones=st.just(UTC)), st.datetimes(), _odd),
)
_COLUMNS: dict[str, st.SearchStrategy[object]] = {
    "key": _texts,
    "source": _mostly(
        st.one_of(st.sampled_from(TrackSource), st.sampled_from(["own", "adsb"])),
        st.one_of(st.just("x"), _odd),
    ),
    "time": _times,
    "lat": _numbers(-90, 90),
    "lon": _numbers(-180, 180),
    "altitude_m": st.one_of(st.none(), _numbers(-1_000, 100_000)),
    "altitude_ref": _mostly(st.one_of(st.sampled_from(AltitudeReference), st.just("msl")), _odd),
    "ground_speed_mps": st.one_of(st.none(), _numbers(0, 1_000)),
    "track_deg": st.one_of(st.none(), _numbers(0, 360)),
    "vertical_rate_mps": st.one_of(st.none(), _numbers(-500, 500)),
    "callsign": st.one_of(st.none(), _texts),
    "icao24": _mostly(
        st.one_of(st.none(), st.sampled_from(["4CA1F3", " abcdef "])),
        st.one_of(st.sampled_from(["abcdeg", "abc", "aaaaaa\nbbbbbb"]), _texts),
    ),
    "activity_id": _mostly(
        st.one_of(st.none(), st.just(UUID(int=7))), st.one_of(st.just(str(UUID(int=7))), _odd)
    ),
    "on_ground": _mostly(st.booleans(), _odd),
}
_REQUIRED = ("key", "source", "time", "lat", "lon")


@st.composite
def columns(draw: st.DrawFn) -> dict[str, list[object]]:
    n = draw(st.integers(0, 6))
    names = [*_REQUIRED, *draw(st.sets(st.sampled_from(sorted(set(_COLUMNS) - set(_REQUIRED)))))]
    return {name: draw(st.lists(_COLUMNS[name], min_size=n, max_size=n)) for name in names}


def oracle(party: object, cols: dict[str, list[object]]) -> list[Track | str]:
    out: list[Track | str] = []
    for i in range(len(cols["key"])):
        try:
            out.append(Track(party=party, **{k: c[i] for k, c in cols.items()}))  # type: ignore[arg-type]
        except InvalidInput as exc:
            out.append(str(exc))
    return out


def same(a: list[Track | str], b: list[Track | str]) -> None:
    """Equal, and equal in their representation (the sign of a zero, the time's zone)."""
    assert a == b
    assert [repr(x) for x in a] == [repr(x) for x in b]


@given(columns())
def test_columns_answer_as_the_constructor_does(cols: dict[str, list[object]]) -> None:
    same(tracks_from_columns(PARTY, cols), oracle(PARTY, cols))


def test_a_full_good_batch_and_its_values() -> None:
    t = NOW.astimezone(timezone(timedelta(hours=1)))
    cols: dict[str, list[Any]] = {
        "key": [f" k{i} " for i in range(1000)],
        "source": ["adsb", TrackSource.OWN] * 500,
        "time": [t] * 1000,
        "lat": [float(i % 90) for i in range(1000)],
        "lon": [i % 361 - 180 for i in range(1000)],
        "altitude_m": [None, 1000] * 500,
        "track_deg": [360.0, -0.0] * 500,
        "callsign": ["  ", " RYR1 "] * 500,
        "icao24": [" 4CA1F3", None] * 500,
    }
    got = tracks_from_columns(PARTY, cols)
    same(got, oracle(PARTY, cols))
    first = got[0]
    assert isinstance(first, Track)
    assert (first.key, first.time.tzinfo, first.track_deg, first.callsign) == ("k0", UTC, 0.0, None)
    assert first.icao24 == "4ca1f3"


def test_refusals_carry_the_constructor_reason() -> None:
    cols: dict[str, list[object]] = {
        "key": ["a", "", "c", "d"],
        "source": ["own", "own", "nope", "own"],
        "time": [NOW, NOW, NOW, NOW.replace(tzinfo=None)],
        "lat": [91, 1.0, 1.0, 1.0],
        "lon": [0.0, 0.0, 0.0, True],
    }
    assert tracks_from_columns(PARTY, cols) == [
        "lat: must be between -90 and 90, got 91",
        "key: must not be empty",
        "source: must be one of: own, adsb, sbs1, aircraft_json, opensky, cot, other",
        "time: naive datetime: a timezone (UTC) is required",
    ]


def test_a_party_that_is_no_uuid_refuses_every_row() -> None:
    cols: dict[str, list[object]] = {
        "key": ["a"],
        "source": ["own"],
        "time": [NOW],
        "lat": [1.0],
        "lon": [1.0],
    }
    assert tracks_from_columns("p", cols) == ["party: must be a UUID"]  # type: ignore[arg-type]


def test_columns_must_be_track_fields_of_one_length() -> None:
    base: dict[str, list[object]] = {"key": ["a"], "source": ["own"], "time": [NOW]}
    with pytest.raises(TypeError, match="party"):
        tracks_from_columns(PARTY, base | {"party": [PARTY], "lat": [1.0], "lon": [1.0]})
    with pytest.raises(ValueError, match="length"):
        tracks_from_columns(PARTY, base | {"lat": [1.0, 2.0], "lon": [1.0]})
