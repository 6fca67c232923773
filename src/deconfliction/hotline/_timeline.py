"""An activity's whole story, for its owner: every version, conflict and notice, and one
chronological list of what happened that a person reads top to bottom.

Everything comes from the store as it is kept (versions are never changed, each notice keeps
every step's hub time); nothing is recomputed but the order and the wording. Owner only: to
anyone else the activity does not exist (404), as for its notice list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from deconfliction.errors import NotFound
from deconfliction.hotline._core import Core
from deconfliction.hotline._json import activity_json, conflict_json, iso, notice_json
from deconfliction.hotline._ports import Principal
from deconfliction.model import (
    Activity,
    ActivityState,
    Conflict,
    ConflictKind,
    Notice,
    NoticeStatus,
)

__all__ = [
    "ActivityTimeline",
    "TimelineEvent",
    "TimelineServices",
    "ActivityVersion",
    "duration_text",
    "timeline_events",
    "timeline_json",
    "version_changes",
]

_CHANGE_OF_STATE = {
    ActivityState.ACTIVE: "activated",
    ActivityState.ENDED: "ended",
    ActivityState.CANCELLED: "cancelled",
}

# At one hub time, the order in which the steps happened (an amendment supersedes the old
# notices, updates the conflicts, then sends the new notices).
_RANK = {
    **{f"activity.{change}": 0 for change in ("filed", "amended", *_CHANGE_OF_STATE.values())},
    "notice.superseded": 1,
    "conflict.detected": 2,
    "conflict.updated": 2,
    "conflict.resolved": 2,
    "notice.sent": 3,
    "notice.delivered": 4,
    "notice.read": 5,
    "notice.acknowledged": 6,
    "notice.objected": 6,
    "notice.escalated": 7,
    "notice.expired": 8,
    "activity.starts": 9,
    "activity.ends": 9,
}


@dataclass(frozen=True, slots=True)
class ActivityVersion:
    """One kept version of the activity and the change that made it."""

    activity: Activity
    change: str
    """``filed``, ``amended``, ``activated``, ``ended`` or ``cancelled``."""

    @property
    def at(self) -> datetime:
        """The hub time of the change."""
        return self.activity.updated_at


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One line of the story: when, what kind of step, who, and the step in words."""

    at: datetime
    type: str
    """E.g. ``activity.amended``, ``conflict.detected``, ``notice.sent``, ``notice.read``."""
    what: str
    """A few words: ``notice sent``, ``acknowledged``, ``escalated``…"""
    party: UUID | None
    """Who acted or was concerned (the owner, the recipient; None: the hub's schedule)."""
    details: str
    """The step in one sentence, with its figures and flags."""
    ref: Mapping[str, Any] = field(default_factory=dict)
    """Ids to find the object: ``version``, ``conflict``, ``notice``."""


@dataclass(frozen=True, slots=True)
class ActivityTimeline:
    """An activity (its owner's view), its versions, conflicts and notices, and the events."""

    activity: Activity
    versions: tuple[ActivityVersion, ...]
    conflicts: tuple[Conflict, ...]
    notices: tuple[Notice, ...]
    events: tuple[TimelineEvent, ...]
    names: Mapping[UUID, str]
    """Party id → name for every party named above (the directory is shared by design)."""
    generated_at: datetime

    def name(self, party: UUID | None) -> str:
        if party is None:
            return "hub"
        return self.names.get(party, str(party))

    def other_party(self, c: Conflict) -> UUID:
        """The party on the other side of ``c`` from this activity."""
        return _other_party(c, self.activity.id)


def _other_party(c: Conflict, activity_id: UUID) -> UUID:
    return c.other_owner if c.activity_id == activity_id else c.activity_owner


def time_text(iso_time: str | None) -> str:
    """A hub time for people, to the second.

    >>> time_text("2026-11-25T20:31:14.123Z"), time_text(None)
    ('2026-11-25 20:31:14Z', '-')
    """
    if not iso_time:
        return "-"
    text = iso_time.replace("T", " ")
    if "." in text:
        text = text.split(".", 1)[0] + "Z"
    return text.replace("+00:00", "Z")


def duration_text(seconds: float) -> str:
    """A duration for people.

    >>> duration_text(59.4), duration_text(3 * 3600 + 90), duration_text(-125)
    ('59 s', '3 h 1 min', '-2 min 5 s')
    """
    sign = "-" if seconds < 0 else ""
    s = round(abs(seconds))
    d, rest = divmod(s, 86_400)
    h, rest = divmod(rest, 3_600)
    m, sec = divmod(rest, 60)
    if d:
        parts = [f"{d} d", f"{h} h" if h else ""]
    elif h:
        parts = [f"{h} h", f"{m} min" if m else ""]
    elif m:
        parts = [f"{m} min", f"{sec} s" if sec else ""]
    else:
        parts = [f"{sec} s"]
    return sign + " ".join(p for p in parts if p)


def _when(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%SZ")


def version_changes(versions: list[Activity]) -> list[ActivityVersion]:
    """Name the change that made each version (oldest first): the first was filed; a
    change of state is that state's verb; anything else is an amendment."""
    out: list[ActivityVersion] = []
    for i, v in enumerate(versions):
        if i == 0:
            change = "filed"
        elif v.state is not versions[i - 1].state:
            change = _CHANGE_OF_STATE.get(v.state, "amended")
        else:
            change = "amended"
        out.append(ActivityVersion(v, change))
    return out


def _version_events(
    versions: list[ActivityVersion], names: Mapping[UUID, str], current: Activity
) -> list[TimelineEvent]:
    out = []
    for v in versions:
        a = v.activity
        text = (
            f"{v.change} by {names.get(a.owner, str(a.owner))}: version {a.version}, "
            f"{a.kind.value.replace('_', ' ')} '{a.title}', {len(a.volumes)} volume(s), "
            f"{_when(a.start)} – {_when(a.end)}, now {a.state.value}"
        )
        out.append(
            TimelineEvent(
                v.at, f"activity.{v.change}", v.change, a.owner, text, {"version": a.version}
            )
        )
    out.append(
        TimelineEvent(
            current.start,
            "activity.starts",
            "scheduled start",
            current.owner,
            f"the activity starts (version {current.version})",
            {"version": current.version},
        )
    )
    out.append(
        TimelineEvent(
            current.end,
            "activity.ends",
            "scheduled end",
            current.owner,
            f"the activity ends (version {current.version})",
            {"version": current.version},
        )
    )
    return out


def _conflict_events(c: Conflict, other: UUID, names: Mapping[UUID, str]) -> list[TimelineEvent]:
    side = "protected site" if c.kind is ConflictKind.ACTIVITY_SITE else "activity"
    who = names.get(other, str(other))
    ref = {"conflict": str(c.id)}
    gap = f"{c.min_horizontal_distance_m:,.0f} m apart" if c.min_horizontal_distance_m else ""
    meets = f"meets {who}'s {side}" + (f" ({gap})" if gap else "")
    out = [
        TimelineEvent(c.detected_at, "conflict.detected", "conflict detected", other, meets, ref)
    ]
    if c.updated_at != c.detected_at and c.updated_at != c.resolved_at:
        out.append(
            TimelineEvent(
                c.updated_at,
                "conflict.updated",
                "conflict updated",
                other,
                f"still {meets} (last update)",
                ref,
            )
        )
    if c.resolved_at is not None:
        out.append(
            TimelineEvent(
                c.resolved_at,
                "conflict.resolved",
                "conflict resolved",
                other,
                f"no longer meets {who}'s {side}",
                ref,
            )
        )
    return out


def _sent_text(n: Notice, who: str) -> str:
    lead = f"lead time {duration_text(n.lead_time_s)}"
    if n.required_lead_time_s:
        lead += f" (policy: at least {duration_text(n.required_lead_time_s)})"
    flags = [f for f, on in (("LATE", n.late), ("INSUFFICIENT NOTICE", n.insufficient)) if on]
    text = f"to {who} about version {n.activity_version} ({n.reason.value}): {lead}"
    if flags:
        text += " — " + ", ".join(flags)
    if n.insufficient:
        worst = max(n.clearance, key=lambda c: float(c["required_s"]) - float(c["available_s"]))
        text += (
            f": an asset needs {duration_text(float(worst['required_s']))} to get clear, "
            f"{duration_text(float(worst['available_s']))} were left"
        )
    if n.needs_answer:
        text += "; an answer is expected"
    if n.receipt:
        text += f"; ledger seq {n.receipt['seq']}"
    return text


def _notice_events(n: Notice, who: str) -> list[TimelineEvent]:
    ref = {"notice": str(n.id), "version": n.activity_version}
    r = n.recipient
    out = [TimelineEvent(n.sent_at, "notice.sent", "notice sent", r, _sent_text(n, who), ref)]
    if n.delivered_at is not None:
        text = f"{who}'s client confirmed receipt"
        if n.delivered_at in (n.read_at, n.answered_at):  # no confirmation came before
            text = f"delivered to {who} (stamped when it was {_first_step(n)})"
        out.append(
            TimelineEvent(
                n.delivered_at,
                "notice.delivered",
                "delivered",
                r,
                f"{text}, {duration_text(_since(n, n.delivered_at))} after sending",
                ref,
            )
        )
    if n.read_at is not None:
        text = f"read by {who}"
        if n.read_at == n.answered_at:
            text = f"read by {who} (stamped with the answer)"
        out.append(
            TimelineEvent(
                n.read_at,
                "notice.read",
                "read",
                r,
                f"{text}, {duration_text(_since(n, n.read_at))} after sending",
                ref,
            )
        )
    for step in n.escalations:
        at = datetime.fromisoformat(str(step["at"]))
        out.append(
            TimelineEvent(
                at,
                "notice.escalated",
                "escalated",
                r,
                f"{who} had not acknowledged: escalated to its {step['name']} "
                f"(level {step['level']}), new deadline {step['deadline']}",
                ref,
            )
        )
    if n.expired_at is not None:
        out.append(
            TimelineEvent(
                n.expired_at,
                "notice.expired",
                "expired",
                r,
                f"{who} had not answered by the deadline: the notice expired",
                ref,
            )
        )
    if n.answered_at is not None:
        after = duration_text(_since(n, n.answered_at))
        if n.objection is None:
            typ, what, text = "notice.acknowledged", "acknowledged", f"{who} acknowledged"
        else:
            typ, what, text = "notice.objected", "objected", f"{who} objected: {n.objection}"
        out.append(
            TimelineEvent(n.answered_at, typ, what, r, f"{text} ({after} after sending)", ref)
        )
    if n.status is NoticeStatus.SUPERSEDED and n.status_at is not None:
        out.append(
            TimelineEvent(
                n.status_at,
                "notice.superseded",
                "superseded",
                r,
                f"the notice to {who} about version {n.activity_version} was superseded by "
                "a newer version",
                ref,
            )
        )
    return out


def _first_step(n: Notice) -> str:
    return "answered" if n.read_at == n.answered_at else "read"


def _since(n: Notice, t: datetime) -> float:
    return (t - n.sent_at).total_seconds()


def timeline_events(
    versions: list[ActivityVersion],
    conflicts: list[Conflict],
    notices: list[Notice],
    names: Mapping[UUID, str],
    current: Activity,
) -> list[TimelineEvent]:
    """Every step, oldest first (steps at one hub time in the order they happened, then by
    party name)."""
    events = _version_events(versions, names, current)
    for c in conflicts:
        events += _conflict_events(c, _other_party(c, current.id), names)
    for n in notices:
        events += _notice_events(n, names.get(n.recipient, str(n.recipient)))

    def key(ie: tuple[int, TimelineEvent]) -> tuple[datetime, int, str, int]:
        i, e = ie
        who = "" if e.party is None else names.get(e.party, str(e.party))
        return e.at, _RANK.get(e.type, 0), who, i

    return [e for _, e in sorted(enumerate(events), key=key)]


class TimelineServices(Core):
    """The timeline of an activity, for its owner."""

    def timeline(self, p: Principal, activity_id: UUID) -> ActivityTimeline:
        """Everything about the caller's own activity (anyone else: :class:`NotFound`)."""
        with self.store.read() as tx:
            act = tx.get_activity(activity_id)
            if act is None or act.owner != p.party_id:
                raise NotFound("activity", activity_id)
            kept = tx.activity_versions(activity_id)
            conflicts = tx.conflicts_of(activity_id, open_only=False)
            notices = tx.notices_of_activity(activity_id, current_only=False)
            directory = {party.id: party.name for party in tx.list_parties()}
        named = {act.owner, *(n.recipient for n in notices)}
        named |= {q for c in conflicts for q in c.parties}
        names = {q: directory[q] for q in named if q in directory}
        versions = version_changes(kept or [act])
        events = timeline_events(versions, conflicts, notices, names, act)
        return ActivityTimeline(
            act,
            tuple(versions),
            tuple(conflicts),
            tuple(notices),
            tuple(events),
            names,
            self._now(),
        )


def _party_ref(t: ActivityTimeline, party: UUID | None) -> dict[str, Any] | None:
    return None if party is None else {"id": str(party), "name": t.name(party)}


def timeline_json(t: ActivityTimeline) -> dict[str, Any]:
    """The timeline as the API returns it (the owner's view: remarks included)."""
    a = t.activity
    notices = []
    for n in t.notices:
        answered = None if n.answered_at is None else (n.answered_at - n.sent_at).total_seconds()
        notices.append(
            notice_json(n)
            | {
                "recipient_name": t.name(n.recipient),
                "time_to_answer_s": answered,
            }
        )
    conflicts = []
    for c in t.conflicts:
        other = t.other_party(c)
        mine = c.activity_id == a.id
        conflicts.append(
            conflict_json(c)
            | {
                "other_party": _party_ref(t, other),
                "other_type": "site" if c.kind is ConflictKind.ACTIVITY_SITE else "activity",
                "other_object": str(c.other_id if mine else c.activity_id),
            }
        )
    return {
        "activity": activity_json(a, full=True),
        "owner": _party_ref(t, a.owner),
        "generated_at": iso(t.generated_at),
        "versions": [
            {
                "version": v.activity.version,
                "change": v.change,
                "at": iso(v.at),
                "state": v.activity.state.value,
                "kind": v.activity.kind.value,
                "title": v.activity.title,
                "priority": v.activity.priority.value,
                "start": iso(v.activity.start),
                "end": iso(v.activity.end),
                "volumes": activity_json(v.activity, full=False)["volumes"],
            }
            for v in t.versions
        ],
        "conflicts": conflicts,
        "notices": notices,
        "events": [
            {
                "time": iso(e.at),
                "type": e.type,
                "what": e.what,
                "party": None if e.party is None else t.name(e.party),
                "party_id": None if e.party is None else str(e.party),
                "details": e.details,
                "ref": dict(e.ref),
            }
            for e in t.events
        ],
    }
