"""Protected sites: register, amend, withdraw."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid4

from deconfliction.errors import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    VersionConflict,
)
from deconfliction.geo import (
    check_limits,
)
from deconfliction.hotline._core import Core
from deconfliction.hotline._detection import site_conflicts
from deconfliction.hotline._ports import (
    Event,
    IdempotencyRecord,
    Principal,
    Transaction,
)
from deconfliction.hotline._reconcile import (
    receipt_from,
    reconcile_site,
    replay_lists,
)
from deconfliction.hotline._results import (
    Idempotency,
    SiteResult,
)
from deconfliction.model import (
    ProtectedSite,
    Role,
    SiteState,
)

__all__ = ["SiteServices"]


class SiteServices(Core):
    """Protected sites: register, amend, withdraw."""

    # ------------------------------------------------------------------ sites: writes

    def _replay_site(self, tx: Transaction, rec: IdempotencyRecord) -> SiteResult:
        ref = rec.result
        site = tx.get_site(UUID(ref["id"]))
        if site is None:  # pragma: no cover
            raise NotFound("site", ref["id"])
        cs, ns = replay_lists(tx, ref["conflicts"], ref["notices"])
        return SiteResult(site, cs, ns, replayed=True, receipt=receipt_from(ref))

    def _site_write(
        self,
        p: Principal,
        tx: Transaction,
        site: ProtectedSite,
        now: datetime,
        change: str,
        events: list[Event],
        after: list[Callable[[], None]],
    ) -> SiteResult:
        if site.state is SiteState.ACTIVE:
            found = site_conflicts(
                self.index, self.policy, self._kinds, site.volume, site.buffer_m, site.owner
            )
        else:
            found = {}
        out = reconcile_site(
            tx,
            site,
            found,
            self.policy,
            now,
            change=change,
            names=self._names,
            recorder=self.recorder,
            actor=p,
        )
        events.extend(out.events)
        after.append(lambda: self._index_site(site))
        return SiteResult(
            site,
            tuple(out.conflicts if found else out.resolved),
            tuple(out.notices),
            receipt=out.receipt,
        )

    def register_site(
        self, p: Principal, site: ProtectedSite, *, idempotency: Idempotency | None = None
    ) -> SiteResult:
        """Register a protected site (``site.id``/``owner``/times are set here)."""
        self._need(p, Role.OPERATOR)

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> SiteResult:
            rec = self._replayed(tx, p, idempotency)
            if rec is not None:
                return self._replay_site(tx, rec)
            s = replace(
                site,
                id=uuid4(),
                owner=p.party_id,
                created_at=now,
                updated_at=now,
                version=1,
                state=SiteState.ACTIVE,
            )
            self._check_site(s)
            tx.add_site(s)
            result = self._site_write(p, tx, s, now, "registered", events, after)
            self._remember(tx, p, idempotency, self._ref(result), now)
            return result

        return self._submit(run)

    def _check_site(self, s: ProtectedSite) -> None:
        limits = replace(self.limits, max_duration_s=float("inf"))
        try:
            check_limits(s.volume, limits)
        except InvalidInput as exc:
            raise type(exc)(exc.field.replace("time", "validity"), exc.reason) from None

    def _owned_site(
        self, tx: Transaction, p: Principal, site_id: UUID, expected: int
    ) -> ProtectedSite:
        s = tx.get_site(site_id)
        if s is None or (s.owner != p.party_id and not self._site_disclosed(tx, p.party_id, s)):
            raise NotFound("site", site_id)
        if s.owner != p.party_id:
            raise Forbidden("only the owner may change a protected site")
        if s.version != expected:
            raise VersionConflict("site", site_id, expected, s.version)
        return s

    def _change_site(
        self,
        p: Principal,
        site_id: UUID,
        expected_version: int,
        idempotency: Idempotency | None,
        change: str,
        next_version: Callable[[ProtectedSite, datetime], ProtectedSite],
    ) -> SiteResult:
        """The write shared by amend and withdraw: replay, ownership and version checks, the
        next version (from ``next_version(old, now)``), its conflicts and notices."""
        self._need(p, Role.OPERATOR)

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> SiteResult:
            rec = self._replayed(tx, p, idempotency)
            if rec is not None:
                return self._replay_site(tx, rec)
            old = self._owned_site(tx, p, site_id, expected_version)
            new = next_version(old, now)
            if not tx.update_site(new, old.version):  # pragma: no cover
                raise VersionConflict("site", site_id, old.version, old.version + 1)
            result = self._site_write(p, tx, new, now, change, events, after)
            self._remember(tx, p, idempotency, self._ref(result), now)
            return result

        return self._submit(run)

    def amend_site(
        self,
        p: Principal,
        site_id: UUID,
        expected_version: int,
        site: ProtectedSite,
        *,
        idempotency: Idempotency | None = None,
    ) -> SiteResult:
        def amended(old: ProtectedSite, now: datetime) -> ProtectedSite:
            if old.state is not SiteState.ACTIVE:
                raise InvalidTransition("a withdrawn site cannot be amended")
            new = replace(
                site,
                id=old.id,
                owner=old.owner,
                created_at=old.created_at,
                updated_at=now,
                version=old.version + 1,
                state=SiteState.ACTIVE,
            )
            self._check_site(new)
            return new

        return self._change_site(p, site_id, expected_version, idempotency, "amended", amended)

    def withdraw_site(
        self,
        p: Principal,
        site_id: UUID,
        expected_version: int,
        *,
        idempotency: Idempotency | None = None,
    ) -> SiteResult:
        return self._change_site(
            p,
            site_id,
            expected_version,
            idempotency,
            "withdrawn",
            lambda old, now: old.withdrawn(now),
        )
