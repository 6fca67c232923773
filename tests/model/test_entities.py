"""Entities validate their fields (the error names the field) and follow their state machines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from deconfliction.errors import InvalidInput, InvalidTransition
from deconfliction.geo import AltitudeBand, Circle, TimeWindow, Volume4D
from deconfliction.model import (
    Activity,
    ActivityState,
    Notice,
    NoticeStatus,
    Party,
    ProtectedSite,
    SiteState,
)

T = datetime(2026, 11, 25, 12, tzinfo=UTC)
W = TimeWindow(T, T + timedelta(hours=1))
V = Volume4D(Circle((2.35, 48.85), 1000.0), AltitudeBand(0, 1000), W)


def activity(**kw: object) -> Activity:
    base: dict[str, object] = {
        "id": uuid4(),
        "owner": uuid4(),
        "kind": "flight",
        "title": "Medevac",
        "volumes": (V,),
        "created_at": T,
        "updated_at": T,
    }
    return Activity(**(base | kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"kind": "picnic"}, "kind"),
        ({"kind": 3}, "kind"),
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"priority": "urgent"}, "priority"),
        ({"volumes": ()}, "volumes"),
        ({"volumes": (V,) * 101}, "volumes"),
        ({"volumes": ("not a volume",)}, "volumes[0]"),
        ({"created_at": datetime(2026, 1, 1)}, "created_at"),
        ({"version": 0}, "version"),
        ({"version": True}, "version"),
        ({"remarks": "r" * 4001}, "remarks"),
    ],
)
def test_activity_validation_names_the_field(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        activity(**kw)
    assert e.value.field == field


def test_activity_state_machine() -> None:
    a = activity()
    assert a.start == T
    assert a.end == W.end
    active = a.transition("active", T)
    assert (active.state, active.version) == (ActivityState.ACTIVE, 2)
    assert active.transition("ended", T).state is ActivityState.ENDED
    assert a.transition("cancelled", T).state is ActivityState.CANCELLED
    for bad_from, to in [
        (a, "ended"),
        (active, "notified"),
        (active.transition("ended", T), "active"),
    ]:
        with pytest.raises(InvalidTransition):
            bad_from.transition(to, T)
    with pytest.raises(InvalidTransition):
        a.transition("cancelled", T).amended(T, title="again")


def test_amended_bumps_the_version_and_keeps_identity() -> None:
    a = activity()
    b = a.amended(T + timedelta(minutes=1), title="Medevac 2", priority="flash")
    assert (b.id, b.owner, b.version, b.title, b.priority.value) == (
        a.id,
        a.owner,
        2,
        "Medevac 2",
        "flash",
    )
    assert b.created_at == a.created_at
    assert b.updated_at > a.updated_at


def test_party_validation() -> None:
    p = Party(uuid4(), " Blue ", "armed_force", T, languages=("en", "fr-FR"))
    assert p.name == "Blue"
    with pytest.raises(InvalidInput) as e:
        Party(uuid4(), "Blue", "armed_force", T, languages=("en fr",))
    assert e.value.field == "languages[0]"
    with pytest.raises(InvalidInput) as e:
        Party(uuid4(), "Blue", "navy", T)
    assert e.value.field == "kind"


def test_site_validation_and_withdrawal() -> None:
    s = ProtectedSite(
        uuid4(), uuid4(), "medical", "Hospital", Circle((2.3, 48.8), 100.0), W, T, T, buffer_m=250
    )
    assert s.buffer_m == 250.0
    assert s.volume.time == W
    w = s.withdrawn(T)
    assert (w.state, w.version) == (SiteState.WITHDRAWN, 2)
    with pytest.raises(InvalidTransition):
        w.withdrawn(T)
    for bad, field in [
        ({"buffer_m": -1.0}, "buffer_m"),
        ({"buffer_m": float("nan")}, "buffer_m"),
        ({"category": "castle"}, "category"),
        ({"name": ""}, "name"),
    ]:
        with pytest.raises(InvalidInput) as e:
            replace(s, **bad)  # type: ignore[arg-type]
        assert e.value.field == field


def test_notice_lead_time_and_late_flag() -> None:
    def n(start_after: timedelta, required_s: float) -> Notice:
        return Notice(
            uuid4(),
            uuid4(),
            uuid4(),
            1,
            "new",
            T,
            T + start_after,
            required_s,
            T + timedelta(minutes=15),
        )

    assert n(timedelta(minutes=1), 3600).late
    assert not n(timedelta(hours=1), 3600).late  # exactly the minimum is enough
    assert n(-timedelta(minutes=5), 0).lead_time_s == -300.0  # already started
    assert n(-timedelta(minutes=5), 0).late
    s = n(timedelta(hours=2), 3600).superseded(T)
    assert s.status is NoticeStatus.SUPERSEDED
    assert s.status_at == T
