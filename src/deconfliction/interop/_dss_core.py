"""The F3548 discovery service's shared parts: the hotline it lives on, its limits,
extents with their caps, references as the interface shows them, and subscribers.

Every write runs in a hotline write transaction (under the hub's writer lock and clock):
an operational intent's together with the activity that carries it, anything else through
:meth:`Hotline.transact <deconfliction.hotline.Hotline.transact>`. So two USSs writing at
once are ordered, and each one's key is checked against what the other committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from deconfliction.hotline import Hotline, Transaction
from deconfliction.interop._dss_errors import DssError
from deconfliction.interop._dss_volumes import (
    ALTITUDE_RANGE_M,
    TIME_RANGE,
    Volume4DIn,
    bounds,
    extents_json,
    extents_meet,
    to_volume,
)
from deconfliction.store import (
    DssEntityRow,
    SqlTransaction,
    bump_dss_notifications,
    dss_availability_of,
    dss_entities_between,
    dss_subscriptions_between,
)

__all__ = [
    "CONSTRAINT",
    "NULL_SUBSCRIPTION",
    "OPERATIONAL_INTENT",
    "OTHERS_OVN",
    "DssCore",
    "DssLimits",
    "sql",
]

OPERATIONAL_INTENT = "operational_intent"
CONSTRAINT = "constraint"
OTHERS_OVN = "Available from USS"
"""What another manager's entity shows instead of its OVN (its USS gives the OVN)."""
NULL_SUBSCRIPTION = UUID("00000000-0000-4000-8000-000000000000")
"""The subscription_id of an Accepted operational intent created without one."""


@dataclass(frozen=True, slots=True)
class DssLimits:
    """Caps on what the discovery service takes and returns (configurable in Settings)."""

    max_area_m2: float = 2_500e6
    max_results: int = 10_000


def sql(tx: Transaction) -> SqlTransaction:
    """The store's transaction behind the hotline's port (the DSS keeps its rows there)."""
    if not isinstance(tx, SqlTransaction):  # pragma: no cover - the hub always uses the store
        raise TypeError("the F3548 discovery service needs the SQL store")
    return tx


class DssCore:
    """State and helpers shared by the discovery service's parts."""

    def __init__(self, hotline: Callable[[], Hotline], limits: DssLimits = DssLimits()) -> None:
        self._hotline = hotline
        self.limits = limits

    @property
    def hotline(self) -> Hotline:
        return self._hotline()

    def now(self) -> datetime:
        return self.hotline.clock.now().astimezone(UTC)

    @contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        """A read transaction on one snapshot."""
        with self.hotline.store.read() as tx:
            yield sql(tx)

    # -- extents ------------------------------------------------------------------------------

    def capped(self, vol: Any, field: str, status: int) -> None:
        """Refuse a footprint above the area cap with ``status`` (413, or 400 where the
        interface lists no 413)."""
        area = vol.footprint.area_m2
        if area > self.limits.max_area_m2:
            raise DssError(
                status,
                f"{field}: the area is too large ({area / 1e6:,.0f} km² above the cap of "
                f"{self.limits.max_area_m2 / 1e6:,.0f} km²)",
            )

    def extents(self, items: Sequence[Volume4DIn], now: datetime) -> tuple[Any, ...]:
        """The volumes of a write's ``extents`` (times and altitudes required, end not in
        the past, each under the area cap: else 413)."""
        out = []
        for i, item in enumerate(items):
            field = f"extents[{i}]"
            vol = to_volume(item, field)
            if vol.time.end < now:
                raise DssError(400, f"{field}.time_end: the end time may not be in the past")
            self.capped(vol, field, 413)
            out.append(vol)
        return tuple(out)

    def area_of_interest(self, aoi: Volume4DIn | None, status: int = 413) -> Any:
        """The volume of a query's ``area_of_interest`` (times and altitudes optional)."""
        if aoi is None:
            raise DssError(400, "area_of_interest is required")
        vol = to_volume(aoi, "area_of_interest", start=TIME_RANGE[0], end=TIME_RANGE[1],
                        altitudes=ALTITUDE_RANGE_M)  # fmt: skip
        self.capped(vol, "area_of_interest", status)
        return vol

    # -- references ---------------------------------------------------------------------------

    def meeting(
        self,
        tx: SqlTransaction,
        type_: str,
        extents: Sequence[Any],
        now: datetime,
        *,
        limit: int | None = None,
    ) -> list[DssEntityRow]:
        """References of ``type_`` not yet ended that meet ``extents``."""
        t0, t1 = bounds(extents)
        out = []
        for e in dss_entities_between(tx, type_, max(t0, now), t1):
            if extents_meet(e.extents, extents):
                out.append(e)
                if limit is not None and len(out) >= limit:
                    break
        return out

    @staticmethod
    def availability(tx: SqlTransaction, manager: str) -> str:
        got = dss_availability_of(tx, manager)
        return "Unknown" if got is None else got[0]

    def ref_json(self, tx: SqlTransaction, e: DssEntityRow, viewer: str) -> dict[str, Any]:
        """An OperationalIntentReference or ConstraintReference as ``viewer`` sees it."""
        out: dict[str, Any] = {
            "id": str(e.id),
            "manager": e.manager,
            "uss_availability": self.availability(tx, e.manager),
            "version": e.version,
            "ovn": e.ovn if e.manager == viewer else OTHERS_OVN,
            **extents_json(e.extents),
            "uss_base_url": e.uss_base_url,
        }
        if e.type == OPERATIONAL_INTENT:
            out["state"] = e.state
            out["subscription_id"] = str(e.subscription_id or NULL_SUBSCRIPTION)
        return out

    # -- subscribers --------------------------------------------------------------------------

    def notify(
        self, tx: SqlTransaction, extents: Sequence[Any], now: datetime, *, intents: bool
    ) -> list[dict[str, Any]]:
        """The subscribers the writer must notify of a change over ``extents``: every
        subscription (the writer's too) not yet ended, asking for this kind of entity,
        whose area meets them; their notification indices go up by one."""
        t0, t1 = bounds(extents)
        subs = [
            s
            for s in dss_subscriptions_between(tx, max(t0, now), t1)
            if (s.notify_for_operational_intents if intents else s.notify_for_constraints)
            and extents_meet(s.extents, extents)
        ]
        index = bump_dss_notifications(tx, [s.id for s in subs])
        by_url: dict[str, list[dict[str, Any]]] = {}
        for s in subs:
            by_url.setdefault(s.uss_base_url, []).append(
                {"subscription_id": str(s.id), "notification_index": index[s.id]}
            )
        return [{"uss_base_url": u, "subscriptions": ss} for u, ss in by_url.items()]
