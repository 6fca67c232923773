"""Turn detection results into stored conflicts, notices, disclosures and stream events.

Called inside the write transaction of a filing, amendment, state change or site write.
Rules:

* one notice per affected party per activity version; a new version supersedes the
  notices about older ones, and their recipients are told;
* a conflict is identified by its pair of objects; later versions update it, and it is
  resolved (never deleted) when the two no longer meet;
* a protected site's footprint and category reach another party only through a conflict
  event, and each time they do a :class:`Disclosure` is recorded;
* every change is also a ledger fact (:class:`~deconfliction.hotline.Fact`), recorded in
  the same transaction when the write completes (:meth:`Outcome.flush`): the version
  (owner only), each conflict (both owners), each disclosure, each notice sent or
  superseded (recipient and owner, with what the recipient was shown). A sent notice
  carries the receipt of its entry — in its row and in the recipient's stream event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from deconfliction.detect import SubjectKind
from deconfliction.hotline._detection import Found
from deconfliction.hotline._json import (
    activity_json,
    conflict_json,
    disclosure_json,
    notice_json,
    site_json,
)
from deconfliction.hotline._ports import (
    Disclosure,
    Event,
    Fact,
    Principal,
    Receipt,
    Recorder,
    Transaction,
)
from deconfliction.model import (
    Activity,
    Conflict,
    ConflictKind,
    Notice,
    NoticeReason,
    Policy,
    ProtectedSite,
    VolumeOverlap,
)

__all__ = [
    "Outcome",
    "receipt_from",
    "reconcile_activity",
    "reconcile_site",
    "replay_lists",
    "supersede_notices",
]

_STATE_REASONS = {
    "activated": NoticeReason.ACTIVATED,
    "ended": NoticeReason.ENDED,
    "cancelled": NoticeReason.CANCELLED,
}


@dataclass
class _SentNotice:
    index: int  # in Outcome.notices
    fact: int  # in Outcome.facts
    event: int  # in Outcome.pending
    payload: dict[str, Any]  # the event's payload (gets the notice with its receipt)


@dataclass
class Outcome:
    """What one write produced (events are stored and facts recorded by :meth:`flush`;
    events are published after commit)."""

    recorder: Recorder | None = None
    actor: Principal | None = None
    conflicts: list[Conflict] = field(default_factory=list)
    resolved: list[Conflict] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    pending: list[tuple[UUID, str, Mapping[str, Any]]] = field(default_factory=list)
    """Events to store when the write is complete (:meth:`flush`), in order."""
    facts: list[Fact] = field(default_factory=list)
    """Ledger facts to record when the write is complete, in order."""
    main: Fact | None = None
    """The write's own fact (the new version), recorded first."""
    receipt: Receipt | None = None
    """The receipt of :attr:`main` once flushed (None without a ledger)."""
    links: dict[UUID, str] = field(default_factory=dict)
    """Each recipient's link status when its notice was sent."""
    _sent: list[_SentNotice] = field(default_factory=list)

    def fact(self, type_: str, payload: Mapping[str, Any], *parties: UUID) -> int:
        self.facts.append(Fact(type_, payload, tuple(parties)))
        return len(self.facts) - 1

    def flush(self, tx: Transaction, now: datetime) -> None:
        """Record the facts, insert the notices created (each with its receipt and its
        event's seq) and store the pending events — one batch each."""
        facts = ([self.main] if self.main is not None else []) + self.facts
        receipts: list[Receipt | None] = [None] * len(facts)
        if self.recorder is not None and facts:
            receipts = list(self.recorder.record(tx, now, self.actor, facts))
        offset = 1 if self.main is not None else 0
        if self.main is not None:
            self.receipt = receipts[0]
        for sent in self._sent:
            r = receipts[sent.fact + offset]
            n = self.notices[sent.index]
            if r is not None:
                n = replace(n, receipt=r.to_json())
                self.notices[sent.index] = n
            sent.payload["notice"] = notice_json(n)
        events = tx.append_events(self.pending, now)
        for sent in self._sent:
            tx.add_notice(self.notices[sent.index], event_seq=events[sent.event].seq)
        self.events.extend(events)
        self.pending.clear()
        self.facts.clear()
        self._sent.clear()
        self.main = None


def _flip(o: VolumeOverlap) -> VolumeOverlap:
    return replace(o, volume=o.other_volume, other_volume=o.volume)


def _other_side(c: Conflict, me: UUID) -> tuple[UUID, UUID]:
    """(object id, owner) of the side of ``c`` that is not ``me``."""
    if c.activity_id == me:
        return c.other_id, c.other_owner
    return c.activity_id, c.activity_owner


def _emit(
    tx: Transaction,
    out: Outcome,
    party: UUID,
    type_: str,
    payload: Mapping[str, Any],
    now: datetime,
) -> None:
    del tx, now  # stored together by Outcome.flush when the write is complete
    out.pending.append((party, type_, payload))


def _disclose(
    tx: Transaction, out: Outcome, site: ProtectedSite, c: Conflict, now: datetime
) -> dict[str, Any]:
    d = Disclosure(
        uuid4(), site.id, site.version, c.activity_owner, "conflict", now, c.id, c.activity_id
    )
    tx.add_disclosure(d)
    shown = site_json(site, full=False)
    out.fact(
        "site.disclosed",
        {"disclosure": disclosure_json(d), "site": shown},
        site.owner,
        c.activity_owner,
    )
    return shown


_STILL_AFFECTED = frozenset({NoticeReason.NEW, NoticeReason.AMENDED, NoticeReason.ACTIVATED})


def supersede_notices(tx: Transaction, out: Outcome, activity_id: UUID, now: datetime) -> set[UUID]:
    """Supersede every current notice about ``activity_id`` (not the messages of its
    thread: they stand); tell each recipient. Returns the recipients those notices told
    the activity affects them (also those affected only through their assets' time to
    clear, who have no conflict with it)."""
    told: set[UUID] = set()
    for n in tx.notices_of_activity(activity_id, current_only=True):
        if n.reason is NoticeReason.MESSAGE:
            continue
        if n.reason in _STILL_AFFECTED:
            told.add(n.recipient)
        s = n.superseded(now)
        tx.update_notice(s)
        body = {"notice": notice_json(s)}
        out.fact("notice.superseded", body, *_concerned(s))
        _emit(tx, out, n.recipient, "notice.superseded", body, now)
    return told


def _concerned(n: Notice) -> tuple[UUID, ...]:
    return (n.recipient,) if n.owner is None else (n.recipient, n.owner)


def _summary(reason: NoticeReason, act: Activity, owner_name: str) -> str:
    when = act.start.strftime("%Y-%m-%d %H:%MZ")
    what = f"{owner_name}: {act.kind.value.replace('_', ' ')} '{act.title}'"
    return {
        NoticeReason.NEW: f"{what} affects you, from {when}",
        NoticeReason.AMENDED: f"{what} was amended and still affects you, from {when}",
        NoticeReason.NO_LONGER_AFFECTED: f"{what} no longer affects you",
        NoticeReason.ACTIVATED: f"{what} is now active",
        NoticeReason.ENDED: f"{what} has ended",
        NoticeReason.CANCELLED: f"{what} was cancelled",
        NoticeReason.SITE_CONFLICT: f"your {what[len(owner_name) + 2 :]} meets a protected site",
    }[reason]


def _notice(
    tx: Transaction,
    out: Outcome,
    act: Activity,
    recipient: UUID,
    reason: NoticeReason,
    conflicts: list[Conflict],
    policy: Policy,
    now: datetime,
    owner_name: str,
    extra: Mapping[str, Any] | None = None,
    clearance: Sequence[Mapping[str, Any]] = (),
    link: str | None = None,
) -> None:
    kp = policy.for_kind(act.kind)
    insufficient = any(c["insufficient"] for c in clearance)
    summary = _summary(reason, act, owner_name)
    if insufficient:
        worst = max(clearance, key=lambda c: c["required_s"] - c["available_s"])
        summary += (
            f" — INSUFFICIENT NOTICE: an asset needs {worst['required_s'] / 60:.1f} min"
            f" to get clear, {worst['available_s'] / 60:.1f} min are left"
        )
    lead_rule = reason in (NoticeReason.NEW, NoticeReason.AMENDED)
    n = Notice(
        id=uuid4(),
        recipient=recipient,
        activity_id=act.id,
        activity_version=act.version,
        reason=reason,
        sent_at=now,
        starts_at=act.start,
        required_lead_time_s=kp.min_lead_time_s if lead_rule else 0.0,
        deadline=now + timedelta(seconds=kp.ack_deadline_s),
        conflict_id=conflicts[0].id if conflicts else None,
        summary=summary,
        owner=act.owner,
        insufficient=insufficient,
        clearance=tuple(clearance),
    )
    out.notices.append(n)
    payload: dict[str, Any] = {
        "notice": notice_json(n),
        "activity": activity_json(act, full=False),
        "conflicts": [conflict_json(c) for c in conflicts],
    }
    if extra:
        payload |= extra
    # the ledger keeps what the recipient was shown (the notice, the activity's need-to-know
    # view, the conflicts); the notice row and event get the entry's receipt at flush
    if link is not None:
        out.links[recipient] = link
    fact = out.fact("notice.sent", dict(payload) | {"link": link}, *_concerned(n))
    _emit(tx, out, recipient, "notice", payload, now)
    out._sent.append(_SentNotice(len(out.notices) - 1, fact, len(out.pending) - 1, payload))


def _party_name(tx: Transaction, party: UUID, names: dict[UUID, str]) -> str:
    """A party's name; ``names`` is the caller's cache (parties are never renamed)."""
    name = names.get(party)
    if name is None:
        p = tx.get_party(party)
        if p is None:
            return str(party)
        name = names[party] = p.name
    return name


def reconcile_activity(
    tx: Transaction,
    act: Activity,
    found: Mapping[UUID, Found],
    policy: Policy,
    now: datetime,
    *,
    change: str,
    names: dict[UUID, str],
    recorder: Recorder | None = None,
    actor: Principal | None = None,
    clearance: Mapping[UUID, Sequence[Mapping[str, Any]]] | None = None,
    signed: tuple[Any, Any] | None = None,
    link_of: Callable[[UUID], str] | None = None,
) -> Outcome:
    """Store the conflicts and notices of a new version ``act``.

    ``change`` is ``"filed"``, ``"amended"``, ``"activated"``, ``"ended"`` or
    ``"cancelled"``; for the last two ``found`` should be empty (everything resolves).
    ``clearance``: other parties' assets that must get out of the volumes (time-to-clear,
    by asset owner): those parties are affected too, and their notices carry the numbers.
    """
    out = Outcome(recorder, actor)
    owner_name = _party_name(tx, act.owner, names)
    existing: dict[UUID, Conflict] = {}
    if change != "filed":  # a new activity has no conflicts or notices yet
        existing = {_other_side(c, act.id)[0]: c for c in tx.conflicts_of(act.id, open_only=True)}
        told_before = supersede_notices(tx, out, act.id, now)
    else:
        told_before = set()
    was_affected = {_other_side(c, act.id)[1] for c in existing.values()} | told_before
    affected: dict[UUID, list[Conflict]] = {}
    for oid, f in found.items():
        is_site = f.subject.kind is SubjectKind.PROTECTED_SITE
        other_owner = f.subject.owner
        assert isinstance(other_owner, UUID)
        old = existing.get(oid)
        if old is None:
            # the other side, read once: its version for the conflict, its view for the event
            site = tx.get_site(oid) if is_site else None
            other = None if is_site else tx.get_activity(oid)
            other_version = site.version if site else (other.version if other else 0)
            c = Conflict(
                uuid4(),
                ConflictKind.ACTIVITY_SITE if is_site else ConflictKind.ACTIVITY_ACTIVITY,
                act.id,
                act.owner,
                act.version,
                oid,
                other_owner,
                other_version,
                f.overlaps,
                now,
                now,
            )
            tx.add_conflict(c)
            out.fact(
                "conflict.detected", {"conflict": conflict_json(c)}, c.activity_owner, other_owner
            )
            detected: dict[str, Any] = {"conflict": conflict_json(c)}
            if site is not None:
                detected["site"] = _disclose(tx, out, site, c, now)
            elif other is not None:
                detected["other_activity"] = activity_json(other, full=False)
            _emit(tx, out, act.owner, "conflict.detected", detected, now)
        else:
            mine = old.activity_id == act.id
            c = replace(
                old,
                overlaps=f.overlaps if mine else tuple(_flip(o) for o in f.overlaps),
                activity_version=act.version if mine else old.activity_version,
                other_version=old.other_version if mine else act.version,
                updated_at=now,
            )
            tx.update_conflict(c)
            out.fact(
                "conflict.updated", {"conflict": conflict_json(c)}, c.activity_owner, other_owner
            )
        out.conflicts.append(c)
        affected.setdefault(other_owner, []).append(c)
    gone: dict[UUID, list[Conflict]] = {}
    for oid, old in existing.items():
        if oid in found:
            continue
        r = old.resolved(now)
        tx.update_conflict(r)
        out.resolved.append(r)
        other_owner = _other_side(old, act.id)[1]
        out.fact(
            "conflict.resolved", {"conflict": conflict_json(r)}, r.activity_owner, r.other_owner
        )
        gone.setdefault(other_owner, []).append(r)
        for party in (act.owner, other_owner):
            _emit(tx, out, party, "conflict.resolved", {"conflict": conflict_json(r)}, now)
    state_reason = _STATE_REASONS.get(change)
    clearance = clearance or {}
    for party in clearance:
        affected.setdefault(party, [])
    for party, cs in sorted(affected.items(), key=lambda kv: str(kv[0])):
        if state_reason is not None:
            reason = state_reason
        else:
            reason = NoticeReason.AMENDED if party in was_affected else NoticeReason.NEW
        _notice(
            tx,
            out,
            act,
            party,
            reason,
            cs,
            policy,
            now,
            owner_name,
            clearance=clearance.get(party, ()),
            link=None if link_of is None else link_of(party),
        )
    for party in told_before - {act.owner}:  # affected before through its assets only
        gone.setdefault(party, [])
    for party, cs in sorted(gone.items(), key=lambda kv: str(kv[0])):
        if party in affected:
            continue
        reason = state_reason or NoticeReason.NO_LONGER_AFFECTED
        _notice(tx, out, act, party, reason, cs, policy, now, owner_name)
    full = activity_json(act, full=True)
    sub, sig = signed or (None, None)
    out.main = Fact(f"activity.{change}", {"activity": full}, (), sub, sig)
    told: dict[str, Any] = {
        "activity": full,
        "conflicts": [conflict_json(c) for c in out.conflicts],
    }
    short = [
        {"party": str(n.recipient), "notice": str(n.id), "clearance": list(n.clearance)}
        for n in out.notices
        if n.insufficient
    ]
    if short:  # the owner learns at once that someone cannot get clear in time
        told["insufficient_notice"] = short
    down = [{"party": str(p), "link": s} for p, s in out.links.items() if s == "down"]
    if down:  # … and that some notices cannot be delivered now (they wait, in order)
        told["undeliverable_now"] = down
    _emit(tx, out, act.owner, f"activity.{change}", told, now)
    out.flush(tx, now)
    return out


def reconcile_site(
    tx: Transaction,
    site: ProtectedSite,
    found: Mapping[UUID, Found],
    policy: Policy,
    now: datetime,
    *,
    change: str,
    names: dict[UUID, str],
    recorder: Recorder | None = None,
    actor: Principal | None = None,
) -> Outcome:
    """Store the conflicts of a new site version; tell the activities' owners.

    ``change`` is ``"registered"``, ``"amended"`` or ``"withdrawn"``.
    """
    out = Outcome(recorder, actor)
    existing = {c.activity_id: c for c in tx.conflicts_of(site.id, open_only=True)}
    for aid, f in found.items():
        act = tx.get_activity(aid)
        if act is None:
            continue
        old = existing.get(aid)
        if old is None:
            c = Conflict(
                uuid4(),
                ConflictKind.ACTIVITY_SITE,
                aid,
                act.owner,
                act.version,
                site.id,
                site.owner,
                site.version,
                f.overlaps,
                now,
                now,
            )
            tx.add_conflict(c)
            out.fact("conflict.detected", {"conflict": conflict_json(c)}, act.owner, site.owner)
        else:
            c = replace(
                old,
                overlaps=f.overlaps,
                activity_version=act.version,
                other_version=site.version,
                updated_at=now,
            )
            tx.update_conflict(c)
            out.fact("conflict.updated", {"conflict": conflict_json(c)}, act.owner, site.owner)
        out.conflicts.append(c)
        if old is None or old.other_version != site.version:
            disclosed = _disclose(tx, out, site, c, now)
            _notice(
                tx,
                out,
                act,
                act.owner,
                NoticeReason.SITE_CONFLICT,
                [c],
                policy,
                now,
                _party_name(tx, act.owner, names),
                extra={"site": disclosed},
            )
            _emit(
                tx,
                out,
                site.owner,
                "conflict.detected",
                {"conflict": conflict_json(c), "other_activity": activity_json(act, full=False)},
                now,
            )
    for aid, old in existing.items():
        if aid in found:
            continue
        r = old.resolved(now)
        tx.update_conflict(r)
        out.resolved.append(r)
        out.fact("conflict.resolved", {"conflict": conflict_json(r)}, r.activity_owner, site.owner)
        for party in (old.activity_owner, site.owner):
            _emit(tx, out, party, "conflict.resolved", {"conflict": conflict_json(r)}, now)
    full = site_json(site, full=True)
    out.main = Fact(f"site.{change}", {"site": full})
    _emit(
        tx,
        out,
        site.owner,
        f"site.{change}",
        {"site": full, "conflicts": [conflict_json(c) for c in out.conflicts]},
        now,
    )
    out.flush(tx, now)
    return out


def receipt_from(ref: Mapping[str, Any]) -> Receipt | None:
    """The receipt kept in an idempotency record's result (None if it has none)."""
    r = ref.get("receipt")
    return None if r is None else Receipt(int(r["seq"]), str(r["hash"]), str(r["signature"]))


def replay_lists(
    tx: Transaction, conflict_ids: Iterable[str], notice_ids: Iterable[str]
) -> tuple[tuple[Conflict, ...], tuple[Notice, ...]]:
    """Reload the conflicts and notices an earlier write returned (idempotent replay)."""
    cs = tuple(c for c in (tx.get_conflict(UUID(i)) for i in conflict_ids) if c is not None)
    ns = tuple(n for n in (tx.get_notice(UUID(i)) for i in notice_ids) if n is not None)
    return cs, ns
