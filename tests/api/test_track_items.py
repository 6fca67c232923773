"""The columnar reader of track items answers, item by item, as the reference reader does."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from deconfliction.api._track_items import (
    _Unreadable,
    read_items,
    track_from_item,
    tracks_from_items,
)
from deconfliction.errors import DeconflictionError
from deconfliction.model import Track
from tests.model.test_track_columns import _COLUMNS, PARTY, _mostly, _numbers, same

_STAMPS = [
    "2026-12-01T12:00:00Z",
    "2026-12-01T13:00:00.5+01:00",
    "2026-12-01T12:00:00",  # no offset
    "2026-12-01 12:00:00+00:00",
    "yesterday",
]
_FIELDS: dict[str, st.SearchStrategy[object]] = {
    name: s for name, s in _COLUMNS.items() if name not in ("time", "activity_id")
} | {
    "time": _mostly(
        st.sampled_from(_STAMPS[:2]), st.one_of(st.sampled_from(_STAMPS), _COLUMNS["key"])
    ),
    "activity_id": _mostly(
        st.one_of(st.none(), st.just(str(UUID(int=7)))),
        st.one_of(st.just("not-a-uuid"), st.just(UUID(int=7)), st.integers()),
    ),
    "altitude_ft": st.one_of(st.none(), _numbers(-3_000, 300_000)),
    "ground_speed_kt": st.one_of(st.none(), _numbers(0, 2_000)),
    "vertical_rate_fpm": st.one_of(st.none(), _numbers(-90_000, 90_000)),
    "color": st.just("red"),
}
_USUAL = ("key", "time", "lat", "lon")


@st.composite
def items(draw: st.DrawFn) -> list[object]:
    """A batch whose items mostly share their fields (as real batches do)."""
    shared = [*_USUAL, *draw(st.sets(st.sampled_from(sorted(set(_FIELDS) - set(_USUAL)))))]
    out: list[object] = []
    for _ in range(draw(st.integers(0, 6))):
        names = (
            shared if draw(st.integers(0, 3)) else draw(st.sets(st.sampled_from(sorted(_FIELDS))))
        )
        kind = draw(st.integers(0, 20))
        if kind == 0:
            out.append(draw(st.sampled_from([[], "x", 3, None, _Unreadable("line 2: not JSON")])))
        else:
            out.append({name: draw(_FIELDS[name]) for name in names})
    return out


def reference(batch: list[object]) -> list[Track | str]:
    out: list[Track | str] = []
    for item in batch:
        if isinstance(item, _Unreadable):
            out.append(item.reason)
            continue
        try:
            out.append(track_from_item(item, PARTY))
        except DeconflictionError as exc:
            out.append(str(exc))
    return out


@given(items())
def test_the_columns_read_as_the_reference_does(batch: list[object]) -> None:
    same(tracks_from_items(batch, PARTY), reference(batch))


def test_a_bench_like_batch_reads_whole() -> None:
    body = b'{"tracks": [%s]}' % b",".join(
        b'{"key": "AC%d", "time": "2026-12-01T12:00:00Z", "lat": 48.5, "lon": 2, '
        b'"altitude_ft": %d, "ground_speed_kt": 420.0, "track_deg": 90.0, '
        b'"vertical_rate_fpm": 0.0, "icao24": "%06x", "source": "adsb"}' % (i, 20_000 + i, i)
        for i in range(500)
    )
    batch = read_items(body, "application/json")
    got = tracks_from_items(batch, PARTY)
    same(got, reference(batch))
    first: Any = got[0]
    assert (first.key, first.lon, first.altitude_m) == ("AC0", 2.0, 20_000 * 0.3048)
