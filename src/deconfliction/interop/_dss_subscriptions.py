"""Subscriptions (query, get, create, update, delete), USS availability and reports.

A subscription is an area a USS wants to hear about: its notification index counts the
changes it was named in (the writer of each change is told to notify it). It lasts at most
24 hours (default: 24 hours from its start, which defaults to now); the implicit ones an
operational intent creates follow that intent instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from deconfliction.hotline import Transaction
from deconfliction.interop._dss_auth import (
    CONSTRAINT_PROCESSING,
    STRATEGIC_COORDINATION,
    DssClient,
)
from deconfliction.interop._dss_core import CONSTRAINT, OPERATIONAL_INTENT, sql
from deconfliction.interop._dss_entities import EntityServices
from deconfliction.interop._dss_errors import DssError
from deconfliction.interop._dss_schemas import (
    AvailabilityIn,
    ErrorReportIn,
    PutSubscriptionIn,
    QueryIn,
    base_url,
)
from deconfliction.interop._dss_volumes import (
    ALTITUDE_RANGE_M,
    extents_meet,
    parse_time,
    time_json,
    to_volume,
)
from deconfliction.store import (
    DssSubscriptionRow,
    SqlTransaction,
    add_dss_report,
    delete_dss_subscription,
    dss_availability_of,
    dss_entities_using,
    dss_subscriptions_between,
    get_dss_subscription,
    put_dss_availability,
    put_dss_subscription,
)

__all__ = ["Dss", "SUBSCRIPTION_MAX"]

SUBSCRIPTION_MAX = timedelta(hours=24)
"""The longest a subscription may last (and its default duration)."""


def _sub_json(tx: SqlTransaction, s: DssSubscriptionRow) -> dict[str, Any]:
    return {
        "id": str(s.id),
        "version": str(s.version),
        "notification_index": s.notification_index,
        "time_start": time_json(s.time_start),
        "time_end": time_json(s.time_end),
        "uss_base_url": s.uss_base_url,
        "notify_for_operational_intents": s.notify_for_operational_intents,
        "notify_for_constraints": s.notify_for_constraints,
        "implicit_subscription": s.implicit,
        "dependent_operational_intents": [str(i) for i in dss_entities_using(tx, s.id)],
    }


def _version(got: tuple[str, int] | None) -> str:
    return "" if got is None else str(got[1])


class Dss(EntityServices):
    """The F3548 discovery service over a hotline: every ``/dss/v1`` operation."""

    # -- subscriptions ------------------------------------------------------------------------

    def query_subscriptions(self, client: DssClient, body: QueryIn) -> list[dict[str, Any]]:
        """The caller's subscriptions (not yet ended) whose area meets the area of interest."""
        aoi = self.area_of_interest(body.area_of_interest)
        now = self.now()
        with self.read() as tx:
            subs = dss_subscriptions_between(
                tx, max(aoi.time.start, now), aoi.time.end, manager=client.manager
            )
            hits = [s for s in subs if extents_meet(s.extents, [aoi])]
            return [_sub_json(tx, s) for s in hits[: self.limits.max_results]]

    def get_subscription(self, client: DssClient, sid: UUID) -> dict[str, Any]:
        with self.read() as tx:
            s = get_dss_subscription(tx, sid)
            if s is None:
                raise DssError(404, "no subscription has this id")
            if s.manager != client.manager:
                raise DssError(403, "this subscription is managed by another USS")
            return _sub_json(tx, s)

    def _sub_extents(self, body: PutSubscriptionIn, now: datetime) -> Any:
        e = body.extents
        start = parse_time(e.time_start, "extents.time_start") if e.time_start else now
        end = parse_time(e.time_end, "extents.time_end") if e.time_end else start + SUBSCRIPTION_MAX
        vol = to_volume(e, "extents", start=start, end=end, altitudes=ALTITUDE_RANGE_M)
        if vol.time.end < now:
            raise DssError(400, "extents.time_end: the end time may not be in the past")
        if vol.time.end - vol.time.start > SUBSCRIPTION_MAX:
            raise DssError(400, "extents: a subscription lasts at most 24 hours")
        self.capped(vol, "extents", 400)
        return vol

    def put_subscription(
        self, client: DssClient, sid: UUID, version: str | None, body: PutSubscriptionIn
    ) -> dict[str, Any]:
        """Create (``version`` None) or update a subscription; with it, the references its
        area meets now (of the kinds it asks for)."""
        if body.notify_for_operational_intents and not client.has(STRATEGIC_COORDINATION):
            raise DssError(403, f"notify_for_operational_intents needs {STRATEGIC_COORDINATION}")
        if body.notify_for_constraints and not client.has(CONSTRAINT_PROCESSING):
            raise DssError(403, f"notify_for_constraints needs {CONSTRAINT_PROCESSING}")
        if not (body.notify_for_operational_intents or body.notify_for_constraints):
            raise DssError(400, "ask for notifications of operational intents, constraints or both")
        url = base_url(body.uss_base_url)
        vol = self._sub_extents(body, self.now())

        def work(tx_: Transaction, now: datetime) -> dict[str, Any]:
            tx = sql(tx_)
            cur = get_dss_subscription(tx, sid)
            if version is None and cur is not None:
                raise DssError(409, "a subscription with this id already exists")
            if version is not None:
                self._check_sub(cur, client, version)
            if (
                cur is not None
                and not body.notify_for_operational_intents
                and dss_entities_using(tx, sid)
            ):
                raise DssError(400, "operational intents depend on this subscription")
            row = DssSubscriptionRow(
                sid,
                client.manager,
                1 if cur is None else cur.version + 1,
                0 if cur is None else cur.notification_index,
                url,
                body.notify_for_operational_intents,
                body.notify_for_constraints,
                False if cur is None else cur.implicit,
                (vol,),
                now,
            )
            put_dss_subscription(tx, row)
            out: dict[str, Any] = {"subscription": _sub_json(tx, row)}
            limit = self.limits.max_results
            for flag, type_, name in (
                (body.notify_for_operational_intents, OPERATIONAL_INTENT, "operational_intent"),
                (body.notify_for_constraints, CONSTRAINT, "constraint"),
            ):
                if flag:
                    rows = self.meeting(tx, type_, [vol], now, limit=limit)
                    out[f"{name}_references"] = [self.ref_json(tx, e, client.manager) for e in rows]
            return out

        return self.hotline.transact(work)

    @staticmethod
    def _check_sub(cur: DssSubscriptionRow | None, client: DssClient, version: str) -> None:
        if cur is None:
            raise DssError(404, "no subscription has this id")
        if cur.manager != client.manager:
            raise DssError(409, "this subscription is managed by another USS")
        if str(cur.version) != version:
            raise DssError(409, f"the subscription is at version {cur.version}, not {version}")

    def delete_subscription(self, client: DssClient, sid: UUID, version: str) -> dict[str, Any]:
        def work(tx_: Transaction, _now: datetime) -> dict[str, Any]:
            tx = sql(tx_)
            cur = get_dss_subscription(tx, sid)
            self._check_sub(cur, client, version)
            assert cur is not None
            if dss_entities_using(tx, sid):
                raise DssError(400, "operational intents depend on this subscription")
            out = {"subscription": _sub_json(tx, cur)}
            delete_dss_subscription(tx, sid)
            return out

        return self.hotline.transact(work)

    # -- availability and reports -------------------------------------------------------------

    def get_availability(self, uss: str) -> dict[str, Any]:
        with self.read() as tx:
            got = dss_availability_of(tx, uss)
        state = "Unknown" if got is None else got[0]
        return {"status": {"uss": uss, "availability": state}, "version": _version(got)}

    def set_availability(self, uss: str, body: AvailabilityIn) -> dict[str, Any]:
        if not 1 <= len(uss) <= 255:
            raise DssError(400, "uss_id must be 1–255 characters")

        def work(tx_: Transaction, now: datetime) -> dict[str, Any]:
            tx = sql(tx_)
            got = dss_availability_of(tx, uss)
            if body.old_version != _version(got):
                raise DssError(
                    409, f"old_version {body.old_version!r} is not the current {_version(got)!r}"
                )
            version = 1 if got is None else got[1] + 1
            put_dss_availability(tx, uss, body.availability, version, now)
            return {
                "status": {"uss": uss, "availability": body.availability},
                "version": str(version),
            }

        return self.hotline.transact(work)

    def add_report(self, client: DssClient, body: ErrorReportIn) -> dict[str, Any]:
        """Archive a report (the fields the interface declares); it gets an id."""
        rid = uuid4()
        report = body.model_dump(mode="json", exclude_none=True) | {"report_id": str(rid)}

        def work(tx_: Transaction, now: datetime) -> None:
            add_dss_report(sql(tx_), rid, client.manager, now, report)

        self.hotline.transact(work)
        return report
