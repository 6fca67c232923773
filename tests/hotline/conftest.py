"""A hotline over a real SQLite store in a temp folder, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deconfliction.geo import AltitudeBand, Circle, Polygon, TimeWindow, Volume4D
from deconfliction.hotline import ActivityDraft, Event, Hotline, Principal
from deconfliction.model import ActivityKind, PartyKind, Policy, Role
from deconfliction.store import open_store, sqlite_url

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


@dataclass
class StepClock:
    """The hub clock, moved by the test."""

    t: datetime = T0

    def now(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


@dataclass
class Recorder:
    """An event sink that keeps what was published (the real bus is tested in tests/bus)."""

    events: list[Event] = field(default_factory=list)

    def publish(self, events: Sequence[Event]) -> None:
        self.events.extend(events)

    def of(self, party: Principal, type_: str | None = None) -> list[Event]:
        return [
            e
            for e in self.events
            if e.party_id == party.party_id and (type_ is None or e.type == type_)
        ]


@dataclass
class Hub:
    hotline: Hotline
    clock: StepClock
    sink: Recorder
    admin: Principal
    path: Path
    admin_secret: str = ""

    def party(
        self, name: str, kind: PartyKind = PartyKind.ARMED_FORCE, role: Role = Role.OPERATOR
    ) -> Principal:
        p = self.hotline.add_party(self.admin, name, kind)
        _info, secret = self.hotline.create_token(self.admin, p.id, role)
        return self.hotline.authenticate(secret)


def make_hub(path: Path, policy: Policy | None = None, admin_secret: str | None = None) -> Hub:
    """A hub on the store in ``path``; on an existing store pass the admin's secret."""
    clock, sink = StepClock(), Recorder()
    store = open_store(sqlite_url(path))
    h = Hotline(store, policy or Policy.default(), clock=clock, sink=sink)
    h.rebuild_index()
    boot = h.bootstrap()
    secret = boot[1] if boot is not None else admin_secret
    assert secret is not None
    hub = Hub(h, clock, sink, h.authenticate(secret), path)
    hub.admin_secret = secret
    return hub


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    h = make_hub(tmp_path)
    yield h
    h.hotline.store.close()


def circle(
    lon: float,
    lat: float,
    r: float = 2_000.0,
    *,
    start_min: float = 120,
    hours: float = 2,
    lo_ft: float = 0,
    hi_ft: float = 10_000,
) -> Volume4D:
    start = T0 + timedelta(minutes=start_min)
    return Volume4D(
        Circle((lon, lat), r),
        AltitudeBand.from_feet(lo_ft, hi_ft),
        TimeWindow(start, start + timedelta(hours=hours)),
    )


def square(
    lon: float, lat: float, d: float = 0.05, *, start_min: float = 120, hours: float = 2
) -> Volume4D:
    start = T0 + timedelta(minutes=start_min)
    ring = [(lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d)]
    return Volume4D(
        Polygon(ring),
        AltitudeBand.from_feet(0, 10_000),
        TimeWindow(start, start + timedelta(hours=hours)),
    )


def draft(
    *volumes: Volume4D,
    kind: ActivityKind = ActivityKind.AIR_OPERATION,
    title: str = "Op",
    remarks: str = "",
) -> ActivityDraft:
    return ActivityDraft(kind, title, tuple(volumes), remarks=remarks)
