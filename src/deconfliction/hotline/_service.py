"""The hotline's application services: one object, one lock, one transaction per write.

Every write runs under the service's lock (so two conflicting filings always see each
other: the second one's detection runs against an index that already holds the first),
validates, detects, stores the version, its conflicts, notices, disclosures and stream
events in **one transaction**, then updates the in-memory index and publishes the events.
A late filing is accepted and flagged; nothing here ever refuses a filing for a conflict.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from deconfliction.detect import Subject, SubjectKind, index_subject
from deconfliction.errors import (
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    Unauthorized,
    VersionConflict,
)
from deconfliction.geo import (
    DEFAULT_LIMITS,
    Limits,
    TimeWindow,
    Volume4D,
    VolumeIndex,
    check_limits,
)
from deconfliction.hotline._detection import activity_conflicts, site_conflicts
from deconfliction.hotline._ports import (
    Clock,
    Disclosure,
    Event,
    EventSink,
    IdempotencyRecord,
    Principal,
    Store,
    TokenInfo,
    Transaction,
)
from deconfliction.hotline._reconcile import (
    Outcome,
    reconcile_activity,
    reconcile_site,
    replay_lists,
)
from deconfliction.hotline._results import (
    ActivityDraft,
    CheckResult,
    FilingResult,
    Idempotency,
    PreviewConflict,
    SiteResult,
)
from deconfliction.hotline._tokens import PREFIX_LEN, hash_secret, new_secret
from deconfliction.model import (
    Activity,
    ActivityKind,
    ActivityState,
    Party,
    PartyKind,
    Policy,
    ProtectedSite,
    Role,
    SiteState,
)

__all__ = ["Hotline", "SystemClock"]

Progress = Callable[[int, int], None]


class SystemClock:
    """The hub's wall clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class _NoSink:
    def publish(self, events: Sequence[Event]) -> None:  # pragma: no cover - trivial
        del events


class Hotline:
    """File, amend and follow activities and protected sites; tell affected parties."""

    def __init__(
        self,
        store: Store,
        policy: Policy,
        *,
        clock: Clock | None = None,
        sink: EventSink | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.store = store
        self.policy = policy
        self.clock: Clock = clock or SystemClock()
        self.sink: EventSink = sink or _NoSink()
        self.limits = limits
        self.index = VolumeIndex()
        self._kinds: dict[UUID, ActivityKind] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ index (a cache)

    def rebuild_index(self, progress: Progress | None = None) -> int:
        """Reload every live activity and active site from the store; return how many."""
        with self._lock, self.store.read() as tx:
            self.index = VolumeIndex()
            self._kinds.clear()
            total = tx.count_live_activities()
            done = 0
            for a in tx.iter_live_activities():
                self._index_activity(a)
                done += 1
                if progress and (done % 500 == 0 or done == total):
                    progress(done, total)
            if progress and total == 0:
                progress(0, 0)
            sites = tx.list_sites(active_only=True)
            for s in sites:
                self._index_site(s)
            return done + len(sites)

    def _index_activity(self, a: Activity) -> None:
        subject = Subject(SubjectKind.ACTIVITY, a.id, a.owner)
        if a.state.is_live:
            index_subject(self.index, subject, a.volumes)
            self._kinds[a.id] = a.kind
        elif subject in self.index:
            self.index.remove(subject)
            self._kinds.pop(a.id, None)

    def _index_site(self, s: ProtectedSite) -> None:
        subject = Subject(SubjectKind.PROTECTED_SITE, s.id, s.owner)
        if s.state is SiteState.ACTIVE:
            index_subject(self.index, subject, [s.volume], buffer_m=s.buffer_m)
        elif subject in self.index:
            self.index.remove(subject)

    # ------------------------------------------------------------------ plumbing

    def _now(self) -> datetime:
        return self.clock.now().astimezone(UTC)

    @contextmanager
    def _write(
        self,
    ) -> Iterator[tuple[Transaction, datetime, list[Event], list[Callable[[], None]]]]:
        """Lock, transaction, then (after commit) index updates and event publication."""
        events: list[Event] = []
        after: list[Callable[[], None]] = []
        with self._lock:
            with self.store.transaction() as tx:
                yield tx, self._now(), events, after
            for f in after:
                f()
            if events:
                self.sink.publish(events)

    @staticmethod
    def _replayed(
        tx: Transaction, p: Principal, idem: Idempotency | None
    ) -> IdempotencyRecord | None:
        if idem is None:
            return None
        rec = tx.get_idempotency(p.party_id, idem.key)
        if rec is not None and rec.fingerprint != idem.fingerprint:
            raise IdempotencyConflict(
                f"Idempotency-Key {idem.key!r} was used before with a different request"
            )
        return rec

    @staticmethod
    def _remember(
        tx: Transaction,
        p: Principal,
        idem: Idempotency | None,
        result: dict[str, Any],
        now: datetime,
    ) -> None:
        if idem is not None:
            tx.put_idempotency(
                IdempotencyRecord(p.party_id, idem.key, idem.fingerprint, result, now)
            )

    @staticmethod
    def _need(p: Principal, role: Role) -> None:
        order = [Role.OBSERVER, Role.OPERATOR, Role.ADMIN]
        if order.index(p.role) < order.index(role):
            raise Forbidden(f"this needs the {role.value} role; the token has {p.role.value}")

    # ------------------------------------------------------------------ parties and tokens

    def authenticate(self, secret: str) -> Principal:
        """The principal of an API token (raises :class:`Unauthorized`)."""
        h = hash_secret(secret)
        with self.store.read() as tx:
            t = tx.token_by_hash(h)
        # Looked up by the SHA-256 of a 256-bit random secret: timing reveals nothing usable.
        if t is None or t.revoked_at is not None:
            raise Unauthorized("the token is unknown or revoked")
        return Principal(t.id, t.party_id, t.role)

    def bootstrap(self, name: str = "Hub administration") -> tuple[Party, str] | None:
        """On an empty hub, create an admin party and its first admin token (shown once)."""
        with self._write() as (tx, now, _, _after):
            if tx.list_parties():
                return None
            party = Party(uuid4(), name, PartyKind.OTHER, now)
            tx.add_party(party)
            secret = self._new_token(tx, party.id, Role.ADMIN, "bootstrap", now)[1]
            return party, secret

    @staticmethod
    def _new_token(
        tx: Transaction, party_id: UUID, role: Role, label: str, now: datetime
    ) -> tuple[TokenInfo, str]:
        secret = new_secret()
        info = TokenInfo(uuid4(), party_id, role, label, secret[:PREFIX_LEN], now)
        tx.add_token(info, hash_secret(secret))
        return info, secret

    def add_party(
        self,
        p: Principal,
        name: str,
        kind: PartyKind | str,
        *,
        contact: str = "",
        languages: tuple[str, ...] = ("en",),
    ) -> Party:
        self._need(p, Role.ADMIN)
        with self._write() as (tx, now, _, _after):
            party = Party(uuid4(), name, kind, now, contact=contact, languages=languages)  # type: ignore[arg-type]
            if any(x.name.casefold() == party.name.casefold() for x in tx.list_parties()):
                raise InvalidInput("name", f"a party named {party.name!r} already exists")
            tx.add_party(party)
            return party

    def list_parties(self, p: Principal) -> list[Party]:
        """Every party's name, kind and contact (the directory is shared by design)."""
        del p
        with self.store.read() as tx:
            return tx.list_parties()

    def get_party(self, p: Principal, party_id: UUID) -> Party:
        del p
        with self.store.read() as tx:
            party = tx.get_party(party_id)
        if party is None:
            raise NotFound("party", party_id)
        return party

    def create_token(
        self, p: Principal, party_id: UUID, role: Role | str, label: str = ""
    ) -> tuple[TokenInfo, str]:
        """A new token for ``party_id``: its secret is returned here and never again."""
        self._need(p, Role.ADMIN)
        try:
            r = Role(role)
        except ValueError:
            raise InvalidInput("role", "must be one of: observer, operator, admin") from None
        if len(label) > 200:
            raise InvalidInput("label", "must be at most 200 characters")
        with self._write() as (tx, now, _, _after):
            if tx.get_party(party_id) is None:
                raise NotFound("party", party_id)
            return self._new_token(tx, party_id, r, label, now)

    def list_tokens(self, p: Principal, party_id: UUID) -> list[TokenInfo]:
        self._need(p, Role.ADMIN)
        with self.store.read() as tx:
            if tx.get_party(party_id) is None:
                raise NotFound("party", party_id)
            return tx.list_tokens(party_id)

    def revoke_token(self, p: Principal, token_id: UUID) -> TokenInfo:
        self._need(p, Role.ADMIN)
        with self._write() as (tx, now, _, _after):
            t = tx.get_token(token_id)
            if t is None:
                raise NotFound("token", token_id)
            if t.revoked_at is None:
                tx.revoke_token(token_id, now)
                t = replace(t, revoked_at=now)
            return t

    # ------------------------------------------------------------------ activities: writes

    def _validate(self, draft: ActivityDraft) -> None:
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
        )

    @staticmethod
    def _ref(r: FilingResult | SiteResult) -> dict[str, Any]:
        obj = r.activity if isinstance(r, FilingResult) else r.site
        ref: dict[str, Any] = {
            "id": str(obj.id),
            "version": obj.version,
            "conflicts": [str(c.id) for c in r.conflicts],
            "notices": [str(n.id) for n in r.notices],
        }
        if isinstance(r, FilingResult):
            ref |= {"lead_time_s": r.lead_time_s, "required_lead_time_s": r.required_lead_time_s}
        return ref

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
        )

    def file(
        self, p: Principal, draft: ActivityDraft, *, idempotency: Idempotency | None = None
    ) -> FilingResult:
        """Declare a new activity; every affected party gets a notice in the same transaction."""
        self._need(p, Role.OPERATOR)
        with self._write() as (tx, now, events, after):
            rec = self._replayed(tx, p, idempotency)
            if rec is not None:
                return self._replay_filing(tx, rec)
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
            found = activity_conflicts(
                self.index, self.policy, self._kinds, act.volumes, act.owner, act.kind
            )
            out = reconcile_activity(tx, act, found, self.policy, now, change="filed")
            result = self._result(tx, act, out, now)
            self._remember(tx, p, idempotency, self._ref(result), now)
            events.extend(out.events)
            after.append(lambda: self._index_activity(act))
            return result

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
    ) -> FilingResult:
        """Replace an activity's content; the old version's notices are superseded."""
        self._need(p, Role.OPERATOR)
        with self._write() as (tx, now, events, after):
            rec = self._replayed(tx, p, idempotency)
            if rec is not None:
                return self._replay_filing(tx, rec)
            old = self._owned_activity(tx, p, activity_id, expected_version)
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
            # Detect against everything but the old version itself (same owner: excluded).
            found = activity_conflicts(
                self.index, self.policy, self._kinds, new.volumes, new.owner, new.kind
            )
            out = reconcile_activity(tx, new, found, self.policy, now, change="amended")
            result = self._result(tx, new, out, now)
            self._remember(tx, p, idempotency, self._ref(result), now)
            events.extend(out.events)
            after.append(lambda: self._index_activity(new))
            return result

    def _transition(
        self,
        p: Principal,
        activity_id: UUID,
        expected_version: int,
        target: ActivityState,
        change: str,
        idempotency: Idempotency | None,
    ) -> FilingResult:
        self._need(p, Role.OPERATOR)
        with self._write() as (tx, now, events, after):
            rec = self._replayed(tx, p, idempotency)
            if rec is not None:
                return self._replay_filing(tx, rec)
            old = self._owned_activity(tx, p, activity_id, expected_version)
            new = old.transition(target, now)
            self._store_version(tx, new, old)
            if new.state.is_live:
                found = activity_conflicts(
                    self.index, self.policy, self._kinds, new.volumes, new.owner, new.kind
                )
            else:
                found = {}
            out = reconcile_activity(tx, new, found, self.policy, now, change=change)
            result = self._result(
                tx, new, out, now, conflicts=out.conflicts if new.state.is_live else out.resolved
            )
            self._remember(tx, p, idempotency, self._ref(result), now)
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
    ) -> FilingResult:
        return self._transition(
            p, activity_id, expected_version, ActivityState.ACTIVE, "activated", idempotency
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
    ) -> FilingResult:
        return self._transition(
            p, activity_id, expected_version, ActivityState.CANCELLED, "cancelled", idempotency
        )

    def check(self, p: Principal, draft: ActivityDraft) -> CheckResult:
        """Dry run: the conflicts a filing would have, storing nothing but site disclosures."""
        self._need(p, Role.OBSERVER)
        self._validate(draft)
        with self._write() as (tx, now, _events, _after):
            found = activity_conflicts(
                self.index, self.policy, self._kinds, draft.volumes, p.party_id, draft.kind
            )
            previews, sites = [], []
            for oid, f in found.items():
                is_site = f.subject.kind is SubjectKind.PROTECTED_SITE
                assert isinstance(f.subject.owner, UUID)
                previews.append(
                    PreviewConflict(
                        "site" if is_site else "activity", oid, f.subject.owner, f.overlaps
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

    # ------------------------------------------------------------------ sites: writes

    def _replay_site(self, tx: Transaction, rec: IdempotencyRecord) -> SiteResult:
        ref = rec.result
        site = tx.get_site(UUID(ref["id"]))
        if site is None:  # pragma: no cover
            raise NotFound("site", ref["id"])
        cs, ns = replay_lists(tx, ref["conflicts"], ref["notices"])
        return SiteResult(site, cs, ns, replayed=True)

    def _site_write(
        self,
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
        out = reconcile_site(tx, site, found, self.policy, now, change=change)
        events.extend(out.events)
        after.append(lambda: self._index_site(site))
        return SiteResult(site, tuple(out.conflicts if found else out.resolved), tuple(out.notices))

    def register_site(
        self, p: Principal, site: ProtectedSite, *, idempotency: Idempotency | None = None
    ) -> SiteResult:
        """Register a protected site (``site.id``/``owner``/times are set here)."""
        self._need(p, Role.OPERATOR)
        with self._write() as (tx, now, events, after):
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
            result = self._site_write(tx, s, now, "registered", events, after)
            self._remember(tx, p, idempotency, self._ref(result), now)
            return result

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

    def amend_site(
        self,
        p: Principal,
        site_id: UUID,
        expected_version: int,
        site: ProtectedSite,
        *,
        idempotency: Idempotency | None = None,
    ) -> SiteResult:
        self._need(p, Role.OPERATOR)
        with self._write() as (tx, now, events, after):
            rec = self._replayed(tx, p, idempotency)
            if rec is not None:
                return self._replay_site(tx, rec)
            old = self._owned_site(tx, p, site_id, expected_version)
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
            if not tx.update_site(new, old.version):  # pragma: no cover
                raise VersionConflict("site", site_id, old.version, old.version + 1)
            result = self._site_write(tx, new, now, "amended", events, after)
            self._remember(tx, p, idempotency, self._ref(result), now)
            return result

    def withdraw_site(
        self,
        p: Principal,
        site_id: UUID,
        expected_version: int,
        *,
        idempotency: Idempotency | None = None,
    ) -> SiteResult:
        self._need(p, Role.OPERATOR)
        with self._write() as (tx, now, events, after):
            rec = self._replayed(tx, p, idempotency)
            if rec is not None:
                return self._replay_site(tx, rec)
            old = self._owned_site(tx, p, site_id, expected_version)
            new = old.withdrawn(now)
            if not tx.update_site(new, old.version):  # pragma: no cover
                raise VersionConflict("site", site_id, old.version, old.version + 1)
            result = self._site_write(tx, new, now, "withdrawn", events, after)
            self._remember(tx, p, idempotency, self._ref(result), now)
            return result

    # ------------------------------------------------------------------ need-to-know reads

    @staticmethod
    def _sees(tx: Transaction, party: UUID, act: Activity) -> bool:
        """Whether ``party`` may see another party's activity: while it affects them."""
        return any(
            (c.other_owner if c.activity_id == act.id else c.activity_owner) == party
            for c in tx.conflicts_of(act.id, open_only=True)
        )

    @staticmethod
    def _site_disclosed(tx: Transaction, party: UUID, s: ProtectedSite) -> bool:
        return any(c.activity_owner == party for c in tx.conflicts_of(s.id, open_only=True))

    def get_activity(self, p: Principal, activity_id: UUID) -> tuple[Activity, bool]:
        """The activity and whether the caller sees it in full (its owner)."""
        with self.store.read() as tx:
            act = tx.get_activity(activity_id)
            if act is not None and act.owner == p.party_id:
                return act, True
            if act is None or not self._sees(tx, p.party_id, act):
                raise NotFound("activity", activity_id)
            return replace(act, remarks=""), False

    def list_activities(
        self,
        p: Principal,
        *,
        scope: str = "all",
        window: TimeWindow | None = None,
        live_only: bool = False,
        limit: int | None = None,
    ) -> list[tuple[Activity, bool]]:
        """``scope``: ``mine``, ``affecting`` (others' activities that affect me) or ``all``."""
        if scope not in ("mine", "affecting", "all"):
            raise InvalidInput("scope", "must be one of: mine, affecting, all")
        out: list[tuple[Activity, bool]] = []
        with self.store.read() as tx:
            if scope in ("mine", "all"):
                out += [
                    (a, True)
                    for a in tx.list_activities(
                        owner=p.party_id, window=window, live_only=live_only, limit=limit
                    )
                ]
            if scope in ("affecting", "all"):
                ids = {
                    c.activity_id if c.other_owner == p.party_id else c.other_id
                    for c in tx.list_conflicts(party=p.party_id, open_only=True)
                    if c.kind.value == "activity_activity" or c.other_owner == p.party_id
                }
                others = [
                    a
                    for a in tx.list_activities(ids=ids, window=window, live_only=live_only)
                    if a.owner != p.party_id
                ]
                out += [(replace(a, remarks=""), False) for a in others]
        out.sort(key=lambda x: (x[0].start, str(x[0].id)))
        return out[:limit] if limit else out

    def get_site(self, p: Principal, site_id: UUID) -> tuple[ProtectedSite, bool]:
        with self.store.read() as tx:
            s = tx.get_site(site_id)
            if s is not None and s.owner == p.party_id:
                return s, True
            if s is None or not self._site_disclosed(tx, p.party_id, s):
                raise NotFound("site", site_id)
            return s, False

    def list_sites(self, p: Principal, *, active_only: bool = False) -> list[ProtectedSite]:
        """The caller's own sites."""
        with self.store.read() as tx:
            return tx.list_sites(owner=p.party_id, active_only=active_only)

    def list_conflicts(
        self, p: Principal, *, open_only: bool = False, limit: int | None = None
    ) -> list[Any]:
        with self.store.read() as tx:
            return tx.list_conflicts(party=p.party_id, open_only=open_only, limit=limit)

    def get_conflict(self, p: Principal, conflict_id: UUID) -> Any:
        with self.store.read() as tx:
            c = tx.get_conflict(conflict_id)
        if c is None or p.party_id not in c.parties:
            raise NotFound("conflict", conflict_id)
        return c

    def list_notices(
        self, p: Principal, *, activity_id: UUID | None = None, limit: int | None = None
    ) -> list[Any]:
        with self.store.read() as tx:
            return tx.list_notices(p.party_id, activity_id=activity_id, limit=limit)

    def get_notice(self, p: Principal, notice_id: UUID) -> Any:
        with self.store.read() as tx:
            n = tx.get_notice(notice_id)
        if n is None or n.recipient != p.party_id:
            raise NotFound("notice", notice_id)
        return n

    def activity_notices(self, p: Principal, activity_id: UUID) -> list[Any]:
        """Every notice sent about the caller's own activity, all versions (who was told what)."""
        with self.store.read() as tx:
            act = tx.get_activity(activity_id)
            if act is None or act.owner != p.party_id:
                raise NotFound("activity", activity_id)
            return tx.notices_of_activity(activity_id, current_only=False)

    def events_since(self, p: Principal, seq: int, *, limit: int = 1000) -> list[Event]:
        with self.store.read() as tx:
            return tx.events_since(p.party_id, seq, limit=limit)

    def last_seq(self, p: Principal) -> int:
        with self.store.read() as tx:
            return tx.last_seq(p.party_id)
