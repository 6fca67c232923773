"""Assets: parties report where their aircraft, vehicles and teams are and how fast they
can move, so that an activity declared over them gets its *time-to-clear* figures.

``POST /v1/assets`` now; live tracks (a later part) feed the same table. Each report
replaces the asset's previous one (a report older than the one kept is ignored, so
out-of-order delivery never moves an asset back). The batch is one write: every report
is valid or none is taken, and it is recorded on the ledger (owner only: positions are
the party's own business until an activity is declared over them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

from deconfliction.errors import InvalidInput
from deconfliction.hotline._core import Core
from deconfliction.hotline._json import asset_json
from deconfliction.hotline._ports import Event, Fact, Principal, Transaction
from deconfliction.model import Asset, Role

__all__ = ["MAX_ASSET_REPORTS", "AssetReport", "AssetServices"]

MAX_ASSET_REPORTS = 1_000
"""Most reports in one batch."""

FUTURE_SLACK = timedelta(seconds=5)
"""How far ahead of the hub's clock a report's time may be (clock skew)."""


@dataclass(frozen=True, slots=True)
class AssetReport:
    """One asset's position and speeds as a party reports them (``at`` None: now)."""

    ref: str
    lon: float
    lat: float
    max_speed_mps: float
    speed_mps: float = 0.0
    altitude_m: float | None = None
    at: datetime | None = None
    name: str = ""


class AssetServices(Core):
    """Report and list a party's assets."""

    def report_assets(self, p: Principal, reports: Sequence[AssetReport]) -> list[Asset]:
        """Store the latest report of each asset (all or nothing); returns the assets."""
        self._need(p, Role.OPERATOR)
        if not reports:
            raise InvalidInput("assets", "must list at least one report")
        if len(reports) > MAX_ASSET_REPORTS:
            raise InvalidInput("assets", f"at most {MAX_ASSET_REPORTS} reports per request")
        refs = [r.ref.strip() for r in reports]
        if len(set(refs)) != len(refs):
            raise InvalidInput("assets", "an asset (ref) appears twice in one batch")

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> list[Asset]:
            del events
            kept: list[Asset] = []
            for i, r in enumerate(reports):
                at = r.at or now
                if at.tzinfo is None or at.utcoffset() is None:
                    raise InvalidInput(f"assets[{i}].at", "naive datetime: a timezone is required")
                if at > now + FUTURE_SLACK:
                    raise InvalidInput(f"assets[{i}].at", "is in the future (hub clock)")
                old = tx.asset_by_ref(p.party_id, r.ref.strip())
                if old is not None and at < old.reported_at:
                    kept.append(old)  # an older report than the one kept: ignored
                    continue
                try:
                    a = Asset(
                        old.id if old is not None else uuid4(),
                        p.party_id,
                        r.ref,
                        r.lon,
                        r.lat,
                        r.altitude_m,
                        r.speed_mps,
                        r.max_speed_mps,
                        at,
                        r.name,
                    )
                except InvalidInput as exc:
                    raise InvalidInput(f"assets[{i}].{exc.field}", exc.reason) from None
                tx.put_asset(a)
                kept.append(a)
            if self.recorder is not None:
                body = {"assets": [asset_json(a) for a in kept]}
                self.recorder.record(tx, now, p, [Fact("assets.reported", body)])

            def cache() -> None:
                for a in kept:
                    self._assets[a.id] = a

            after.append(cache)
            return kept

        return self._submit(run)

    def list_assets(self, p: Principal) -> list[Asset]:
        """The caller's party's assets."""
        with self.store.read() as tx:
            return tx.list_assets(p.party_id)
