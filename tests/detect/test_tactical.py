"""The engine facade, the alert book, and the TrackSet (columns, dead reckoning, adapter)."""

from __future__ import annotations

import numpy as np
import pytest

from deconfliction.detect import (
    ActivityVolumes,
    Alert,
    AlertBook,
    AlertKind,
    TacticalConfig,
    TrackSet,
    VolumeSet,
    clearance_needs,
    tactical_cycle,
)
from deconfliction.errors import InvalidInput
from deconfliction.geo import AltitudeBand, Buffers, Circle, TimeWindow, Volume4D
from deconfliction.geo._geodesy import GEOD
from tests.strategies import EPOCH

NOW = EPOCH


def _scene() -> tuple[TrackSet, VolumeSet]:
    zone = Volume4D(
        Circle((2.3, 48.0), 5_000.0),
        AltitudeBand(0, 12_000),
        TimeWindow.from_epoch(NOW, NOW + 3_600),
    )
    survey = Volume4D(
        Circle((3.0, 48.0), 2_000.0),
        AltitudeBand(0, 1_000),
        TimeWindow.from_epoch(NOW, NOW + 3_600),
    )
    vs = VolumeSet(
        [ActivityVolumes("fire-1", "army", [zone]), ActivityVolumes("survey", "ngo", [survey])]
    )
    b_lon, b_lat, b_back = GEOD.fwd(2.0, 48.0, 90.0, 30_000.0)  # head-on, 30 km east
    ts = TrackSet.from_columns(
        ids=["AF1", "AF2", "NGO1"],
        party=["civil", "af", "ngo"],
        lat=[48.0, b_lat, 48.2],
        lon=[2.0, b_lon, 3.0],
        alt_m=[9_000.0, 9_000.0, 500.0],
        gs_mps=[220.0, 220.0, 40.0],
        trk_deg=[90.0, b_back, 0.0],
        vs_mps=[0.0, 0.0, 0.0],
        time_s=[NOW] * 3,
        activity=[None, None, "survey"],
    )
    return ts, vs


def test_one_cycle_gives_every_kind_with_stable_keys():
    ts, vs = _scene()
    cycle = tactical_cycle(ts, vs, NOW)
    kinds = [(a.kind, a.key) for a in cycle.alerts()]
    assert kinds == [
        (AlertKind.PROXIMITY, ("proximity", "AF1", "AF2")),
        (AlertKind.INCURSION, ("incursion", "AF1", "fire-1")),
        (AlertKind.INCURSION, ("incursion", "AF2", "fire-1")),
        (AlertKind.NON_CONFORMING, ("non_conforming", "NGO1", "survey")),
    ]
    prox, inc, _, nc = cycle.alerts()
    assert prox.parties == ("civil", "af")
    assert prox.cpa_distance_m is not None
    assert prox.cpa_distance_m < 9_260
    assert inc.parties == ("civil", "army")
    assert inc.volume == 0
    assert nc.parties == ("ngo",)
    assert nc.position == pytest.approx((3.0, 48.2, 500.0))
    assert set(cycle.timings_s) == {"advance", "proximity", "incursion", "conformance"}


def test_stale_reports_are_dead_reckoned_to_now():
    ts, vs = _scene()
    earlier = ts.advanced_to(NOW - 10.0)  # where they were 10 s ago
    assert earlier.time_s.tolist() == [NOW - 10.0] * 3
    back = earlier.advanced_to(NOW)
    assert np.allclose(back.lat, ts.lat, atol=1e-9)
    assert np.allclose(back.lon, ts.lon, atol=1e-9)
    a = tactical_cycle(ts, vs, NOW).alerts()
    b = tactical_cycle(earlier, vs, NOW).alerts()
    assert [x.key for x in a] == [x.key for x in b]
    assert a[1].time_to_s == pytest.approx(b[1].time_to_s, abs=1e-3)


def test_alert_book_raises_updates_clears_and_escalates_once():
    book = AlertBook()
    ts, vs = _scene()
    first = book.update(tactical_cycle(ts, vs, NOW).alerts(), NOW)
    assert len(first.raised) == 4
    assert not first.updated
    assert not first.cleared
    later = ts.advanced_to(NOW + 5.0)
    second = book.update(tactical_cycle(later, vs, NOW + 5.0).alerts(), NOW + 5.0)
    assert not second.raised
    assert not second.cleared
    assert {a.kind for a in second.updated} == {
        AlertKind.PROXIMITY,
        AlertKind.INCURSION,
        AlertKind.NON_CONFORMING,
    }
    nc_key = ("non_conforming", "NGO1", "survey")
    assert book.first_seen(nc_key) == NOW
    third = book.update(tactical_cycle(later, vs, NOW + 61.0).alerts(), NOW + 61.0)
    assert [a.key for a in third.contingent] == [nc_key]
    assert book.is_contingent(nc_key)
    fourth = book.update(
        [
            a
            for a in tactical_cycle(later, vs, NOW + 62.0).alerts()
            if a.kind != AlertKind.NON_CONFORMING
        ],
        NOW + 62.0,
    )
    assert not fourth.contingent
    assert [a.key for a in fourth.cleared] == [nc_key]
    assert book.first_seen(nc_key) is None
    assert not book.is_contingent(nc_key)
    with pytest.raises(InvalidInput, match="back in time"):
        book.update([], NOW)
    dup = Alert(AlertKind.PROXIMITY, ("proximity", "a", "b"), ("x", "y"), ("a", "b"))
    with pytest.raises(InvalidInput, match="share the key"):
        book.update([dup, dup], NOW + 70)


def test_time_to_clear_with_live_tracks():
    ts, _ = _scene()
    zone = Volume4D(
        Circle((3.0, 48.2), 5_000.0),
        AltitudeBand(0, 1_000),
        TimeWindow.from_epoch(NOW + 60, NOW + 600),
    )
    from datetime import UTC, datetime

    needs = clearance_needs(ts.positions(), [zone], Buffers(), datetime.fromtimestamp(NOW, UTC))
    assert [(n.key, round(n.required_s)) for n in needs] == [("NGO1", 125)]
    assert needs[0].insufficient


def test_track_columns_are_validated():
    ok = {
        "ids": ["a"], "party": ["p"], "lat": [0.0], "lon": [0.0], "alt_m": [0.0], "gs_mps": [0.0],
        "trk_deg": [0.0], "vs_mps": [0.0], "time_s": [NOW],
    }  # fmt: skip
    TrackSet.from_columns(**ok)
    with pytest.raises(InvalidInput, match=r"tracks\.lat\[0\]"):
        TrackSet.from_columns(**{**ok, "lat": [91.0]})
    with pytest.raises(InvalidInput, match=r"tracks\.gs_mps\[0\]"):
        TrackSet.from_columns(**{**ok, "gs_mps": [float("nan")]})
    with pytest.raises(InvalidInput, match=r"tracks\.lon"):
        TrackSet.from_columns(**{**ok, "lon": [0.0, 1.0]})
    with pytest.raises(InvalidInput, match="unique"):
        TrackSet.from_columns(**{k: v * 2 for k, v in ok.items()})
    with pytest.raises(InvalidInput, match="lookahead_s"):
        TacticalConfig(lookahead_s=-1)
    fresh = TrackSet.from_columns(**{**ok, "ids": ["a", "b"], "party": ["p", "p"], "lat": [0.0, 1.0],
        "lon": [0.0] * 2, "alt_m": [0.0] * 2, "gs_mps": [0.0] * 2, "trk_deg": [0.0] * 2,
        "vs_mps": [0.0] * 2, "time_s": [NOW, NOW - 100]})  # fmt: skip
    assert fresh.fresh(NOW, 30.0).ids.tolist() == ["a"]
