"""Operational intent and constraint references: query, get, create, update, delete.

An operational intent is also an activity (kind ``uas_operation``), and a constraint one of
kind ``airspace_reservation``, of the party its USS is mapped to, filed, amended and
cancelled through the hotline's own services in the same transaction as the reference: the
other parties are told of it as of any filing, and whoever files over it learns of it. The OVN and key rules are the interface's: a write
into the Accepted or Activated state must hold in its ``key`` the OVN of every other
manager's operational intent its extents meet (and of every constraint, when its
subscription asks for constraints), else 409 with the missing ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from deconfliction.hotline import ActivityDraft, FilingResult, Transaction
from deconfliction.interop._dss_auth import CONSTRAINT_PROCESSING, DssClient
from deconfliction.interop._dss_core import (
    CONSTRAINT,
    OPERATIONAL_INTENT,
    DssCore,
    sql,
)
from deconfliction.interop._dss_cover import covers
from deconfliction.interop._dss_errors import DssError
from deconfliction.interop._dss_schemas import (
    PutConstraintIn,
    PutIntentIn,
    QueryIn,
    base_url,
    entity_id,
    uuid7,
)
from deconfliction.model import Activity, ActivityKind
from deconfliction.store import (
    DssEntityRow,
    DssSubscriptionRow,
    SqlTransaction,
    delete_dss_entity,
    delete_dss_subscription,
    dss_entities_using,
    get_dss_entity,
    get_dss_subscription,
    put_dss_entity,
    put_dss_subscription,
)

__all__ = ["EntityServices"]


KEY_STATES = frozenset({"Accepted", "Activated"})
"""States whose writes need a key (and which a Down USS may not write)."""
FLYING_STATES = frozenset({"Activated", "Nonconforming", "Contingent"})
OVN_SUFFIX_SKEW_S = 60.0
"""How far a requested OVN suffix's UUIDv7 time may be from the hub's clock."""


def _check_current(
    cur: DssEntityRow | None, type_: str, client: DssClient, ovn: str | None
) -> None:
    """Refuse a create over an existing reference, or a change of one that is missing
    (404), another manager's (403) or at another OVN (409)."""
    if ovn is None:
        if cur is not None:
            raise DssError(409, f"an entity with id {cur.id} already exists")
        return
    if cur is None or cur.type != type_:
        raise DssError(404, f"no {type_.replace('_', ' ')} reference has this id")
    if cur.manager != client.manager:
        raise DssError(403, f"this {type_.replace('_', ' ')} is managed by another USS")
    if cur.ovn != ovn:
        raise DssError(409, "the ovn is not the current one of this entity (read it again)")


def _new_ovn(eid: UUID, suffix: str | None, now: datetime) -> str:
    if suffix is None:
        return str(uuid4())
    u = uuid7(suffix, "requested_ovn_suffix")
    at_s = int(u.hex[:12], 16) / 1000.0
    if abs(at_s - now.timestamp()) > OVN_SUFFIX_SKEW_S:
        raise DssError(400, "requested_ovn_suffix: its time is too far from the DSS's clock")
    return f"{eid}_{suffix}"


class EntityServices(DssCore):
    """Operational intent and constraint references."""

    # -- reads --------------------------------------------------------------------------------

    def query(self, client: DssClient, type_: str, body: QueryIn) -> list[dict[str, Any]]:
        aoi = self.area_of_interest(body.area_of_interest)
        with self.read() as tx:
            rows = self.meeting(tx, type_, [aoi], self.now(), limit=self.limits.max_results)
            return [self.ref_json(tx, e, client.manager) for e in rows]

    def get(self, client: DssClient, type_: str, eid: UUID) -> dict[str, Any]:
        with self.read() as tx:
            e = get_dss_entity(tx, eid)
            if e is None or e.type != type_:
                raise DssError(404, f"no {type_.replace('_', ' ')} reference has this id")
            return self.ref_json(tx, e, client.manager)

    # -- operational intents ------------------------------------------------------------------

    def put_intent(
        self, client: DssClient, eid: UUID, ovn: str | None, body: PutIntentIn
    ) -> dict[str, Any]:
        """Create (``ovn`` None) or update an operational intent, and its activity."""
        now = self.now()
        extents = self.extents(body.extents, now)
        url = base_url(body.uss_base_url)
        if body.new_subscription is not None:
            base_url(body.new_subscription.uss_base_url, "new_subscription.uss_base_url")
            if body.new_subscription.notify_for_constraints and not client.has(
                CONSTRAINT_PROCESSING
            ):
                raise DssError(403, f"notify_for_constraints needs {CONSTRAINT_PROCESSING}")
        sub_id = (
            entity_id(body.subscription_id, "subscription_id") if body.subscription_id else None
        )
        new_ovn = _new_ovn(eid, body.requested_ovn_suffix, now)
        with self.read() as tx:
            cur = get_dss_entity(tx, eid)
            _check_current(cur, OPERATIONAL_INTENT, client, ovn)
            act = (
                None if cur is None or cur.activity_id is None else tx.get_activity(cur.activity_id)
            )
        title = f"UAS operation (ASTM F3548-21 intent {eid} of {client.manager})"[:200]
        draft = ActivityDraft(
            ActivityKind.UAS_OPERATION,
            title,
            extents,
            remarks=f"F3548 state {body.state}; details from {url}",
        )
        out: dict[str, Any] = {}

        def within(tx_: Transaction, a: Activity) -> None:
            tx = sql(tx_)
            now = a.updated_at
            cur = get_dss_entity(tx, eid)
            _check_current(cur, OPERATIONAL_INTENT, client, ovn)
            if body.state in KEY_STATES and self.availability(tx, client.manager) == "Down":
                raise DssError(
                    412, f"USS {client.manager} is Down: it may not plan or activate intents"
                )
            sub = self._intent_subscription(tx, client, eid, cur, body, sub_id, extents, now)
            if body.state in KEY_STATES:
                self._check_key(tx, client, eid, extents, set(body.key or ()), sub, now)
            row = DssEntityRow(
                eid,
                OPERATIONAL_INTENT,
                client.manager,
                1 if cur is None else cur.version + 1,
                new_ovn,
                url,
                extents,
                now,
                state=body.state,
                subscription_id=None if sub is None else sub.id,
                party_id=a.owner,
                activity_id=a.id,
            )
            put_dss_entity(tx, row)
            changed = extents if cur is None else (*extents, *cur.extents)
            out["subscribers"] = self.notify(tx, changed, now, intents=True)
            out["operational_intent_reference"] = self.ref_json(tx, row, client.manager)

        self._carry(client, act, draft, within, activate=body.state in FLYING_STATES)
        return out

    def _carry(
        self,
        client: DssClient,
        act: Activity | None,
        draft: ActivityDraft,
        within: Callable[[Transaction, Activity], None],
        *,
        activate: bool = False,
    ) -> FilingResult:
        """File the activity that carries a reference on the hotline, or amend it (filed
        anew when its owner ended or cancelled it), and with ``activate`` make it active;
        ``within`` stores the reference — all in one transaction."""
        p = client.principal
        if act is None or not act.state.is_live:
            return self.hotline.file(p, draft, within=within, activate=activate)
        return self.hotline.amend(p, act.id, act.version, draft, within=within, activate=activate)

    def _remove(
        self,
        client: DssClient,
        type_: str,
        eid: UUID,
        ovn: str,
        work: Callable[[SqlTransaction, DssEntityRow, datetime], dict[str, Any]],
    ) -> dict[str, Any]:
        """Delete a reference (``work`` does it, given the current row) and cancel the
        activity that carries it, if still live, in one transaction."""
        with self.read() as tx:
            cur = get_dss_entity(tx, eid)
            _check_current(cur, type_, client, ovn)
            act = (
                None if cur is None or cur.activity_id is None else tx.get_activity(cur.activity_id)
            )
        out: dict[str, Any] = {}

        def run(tx_: Transaction, now: datetime) -> dict[str, Any]:
            tx = sql(tx_)
            cur = get_dss_entity(tx, eid)
            _check_current(cur, type_, client, ovn)
            assert cur is not None
            out.update(work(tx, cur, now))
            return out

        def within(tx: Transaction, a: Activity) -> None:
            run(tx, a.updated_at)

        if act is not None and act.state.is_live:
            self.hotline.cancel(client.principal, act.id, act.version, within=within)
            return out
        return self.hotline.transact(run)

    def _intent_subscription(
        self,
        tx: SqlTransaction,
        client: DssClient,
        eid: UUID,
        cur: DssEntityRow | None,
        body: PutIntentIn,
        sub_id: UUID | None,
        extents: Sequence[Any],
        now: datetime,
    ) -> DssSubscriptionRow | None:
        """The subscription the intent uses: the one named, an implicit one (created, or
        the intent's own updated to its new extents), the one it had, or none (Accepted)."""
        old_id = None if cur is None else cur.subscription_id
        old = None if old_id is None else get_dss_subscription(tx, old_id)
        if sub_id is not None:
            s = get_dss_subscription(tx, sub_id)
            if s is None or s.manager != client.manager:
                raise DssError(400, "subscription_id names no subscription of this USS")
            if not s.notify_for_operational_intents:
                raise DssError(400, "the subscription must notify for operational intents")
            if not covers(s.extents, extents):
                raise DssError(
                    400,
                    "the subscription does not cover the operational intent: its area must "
                    "hold the intent's (to within 1 m) and its time span the intent's",
                )
            if old is not None and old.implicit and old.id != s.id:
                self._drop_implicit(tx, old, eid)
            return s
        implicit = old if old is not None and old.implicit else None
        if body.new_subscription is None and old is None:
            if body.state != "Accepted":
                raise DssError(
                    400, f"an intent {body.state} needs subscription_id or new_subscription"
                )
            return None
        if body.new_subscription is None and implicit is None:
            return old  # an explicit subscription of the USS, kept
        ns = body.new_subscription
        if ns is not None:
            url, constraints = ns.uss_base_url, ns.notify_for_constraints
        else:
            assert implicit is not None
            url, constraints = implicit.uss_base_url, implicit.notify_for_constraints
        s = DssSubscriptionRow(
            uuid4() if implicit is None else implicit.id,
            client.manager,
            1 if implicit is None else implicit.version + 1,
            0 if implicit is None else implicit.notification_index,
            url,
            True,
            constraints,
            True,
            tuple(extents),
            now,
        )
        put_dss_subscription(tx, s)
        return s

    @staticmethod
    def _drop_implicit(tx: SqlTransaction, sub: DssSubscriptionRow, leaving: UUID) -> None:
        """Delete an implicit subscription once no intent but ``leaving`` uses it."""
        if sub.implicit and all(i == leaving for i in dss_entities_using(tx, sub.id)):
            delete_dss_subscription(tx, sub.id)

    def _check_key(
        self,
        tx: SqlTransaction,
        client: DssClient,
        eid: UUID,
        extents: Sequence[Any],
        key: set[str],
        sub: DssSubscriptionRow | None,
        now: datetime,
    ) -> None:
        """409 unless ``key`` holds the OVN of every other manager's intent (and, for a
        USS processing constraints, every constraint) that ``extents`` meet."""
        missing = [
            e
            for e in self.meeting(tx, OPERATIONAL_INTENT, extents, now)
            if e.id != eid and e.manager != client.manager and e.ovn not in key
        ]
        constraints = []
        if sub is not None and sub.notify_for_constraints:
            constraints = [
                e for e in self.meeting(tx, CONSTRAINT, extents, now) if e.ovn not in key
            ]
        if missing or constraints:
            raise DssError(
                409,
                f"the key lacks the OVN of {len(missing)} operational intent(s) and "
                f"{len(constraints)} constraint(s) in these extents: obtain them from their "
                "USSs and try again",
                {
                    "missing_operational_intents": [
                        self.ref_json(tx, e, client.manager) for e in missing
                    ],
                    "missing_constraints": [
                        self.ref_json(tx, e, client.manager) for e in constraints
                    ],
                },
            )

    def delete_intent(self, client: DssClient, eid: UUID, ovn: str) -> dict[str, Any]:
        """Remove an operational intent; its activity is cancelled (if still live)."""

        def work(tx: SqlTransaction, cur: DssEntityRow, now: datetime) -> dict[str, Any]:
            if self.availability(tx, client.manager) == "Down":
                raise DssError(412, f"USS {client.manager} is Down: it may not delete intents")
            delete_dss_entity(tx, eid)
            sub = (
                None
                if cur.subscription_id is None
                else get_dss_subscription(tx, cur.subscription_id)
            )
            if sub is not None:
                self._drop_implicit(tx, sub, eid)
            return {
                "subscribers": self.notify(tx, cur.extents, now, intents=True),
                "operational_intent_reference": self.ref_json(tx, cur, client.manager),
            }

        return self._remove(client, OPERATIONAL_INTENT, eid, ovn, work)

    # -- constraints --------------------------------------------------------------------------

    def put_constraint(
        self, client: DssClient, eid: UUID, ovn: str | None, body: PutConstraintIn
    ) -> dict[str, Any]:
        """Create (``ovn`` None) or update a constraint, and the activity that carries it:
        an airspace reservation of the manager's party, so that every party of the hotline
        learns of it as of any other reservation."""
        now = self.now()
        extents = self.extents(body.extents, now)
        url = base_url(body.uss_base_url)
        with self.read() as tx:
            cur = get_dss_entity(tx, eid)
            _check_current(cur, CONSTRAINT, client, ovn)
            act = (
                None if cur is None or cur.activity_id is None else tx.get_activity(cur.activity_id)
            )
        title = f"Airspace constraint (ASTM F3548-21 constraint {eid} of {client.manager})"[:200]
        draft = ActivityDraft(
            ActivityKind.AIRSPACE_RESERVATION, title, extents, remarks=f"details from {url}"
        )
        out: dict[str, Any] = {}

        def within(tx_: Transaction, a: Activity) -> None:
            tx = sql(tx_)
            now = a.updated_at
            cur = get_dss_entity(tx, eid)
            _check_current(cur, CONSTRAINT, client, ovn)
            version = 1 if cur is None else cur.version + 1
            row = DssEntityRow(
                eid,
                CONSTRAINT,
                client.manager,
                version,
                str(uuid4()),
                url,
                extents,
                now,
                party_id=a.owner,
                activity_id=a.id,
            )
            put_dss_entity(tx, row)
            changed = extents if cur is None else (*extents, *cur.extents)
            out["subscribers"] = self.notify(tx, changed, now, intents=False)
            out["constraint_reference"] = self.ref_json(tx, row, client.manager)

        self._carry(client, act, draft, within)
        return out

    def delete_constraint(self, client: DssClient, eid: UUID, ovn: str) -> dict[str, Any]:
        """Remove a constraint; its activity is cancelled (if still live)."""

        def work(tx: SqlTransaction, cur: DssEntityRow, now: datetime) -> dict[str, Any]:
            delete_dss_entity(tx, eid)
            return {
                "subscribers": self.notify(tx, cur.extents, now, intents=False),
                "constraint_reference": self.ref_json(tx, cur, client.manager),
            }

        return self._remove(client, CONSTRAINT, eid, ovn, work)
