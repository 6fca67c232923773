"""Figures per party pair through the hotline, over a real SQLite store and a clock the test
moves, against values computed by hand from the scenario below."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from deconfliction.errors import Forbidden, InvalidInput
from deconfliction.geo import Circle, TimeWindow
from deconfliction.hotline import AssetReport, PairFigures, Principal, figures_json
from deconfliction.model import NoticeReason, ProtectedSite
from tests.hotline.conftest import T0, Hub, circle, draft

A, B, C, D, E = ((float(lon), 50.0) for lon in range(2, 7))  # ~71 km apart


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass
class Cast:
    blue: Principal
    red: Principal
    green: Principal


def play(hub: Hub) -> Cast:
    """Blue → Red: n1 late (30 min; policy 1 h), acknowledged after 5 min; n2 on time (3 h),
    objected after 15 min; n3 exactly on time (1 h), never answered: expired at 12:15;
    n4 "cancelled" at 12:30 (no answer expected; n2 is superseded by it).
    Blue → Green: g1 (Green's slow asset at A), late and insufficient, expired.
    Red → Blue: m1 late (30 min), unanswered and not yet expired at 12:40.
    Blue's own activity meets Green's site at 12:40: a notice to Blue about its own activity,
    which is no pair."""
    h, clock = hub.hotline, hub.clock
    blue, red, green = hub.party("Blue"), hub.party("Red"), hub.party("Green")
    for spot in (A, B, C):
        h.file(red, draft(circle(*spot)))  # 14:00–16:00
    h.file(blue, draft(circle(*D, start_min=60, hours=6)))  # 13:00–19:00, meets nobody yet
    b5 = h.file(blue, draft(circle(*E))).activity
    h.report_assets(green, [AssetReport("SLOW", A[0], A[1], max_speed_mps=5.0)])
    n1, g1 = sorted(
        h.file(blue, draft(circle(*A, start_min=30))).notices,
        key=lambda n: n.recipient != red.party_id,
    )
    assert (n1.recipient, g1.recipient, g1.insufficient) == (red.party_id, green.party_id, True)
    (n2,) = h.file(blue, draft(circle(*B, start_min=180))).notices
    b2 = n2.activity_id
    (n3,) = h.file(blue, draft(circle(*C, start_min=60))).notices
    assert (n1.lead_time_s, n2.lead_time_s, n3.lead_time_s) == (1800.0, 10800.0, 3600.0)
    assert (n1.late, n2.late, n3.late) == (True, False, False)
    clock.t = at(5)
    h.acknowledge(red, n1.id)
    clock.t = at(15)
    h.object(red, n2.id, "no")
    assert {n.id for n in h.expire_due()} == {n3.id, g1.id}
    clock.t = at(20)
    (m1,) = h.file(red, draft(circle(*D, start_min=50))).notices
    assert (m1.recipient, m1.late) == (blue.party_id, True)
    clock.t = at(30)
    (n4,) = h.cancel(blue, b2, 1).notices
    assert n4.reason is NoticeReason.CANCELLED
    clock.t = at(40)
    site = h.register_site(green, _site(green, *E))
    assert [n.recipient for n in site.notices] == [blue.party_id]
    assert site.notices[0].activity_id == b5.id
    return Cast(blue, red, green)


def _site(p: Principal, lon: float, lat: float) -> ProtectedSite:
    return ProtectedSite(
        uuid4(),
        p.party_id,
        "medical",
        "Field hospital",
        Circle((lon, lat), 500.0),
        TimeWindow(T0, T0 + timedelta(days=10)),
        T0,
        T0,
    )


def _pair(pairs: tuple[PairFigures, ...], sender: Principal, recipient: Principal) -> PairFigures:
    (x,) = [x for x in pairs if (x.sender, x.recipient) == (sender.party_id, recipient.party_id)]
    return x


BLUE_TO_RED = {
    "notices": 4,
    "answer_expected": 3,
    "median_lead_time_s": 3600.0,  # of 1800, 10800, 3600
    "late": 1,
    "late_share": pytest.approx(1 / 3),
    "insufficient": 0,
    "insufficient_share": 0.0,
    "answered": 2,
    "median_time_to_ack_s": 600.0,  # of 300, 900
    "unanswered": 1,  # n3 (expired, still without an answer); n2 answered; n4 needs none
    "expired": 1,
    "expired_share": pytest.approx(1 / 3),
}
BLUE_TO_GREEN = {
    "notices": 1,
    "answer_expected": 1,
    "median_lead_time_s": 1800.0,
    "late": 1,
    "late_share": 1.0,
    "insufficient": 1,
    "insufficient_share": 1.0,
    "answered": 0,
    "median_time_to_ack_s": None,
    "unanswered": 1,
    "expired": 1,
    "expired_share": 1.0,
}
RED_TO_BLUE = {
    "notices": 1,
    "answer_expected": 1,
    "median_lead_time_s": 1800.0,
    "late": 1,
    "late_share": 1.0,
    "insufficient": 0,
    "insufficient_share": 0.0,
    "answered": 0,
    "median_time_to_ack_s": None,
    "unanswered": 1,
    "expired": 0,
    "expired_share": 0.0,
}


def _figures(x: PairFigures) -> dict[str, object]:
    return {k: getattr(x, k) for k in BLUE_TO_RED}


def test_figures_per_pair_match_the_hand_computed_values(hub: Hub) -> None:
    c = play(hub)
    f = hub.hotline.figures(c.blue)
    assert len(f.pairs) == 3  # no Blue → Blue pair for the site's notice
    assert _figures(_pair(f.pairs, c.blue, c.red)) == BLUE_TO_RED
    assert _figures(_pair(f.pairs, c.blue, c.green)) == BLUE_TO_GREEN
    assert _figures(_pair(f.pairs, c.red, c.blue)) == RED_TO_BLUE
    # by counterpart name, then given before received
    doc = figures_json(f)
    assert [(r["counterpart"]["name"], r["direction"]) for r in doc["pairs"]] == [
        ("Green", "sent"),
        ("Red", "sent"),
        ("Red", "received"),
    ]
    assert doc["party"] == {"id": str(c.blue.party_id), "name": "Blue"}
    red_row = doc["pairs"][1]
    assert (red_row["from"]["name"], red_row["to"]["name"]) == ("Blue", "Red")
    assert red_row["late_share"] == 0.3333


def test_each_party_sees_only_its_own_pairs(hub: Hub) -> None:
    c = play(hub)
    red = hub.hotline.figures(c.red)
    assert {(x.sender, x.recipient) for x in red.pairs} == {
        (c.blue.party_id, c.red.party_id),
        (c.red.party_id, c.blue.party_id),
    }
    assert _figures(_pair(red.pairs, c.blue, c.red)) == BLUE_TO_RED  # the same from both sides
    rows = figures_json(red)["pairs"]
    assert [(r["counterpart"]["name"], r["direction"]) for r in rows] == [
        ("Blue", "sent"),
        ("Blue", "received"),
    ]
    green = hub.hotline.figures(c.green)
    assert [(x.sender, x.recipient) for x in green.pairs] == [(c.blue.party_id, c.green.party_id)]
    assert hub.hotline.figures(hub.party("Yellow")).pairs == ()


def test_an_admin_may_see_every_pair_and_nobody_else(hub: Hub) -> None:
    c = play(hub)
    every = hub.hotline.figures(hub.admin, all_pairs=True)
    assert len(every.pairs) == 3
    assert _figures(_pair(every.pairs, c.red, c.blue)) == RED_TO_BLUE
    assert [r["direction"] for r in figures_json(every)["pairs"]] == [None, None, None]
    assert hub.hotline.figures(hub.admin).pairs == ()  # the admin party itself has none
    with pytest.raises(Forbidden):
        hub.hotline.figures(c.blue, all_pairs=True)


def test_since_and_until_select_by_sending_time(hub: Hub) -> None:
    c = play(hub)
    later = hub.hotline.figures(c.blue, since=at(10))  # m1 (12:20) and n4 (12:30)
    assert _pair(later.pairs, c.blue, c.red).notices == 1
    n4 = _pair(later.pairs, c.blue, c.red)
    assert (n4.answer_expected, n4.median_lead_time_s, n4.late_share) == (0, None, None)
    assert n4.insufficient_share == 0.0
    assert _figures(_pair(later.pairs, c.red, c.blue)) == RED_TO_BLUE
    assert len(later.pairs) == 2
    early = hub.hotline.figures(c.blue, until=at(10))
    assert [(x.recipient, x.notices) for x in early.pairs] == [
        (c.green.party_id, 1),
        (c.red.party_id, 3),
    ]
    window = hub.hotline.figures(c.blue, since=at(20), until=at(30))  # [since, until)
    assert [(x.sender, x.notices) for x in window.pairs] == [(c.red.party_id, 1)]
    with pytest.raises(InvalidInput) as exc:
        hub.hotline.figures(c.blue, since=at(30), until=at(30))
    assert exc.value.field == "until"
    with pytest.raises(InvalidInput) as exc:
        hub.hotline.figures(c.blue, since=datetime(2026, 11, 25, 12))
    assert exc.value.field == "since"
