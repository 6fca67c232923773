"""The ASTM F3548-21 discovery service's rows: entity references, subscriptions,
availability and reports.

Plain rows only: what they mean (OVN and key rules, notification indices, which areas
meet) is ``deconfliction.interop``'s business, which calls these functions inside the
hotline's write transactions (so a reference and the activity carrying it are stored
together) or in a read transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from deconfliction.geo import Volume4D, volume_from_record, volume_to_record
from deconfliction.store._schema import (
    dss_availability,
    dss_entities,
    dss_reports,
    dss_subscriptions,
)
from deconfliction.store._store import SqlTransaction

__all__ = [
    "DssEntityRow",
    "DssSubscriptionRow",
    "add_dss_report",
    "bump_dss_notifications",
    "delete_dss_entity",
    "delete_dss_subscription",
    "dss_availability_of",
    "dss_entities_between",
    "dss_entities_using",
    "dss_subscriptions_between",
    "get_dss_entity",
    "get_dss_subscription",
    "put_dss_availability",
    "put_dss_entity",
    "put_dss_subscription",
]


class _Spanned:
    """The time span of a row's ``extents``."""

    __slots__ = ()
    extents: tuple[Volume4D, ...]

    @property
    def time_start(self) -> datetime:
        return min(v.time.start for v in self.extents)

    @property
    def time_end(self) -> datetime:
        return max(v.time.end for v in self.extents)


@dataclass(frozen=True, slots=True)
class DssEntityRow(_Spanned):
    """An operational intent (``type`` ``"operational_intent"``, with its state, the
    subscription it uses and the hotline activity carrying it) or a constraint reference."""

    id: UUID
    type: str
    manager: str
    version: int
    ovn: str
    uss_base_url: str
    extents: tuple[Volume4D, ...]
    updated_at: datetime
    state: str | None = None
    subscription_id: UUID | None = None
    party_id: UUID | None = None
    activity_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class DssSubscriptionRow(_Spanned):
    """A subscription: its area, what it asks to be told of and its notification index."""

    id: UUID
    manager: str
    version: int
    notification_index: int
    uss_base_url: str
    notify_for_operational_intents: bool
    notify_for_constraints: bool
    implicit: bool
    extents: tuple[Volume4D, ...]
    updated_at: datetime


_ENTITY_FIELDS = [
    "id",
    "type",
    "manager",
    "version",
    "ovn",
    "state",
    "uss_base_url",
    "subscription_id",
    "party_id",
    "activity_id",
    "updated_at",
]
_SUB_FIELDS = [
    "id",
    "manager",
    "version",
    "notification_index",
    "uss_base_url",
    "notify_for_operational_intents",
    "notify_for_constraints",
    "implicit",
    "updated_at",
]


def _row(obj: DssEntityRow | DssSubscriptionRow, fields: Sequence[str]) -> dict[str, Any]:
    out = {f: getattr(obj, f) for f in fields}
    out |= {
        "time_start": obj.time_start,
        "time_end": obj.time_end,
        "extents": [volume_to_record(v) for v in obj.extents],
    }
    return out


def _extents(rec: Any) -> tuple[Volume4D, ...]:
    return tuple(volume_from_record(r) for r in rec)


def _entity(r: sa.RowMapping) -> DssEntityRow:
    return DssEntityRow(**{f: r[f] for f in _ENTITY_FIELDS}, extents=_extents(r["extents"]))


def _subscription(r: sa.RowMapping) -> DssSubscriptionRow:
    return DssSubscriptionRow(**{f: r[f] for f in _SUB_FIELDS}, extents=_extents(r["extents"]))


def _put(tx: SqlTransaction, table: sa.Table, row: dict[str, Any], what: str) -> None:
    tx._write(sa.delete(table).where(table.c.id == row["id"]), what)
    tx._write(sa.insert(table), what, [row])


# -- entity references ------------------------------------------------------------------------


def put_dss_entity(tx: SqlTransaction, entity: DssEntityRow) -> None:
    """Insert or replace the reference ``entity.id``."""
    _put(tx, dss_entities, _row(entity, _ENTITY_FIELDS), f"put dss entity {entity.id}")


def get_dss_entity(tx: SqlTransaction, entity_id: UUID) -> DssEntityRow | None:
    """The reference, or None."""
    row = tx._one(sa.select(dss_entities).where(dss_entities.c.id == entity_id), "dss entity")
    return None if row is None else _entity(row)


def delete_dss_entity(tx: SqlTransaction, entity_id: UUID) -> None:
    """Remove the reference (nothing happens if there is none)."""
    tx._write(sa.delete(dss_entities).where(dss_entities.c.id == entity_id), "delete dss entity")


def dss_entities_between(
    tx: SqlTransaction,
    type_: str,
    start: datetime,
    end: datetime,
) -> list[DssEntityRow]:
    """References of ``type_`` whose time span meets ``[start, end]``, by id."""
    c = dss_entities.c
    stmt = sa.select(dss_entities).where(c.type == type_, c.time_end >= start, c.time_start <= end)
    return [_entity(r) for r in tx._all(stmt.order_by(c.id), "dss entities")]


def dss_entities_using(tx: SqlTransaction, subscription_id: UUID) -> list[UUID]:
    """The ids of the operational intents that use the subscription, in order."""
    c = dss_entities.c
    stmt = sa.select(c.id).where(c.subscription_id == subscription_id).order_by(c.id)
    return [r["id"] for r in tx._all(stmt, "dss entities using")]


# -- subscriptions ----------------------------------------------------------------------------


def put_dss_subscription(tx: SqlTransaction, sub: DssSubscriptionRow) -> None:
    """Insert or replace the subscription ``sub.id``."""
    _put(tx, dss_subscriptions, _row(sub, _SUB_FIELDS), f"put dss subscription {sub.id}")


def get_dss_subscription(tx: SqlTransaction, sub_id: UUID) -> DssSubscriptionRow | None:
    """The subscription, or None."""
    stmt = sa.select(dss_subscriptions).where(dss_subscriptions.c.id == sub_id)
    row = tx._one(stmt, "dss subscription")
    return None if row is None else _subscription(row)


def delete_dss_subscription(tx: SqlTransaction, sub_id: UUID) -> None:
    """Remove the subscription (nothing happens if there is none)."""
    stmt = sa.delete(dss_subscriptions).where(dss_subscriptions.c.id == sub_id)
    tx._write(stmt, "delete dss subscription")


def dss_subscriptions_between(
    tx: SqlTransaction, start: datetime, end: datetime, *, manager: str | None = None
) -> list[DssSubscriptionRow]:
    """Subscriptions whose time span meets ``[start, end]`` (only ``manager``'s when
    given), by id."""
    c = dss_subscriptions.c
    stmt = sa.select(dss_subscriptions).where(c.time_end >= start, c.time_start <= end)
    if manager is not None:
        stmt = stmt.where(c.manager == manager)
    return [_subscription(r) for r in tx._all(stmt.order_by(c.id), "dss subscriptions")]


def bump_dss_notifications(tx: SqlTransaction, sub_ids: Collection[UUID]) -> dict[UUID, int]:
    """Add one to the notification index of each subscription; return the new indices."""
    if not sub_ids:
        return {}
    c = dss_subscriptions.c
    ids = sorted(set(sub_ids))
    tx._write(
        sa.update(dss_subscriptions)
        .where(c.id.in_(ids))
        .values(notification_index=c.notification_index + 1),
        "bump dss notification indices",
    )
    rows = tx._all(sa.select(c.id, c.notification_index).where(c.id.in_(ids)), "dss indices")
    return {r["id"]: int(r["notification_index"]) for r in rows}


# -- availability and reports -----------------------------------------------------------------


def dss_availability_of(tx: SqlTransaction, manager: str) -> tuple[str, int] | None:
    """The manager's availability and its version, or None (never set)."""
    c = dss_availability.c
    row = tx._one(
        sa.select(c.availability, c.version).where(c.manager == manager), "dss availability"
    )
    return None if row is None else (str(row["availability"]), int(row["version"]))


def put_dss_availability(
    tx: SqlTransaction, manager: str, availability: str, version: int, at: datetime
) -> None:
    """Set the manager's availability at ``version``."""
    tx._write(
        sa.delete(dss_availability).where(dss_availability.c.manager == manager),
        "put dss availability",
    )
    row = {"manager": manager, "availability": availability, "version": version, "updated_at": at}
    tx._write(sa.insert(dss_availability), "put dss availability", [row])


def add_dss_report(
    tx: SqlTransaction, report_id: UUID, manager: str, at: datetime, report: dict[str, Any]
) -> None:
    """Archive an error report."""
    row = {"id": report_id, "manager": manager, "received_at": at, "report": report}
    tx._write(sa.insert(dss_reports), "add dss report", [row])
