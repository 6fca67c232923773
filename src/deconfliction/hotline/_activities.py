"""Activities: file, amend, activate, end, cancel, dry-run check."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from deconfliction.detect import SubjectKind
from deconfliction.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    VersionConflict,
)
from deconfliction.geo import (
    Volume4D,
    check_limits,
)
from deconfliction.hotline._core import Core
from deconfliction.hotline._detection import Found, activity_conflicts
from deconfliction.hotline._ports import (
    Disclosure,
    Event,
    IdempotencyRecord,
    Principal,
    Transaction,
)
from deconfliction.hotline._reconcile import (
    Outcome,
    receipt_from,
    reconcile_activity,
    replay_lists,
)
from deconfliction.hotline._results import (
    ActivityDraft,
    CheckResult,
    FilingResult,
    Idempotency,
    PreviewConflict,
    Signed,
)
from deconfliction.model import (
    Activity,
    ActivityState,
    Role,
)

__all__ = ["ActivityServices", "Within"]

Within = Callable[[Transaction, Activity], None]
"""Work of another service that must commit with an activity's version or not at all (the
F3548 discovery service's reference to it): called inside the write's transaction once the
version is stored, before anyone is told; raising undoes the whole write."""


class ActivityServices(Core):
    """Activities: file, amend, activate, end, cancel, dry-run check."""

    # ------------------------------------------------------------------ activities: writes

    def _validate(self, draft: ActivityDraft) -> None:
        """Everything filing would refuse (fields and caps), without storing anything."""
        now = self._now()
        Activity(
            uuid4(),
            uuid4(),
            draft.kind,
            draft.title,
            draft.volumes,
            now,
            now,
            draft.priority,
            remarks=draft.remarks,
        )
        kp = self.policy.for_kind(draft.kind)
        limits = replace(self.limits, max_area_m2=min(self.limits.max_area_m2, kp.max_area_m2))
        for i, v in enumerate(draft.volumes):
            if not isinstance(v, Volume4D):
                raise InvalidInput(f"volumes[{i}]", "must be a Volume4D")
            try:
                check_limits(v, limits)
            except InvalidInput as exc:
                raise type(exc)(f"volumes[{i}].{exc.field}", exc.reason) from None

    def _result(
        self,
        tx: Transaction,
        act: Activity,
        out: Outcome,
        now: datetime,
        conflicts: list[Any] | None = None,
    ) -> FilingResult:
        del tx
        kp = self.policy.for_kind(act.kind)
        return FilingResult(
            activity=act,
            conflicts=tuple(out.conflicts if conflicts is None else conflicts),
            notices=tuple(out.notices),
            lead_time_s=(act.start - now).total_seconds(),
            required_lead_time_s=kp.min_lead_time_s,
            receipt=out.receipt,
            links=dict(out.links),
        )

    @staticmethod
    def _replay_filing(tx: Transaction, rec: IdempotencyRecord) -> FilingResult:
        ref = rec.result
        act = tx.get_activity_version(UUID(ref["id"]), int(ref["version"]))
        if act is None:  # pragma: no cover - versions are never deleted
            raise NotFound("activity", ref["id"])
        cs, ns = replay_lists(tx, ref["conflicts"], ref["notices"])
        return FilingResult(
            act,
            cs,
            ns,
            float(ref["lead_time_s"]),
            float(ref["required_lead_time_s"]),
            replayed=True,
            receipt=receipt_from(ref),
        )

    def file(
        self,
        p: Principal,
        draft: ActivityDraft,
        *,
        idempotency: Idempotency | None = None,
        signed: Signed | None = None,
        within: Within | None = None,
        activate: bool = False,
    ) -> FilingResult:
        """Declare a new activity; every affected party gets a notice in the same transaction.
        ``activate``: and make it active in that same transaction (the result is then the
        activation's, as :meth:`activate` gives it)."""
        self._need(p, Role.OPERATOR)

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> FilingResult:
            rec = self._replayed(tx, p, idempotency)
            if rec is not None:
                return self._replay_filing(tx, rec)
            sig = self._signature(tx, p, signed)
            self._validate(draft)
            act = Activity(
                uuid4(),
                p.party_id,
                draft.kind,
                draft.title,
                draft.volumes,
                now,
                now,
                draft.priority,
                remarks=draft.remarks,
            )
            tx.add_activity(act)
            if within is not None:
                within(tx, act)
            found = activity_conflicts(
                self.index, self.policy, self._kinds, act.volumes, act.owner, act.kind
            )
            out = self._reconcile(tx, p, act, found, now, "filed", sig)
            result = self._result(tx, act, out, now)
            events.extend(out.events)
            after.append(lambda: self._index_activity(act))
            if activate:
                result = self._transition_in(
                    tx, p, act, ActivityState.ACTIVE, "activated", now, events, after
                )
            self._remember(tx, p, idempotency, self._ref(result), now)
            return result

        return self._submit(run)

    def _reconcile(
        self,
        tx: Transaction,
        p: Principal,
        act: Activity,
        found: Mapping[UUID, Found],
        now: datetime,
        change: str,
        signed: tuple[Any, Any] | None,
    ) -> Outcome:
        """:func:`reconcile_activity` with this hub's policy, ledger, links and (for a
        version that starts or moves) the time-to-clear of other parties' assets."""
        clearance = (
            self._clearance(act, now) if change in ("filed", "amended", "activated") else None
        )
        return reconcile_activity(
            tx,
            act,
            found,
            self.policy,
            now,
            change=change,
            names=self._names,
            recorder=self.recorder,
            actor=p,
            clearance=clearance,
            signed=signed,
            link_of=self._link_value,
        )

    def _owned_activity(
        self, tx: Transaction, p: Principal, activity_id: UUID, expected_version: int
    ) -> Activity:
        act = tx.get_activity(activity_id)
        if act is None or (act.owner != p.party_id and not self._sees(tx, p.party_id, act)):
            raise NotFound("activity", activity_id)
        if act.owner != p.party_id:
            raise Forbidden("only the owner may change an activity")
        if act.version != expected_version:
            raise VersionConflict("activity", activity_id, expected_version, act.version)
        return act

    def _store_version(self, tx: Transaction, new: Activity, old: Activity) -> None:
        if not tx.update_activity(new, old.version):  # pragma: no cover - guarded by the lock
            raise VersionConflict("activity", new.id, old.version, old.version + 1)

    def amend(
        self,
        p: Principal,
        activity_id: UUID,
        expected_version: int,
        draft: ActivityDraft,
        *,
        idempotency: Idempotency | None = None,
        signed: Signed | None = None,
        within: Within | None = None,
        activate: bool = False,
    ) -> FilingResult:
        """Replace an activity's content; the old version's notices are superseded.
        ``activate``: and make it active in the same transaction, unless it already is
        (the result is then the activation's)."""
        self._need(p, Role.OPERATOR)

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> FilingResult:
            rec = self._replayed(tx, p, idempotency)
            if rec is not None:
                return self._replay_filing(tx, rec)
            old = self._owned_activity(tx, p, activity_id, expected_version)
            sig = self._signature(tx, p, signed)
            self._validate(draft)
            new = old.amended(
                now,
                volumes=draft.volumes,
                title=draft.title,
                priority=draft.priority,
                remarks=draft.remarks,
                kind=draft.kind,
            )
            self._store_version(tx, new, old)
            if within is not None:
                within(tx, new)
            # Detect against everything but the old version itself (same owner: excluded).
            found = activity_conflicts(
                self.index, self.policy, self._kinds, new.volumes, new.owner, new.kind
            )
            out = self._reconcile(tx, p, new, found, now, "amended", sig)
            result = self._result(tx, new, out, now)
            events.extend(out.events)
            after.append(lambda: self._index_activity(new))
            if activate and new.state is ActivityState.NOTIFIED:
                result = self._transition_in(
                    tx, p, new, ActivityState.ACTIVE, "activated", now, events, after
                )
            self._remember(tx, p, idempotency, self._ref(result), now)
            return result

        return self._submit(run)

    def _transition(
        self,
        p: Principal,
        activity_id: UUID,
        expected_version: int,
        target: ActivityState,
        change: str,
        idempotency: Idempotency | None,
        within: Within | None = None,
    ) -> FilingResult:
        self._need(p, Role.OPERATOR)

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> FilingResult:
            rec = self._replayed(tx, p, idempotency)
            if rec is not None:
                return self._replay_filing(tx, rec)
            old = self._owned_activity(tx, p, activity_id, expected_version)
            result = self._transition_in(tx, p, old, target, change, now, events, after, within)
            self._remember(tx, p, idempotency, self._ref(result), now)
            return result

        return self._submit(run)

    def _transition_in(
        self,
        tx: Transaction,
        p: Principal,
        old: Activity,
        target: ActivityState,
        change: str,
        now: datetime,
        events: list[Event],
        after: list[Callable[[], None]],
        within: Within | None = None,
    ) -> FilingResult:
        """Move ``old`` (the caller's own, at its current version) to ``target`` inside the
        running write."""
        new = old.transition(target, now)
        self._store_version(tx, new, old)
        if within is not None:
            within(tx, new)
        if new.state.is_live:
            found = activity_conflicts(
                self.index, self.policy, self._kinds, new.volumes, new.owner, new.kind
            )
        else:
            found = {}
        out = self._reconcile(tx, p, new, found, now, change, None)
        result = self._result(
            tx, new, out, now, conflicts=out.conflicts if new.state.is_live else out.resolved
        )
        events.extend(out.events)
        after.append(lambda: self._index_activity(new))
        return result

    def activate(
        self,
        p: Principal,
        activity_id: UUID,
        expected_version: int,
        *,
        idempotency: Idempotency | None = None,
        within: Within | None = None,
    ) -> FilingResult:
        return self._transition(
            p, activity_id, expected_version, ActivityState.ACTIVE, "activated", idempotency, within
        )

    def end(
        self,
        p: Principal,
        activity_id: UUID,
        expected_version: int,
        *,
        idempotency: Idempotency | None = None,
    ) -> FilingResult:
        return self._transition(
            p, activity_id, expected_version, ActivityState.ENDED, "ended", idempotency
        )

    def cancel(
        self,
        p: Principal,
        activity_id: UUID,
        expected_version: int,
        *,
        idempotency: Idempotency | None = None,
        within: Within | None = None,
    ) -> FilingResult:
        return self._transition(
            p,
            activity_id,
            expected_version,
            ActivityState.CANCELLED,
            "cancelled",
            idempotency,
            within,
        )

    def check(self, p: Principal, draft: ActivityDraft) -> CheckResult:
        """Dry run: the conflicts a filing would have, storing nothing but site disclosures.

        Need-to-know: another party's activity is shown only as its owner, kind of side and
        the overlap figures (times, altitudes, distance) — not its id nor the common area —
        since nobody is notified of a dry run. A protected site met by the draft discloses
        its footprint and category, and that disclosure is recorded.
        """
        self._need(p, Role.OBSERVER)
        self._validate(draft)

        def run(
            tx: Transaction,
            now: datetime,
            _events: list[Event],
            _after: list[Callable[[], None]],
        ) -> CheckResult:
            found = activity_conflicts(
                self.index, self.policy, self._kinds, draft.volumes, p.party_id, draft.kind
            )
            previews, sites = [], []
            for oid, f in found.items():
                is_site = f.subject.kind is SubjectKind.PROTECTED_SITE
                assert isinstance(f.subject.owner, UUID)
                overlaps = tuple(replace(o, intersection=None) for o in f.overlaps)
                previews.append(
                    PreviewConflict(
                        "site" if is_site else "activity",
                        oid if is_site else None,
                        f.subject.owner,
                        overlaps,
                    )
                )
                if is_site:
                    site = tx.get_site(oid)
                    if site is not None:
                        tx.add_disclosure(
                            Disclosure(uuid4(), site.id, site.version, p.party_id, "dry_run", now)
                        )
                        sites.append(site)
            start = min(v.time.start for v in draft.volumes)
            return CheckResult(
                tuple(previews),
                (start - now).total_seconds(),
                self.policy.for_kind(draft.kind).min_lead_time_s,
                tuple(sites),
            )

        return self._submit(run)
