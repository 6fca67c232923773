"""What must hold after a crash and restart, read from the hub's store itself.

Every rule here comes from the write path (``hotline/_core.py``, ``_activities.py``,
``_reconcile.py``, ``_notices.py``): one transaction per write stores the version, its
conflicts, notices, stream events and ledger facts together, so after any crash:

* every write a client saw acknowledged is there, at (at least) its acknowledged version,
  with the conflicts and notices its answer named, and its idempotency record;
* each activity's versions are 1..N, the activity row is its version N;
* each notice names a stored activity version (and conflict); the notices about an older
  version are superseded, those about the current one are not;
* an open conflict between two activities is between their current, live versions, and the
  other side was told of each version made since the conflict was detected;
* each party's stream is seqs 1..N (N = its ``last_seq``); each notice is in its
  recipient's stream exactly once, as the event its row names; a delivery is told once;
* the ledger's seqs are 1..N with the head at N, one ``activity.*`` fact per version, and
  each notice's receipt names a ``notice.sent`` entry;
* the change feed's seqs are consecutive and every activity is in it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from deconfliction.store._schema import metadata
from tests.crash._workload import Acked

__all__ = ["Snapshot", "check_acked", "check_store", "check_streams"]

_NOT_VERSIONED = ("message",)  # notices that are not about an activity version
_NOTICE_EVENTS = ("notice", "alert.raised")  # the stream event that carries a new notice
_NOTICE_FACTS = ("notice.sent", "alert.raised")  # … and its ledger entry (its receipt)


def _rows(conn: sa.Connection, table: str, *cols: str) -> list[Any]:
    t = metadata.tables[table]
    return list(conn.execute(sa.select(*(t.c[c] for c in cols))))


class Snapshot:
    """The rows the checks need, read in one transaction."""

    def __init__(self, engine: sa.Engine) -> None:
        with engine.connect() as conn:
            # one consistent view while the hub keeps writing (alerts, deliveries)
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN")  # the engine leaves transactions to us
            else:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                conn.begin()
            self.activities = {
                r.id: r
                for r in _rows(conn, "activities", "id", "owner", "version", "state", "updated_at")
            }
            self.versions = {
                (r.id, r.version): r
                for r in _rows(conn, "activity_versions", "id", "version", "state", "updated_at")
            }
            self.conflicts = {
                r.id: r
                for r in _rows(
                    conn,
                    "conflicts",
                    "id",
                    "kind",
                    "activity_id",
                    "activity_owner",
                    "activity_version",
                    "other_id",
                    "other_owner",
                    "other_version",
                    "status",
                    "detected_at",
                )
            }
            self.notices = {
                r.id: r
                for r in _rows(
                    conn,
                    "notices",
                    "id",
                    "recipient",
                    "activity_id",
                    "activity_version",
                    "reason",
                    "conflict_id",
                    "status",
                    "event_seq",
                    "alert_id",
                    "answered_at",
                    "delivered_at",
                    "receipt",
                    "level",
                    "escalations",
                    "expired_at",
                )
            }
            self.events = _rows(conn, "events", "party_id", "seq", "type", "payload")
            self.last_seq = {r.id: r.last_seq for r in _rows(conn, "parties", "id", "last_seq")}
            self.ledger = _rows(conn, "ledger", "seq", "type")
            head = _rows(conn, "ledger_head", "seq")
            self.ledger_head = head[0].seq if head else 0
            self.changes = _rows(conn, "changes", "seq", "kind", "object_id")
            self.idempotency = {
                (r.party_id, r.key): r.result
                for r in _rows(conn, "idempotency", "party_id", "key", "result")
            }


def _gap_free(seqs: Iterable[int]) -> bool:
    s = sorted(seqs)
    return s == list(range(1, len(s) + 1))


def check_store(s: Snapshot) -> list[str]:
    """Every store-wide invariant; one line per violation."""
    out: list[str] = []
    by_activity: dict[UUID, list[int]] = defaultdict(list)
    for aid, v in s.versions:
        by_activity[aid].append(v)
    for aid, a in s.activities.items():
        vs = by_activity.get(aid, [])
        if not _gap_free(vs) or max(vs) != a.version:
            out.append(f"activity {aid}: row at v{a.version}, versions {sorted(vs)}")
        elif s.versions[(aid, a.version)].state != a.state:
            out.append(f"activity {aid}: row state {a.state} but v{a.version} is {a.state}")
    for aid in by_activity.keys() - s.activities.keys():
        out.append(f"activity {aid}: versions without an activity row")

    current: dict[tuple[UUID, UUID, int], list[Any]] = defaultdict(list)
    for n in s.notices.values():
        if n.activity_id is not None and (n.activity_id, n.activity_version) not in s.versions:
            out.append(f"notice {n.id}: about {n.activity_id} v{n.activity_version}, not stored")
            continue
        if n.conflict_id is not None and n.conflict_id not in s.conflicts:
            out.append(f"notice {n.id}: its conflict {n.conflict_id} is not stored")
        if n.activity_id is None or n.reason in _NOT_VERSIONED or n.alert_id is not None:
            continue
        latest = s.activities[n.activity_id].version
        superseded = n.status == "superseded"
        if n.activity_version < latest and not superseded:
            out.append(
                f"notice {n.id}: about v{n.activity_version} of {n.activity_id} (now "
                f"v{latest}) but {n.status}, not superseded"
            )
        if n.activity_version == latest and superseded:
            out.append(f"notice {n.id}: about the current version but superseded")
        if not superseded:
            current[(n.recipient, n.activity_id, n.activity_version)].append(n)

    for c in s.conflicts.values():
        if c.kind != "activity_activity" or c.status != "open":
            continue
        sides = (
            (c.activity_id, c.activity_version, c.other_owner),
            (c.other_id, c.other_version, c.activity_owner),
        )
        for aid, version, told in sides:
            a = s.activities.get(aid)
            if a is None or a.state not in ("notified", "active") or a.version != version:
                state = None if a is None else f"{a.state} v{a.version}"
                out.append(f"open conflict {c.id}: {aid} v{version} is {state}")
                continue
            made = s.versions[(aid, version)].updated_at
            if made >= c.detected_at and not current.get((told, aid, version)):
                out.append(f"open conflict {c.id}: {told} never told of {aid} v{version}")

    events_of: dict[UUID, list[Any]] = defaultdict(list)
    for e in s.events:
        events_of[e.party_id].append(e)
    notice_events: Counter[UUID] = Counter()
    delivered_told: Counter[UUID] = Counter()
    at: dict[tuple[UUID, int], Any] = {}
    for party, evs in events_of.items():
        seqs = [e.seq for e in evs]
        if not _gap_free(seqs) or max(seqs) != s.last_seq.get(party):
            out.append(f"party {party}: stream seqs not 1..{s.last_seq.get(party)}")
        for e in evs:
            at[(party, e.seq)] = e
            if e.type in _NOTICE_EVENTS:
                nid = UUID(e.payload["notice"]["id"])
                notice_events[nid] += 1
                n = s.notices.get(nid)
                if n is None or n.recipient != party:
                    out.append(f"party {party}: event {e.seq} is a notice {nid} not stored for it")
            elif e.type == "notice.delivered":
                delivered_told[UUID(e.payload["notice"]["id"])] += 1
    for party, last in s.last_seq.items():
        if last and party not in events_of:
            out.append(f"party {party}: last_seq {last} but no events")
    for nid, k in notice_events.items():
        if k > 1:
            out.append(f"notice {nid}: in its recipient's stream {k} times")
    for nid, k in delivered_told.items():
        if k > 1:
            out.append(f"notice {nid}: its delivery told {k} times")
    for n in s.notices.values():
        e = at.get((n.recipient, n.event_seq)) if n.event_seq is not None else None
        if e is None or e.type not in _NOTICE_EVENTS or e.payload["notice"]["id"] != str(n.id):
            out.append(f"notice {n.id}: its event {n.recipient}/{n.event_seq} is not it")

    ledger = {r.seq: r.type for r in s.ledger}
    if not _gap_free(ledger) or s.ledger_head != len(ledger):
        out.append(f"ledger: {len(ledger)} entries, head at {s.ledger_head}, seqs not 1..N")
    facts = sum(1 for t in ledger.values() if t.startswith("activity."))
    if facts != len(s.versions):
        out.append(f"ledger: {facts} activity facts for {len(s.versions)} activity versions")
    kinds = Counter(ledger.values())
    if kinds["conflict.detected"] != len(s.conflicts):
        out.append(f"ledger: {kinds['conflict.detected']} detections, {len(s.conflicts)} conflicts")
    sent = sum(1 for n in s.notices.values() if n.reason not in _NOT_VERSIONED)
    if sum(kinds[t] for t in _NOTICE_FACTS) != sent:
        out.append(f"ledger: {sum(kinds[t] for t in _NOTICE_FACTS)} notices sent, {sent} stored")
    levels = sum(n.level for n in s.notices.values())
    expired = sum(1 for n in s.notices.values() if n.expired_at is not None)
    if (kinds["notice.escalated"], kinds["notice.expired"]) != (levels, expired):
        out.append(
            f"ledger: {kinds['notice.escalated']} escalations and {kinds['notice.expired']} "
            f"expiries recorded, {levels} and {expired} stored"
        )
    for n in s.notices.values():
        steps = [e["level"] for e in n.escalations or ()]
        if steps != list(range(1, n.level + 1)):
            out.append(f"notice {n.id}: at level {n.level}, escalations {steps}")
        if n.receipt is not None and ledger.get(n.receipt["seq"]) not in _NOTICE_FACTS:
            out.append(f"notice {n.id}: receipt seq {n.receipt['seq']} is not its sending")
    # the change feed other nodes follow: seqs consecutive (only the oldest are pruned),
    # every activity noted, never more often than it has versions
    seqs = sorted(c.seq for c in s.changes)
    if seqs and seqs != list(range(seqs[0], seqs[-1] + 1)):
        out.append(f"change feed: seqs {seqs[0]}..{seqs[-1]} with gaps ({len(seqs)} rows)")
    noted = Counter(c.object_id for c in s.changes if c.kind == "activity")
    pruned = bool(seqs) and seqs[0] > 1
    for aid, vs in by_activity.items():
        if noted[aid] > len(vs) or (not pruned and not noted[aid]):
            out.append(f"change feed: activity {aid} noted {noted[aid]} times, {len(vs)} versions")
    for (party, key), ref in s.idempotency.items():
        if "version" in ref and (UUID(ref["id"]), int(ref["version"])) not in s.versions:
            out.append(f"idempotency {party}/{key}: names {ref['id']} v{ref['version']}, absent")
    return out


def check_acked(s: Snapshot, acked: Iterable[Acked], party_ids: dict[str, str]) -> list[str]:
    """Every write a client saw acknowledged is stored (at least at its version)."""
    out: list[str] = []
    for w in acked:
        doc = w.answer
        if w.request.op == "acknowledge":
            n = s.notices.get(UUID(w.request.notice or ""))
            if n is None or n.answered_at is None:
                out.append(f"{w.party} acknowledged notice {w.request.notice}: not answered")
            continue
        aid, version = UUID(doc["activity"]["id"]), int(doc["activity"]["version"])
        a = s.activities.get(aid)
        if (aid, version) not in s.versions or a is None or a.version < version:
            out.append(f"{w.party} {w.request.op}: {aid} v{version} acknowledged, not stored")
            continue
        for n in doc["notices"]:
            if UUID(n["id"]) not in s.notices:
                out.append(f"{w.party} {w.request.op}: its notice {n['id']} not stored")
        for c in doc["conflicts"]:
            if UUID(c["id"]) not in s.conflicts:
                out.append(f"{w.party} {w.request.op}: its conflict {c['id']} not stored")
        key = w.request.headers.get("Idempotency-Key")
        ref = s.idempotency.get((UUID(party_ids[w.party]), key)) if key else None
        if key and (ref is None or (ref["id"], ref["version"]) != (str(aid), version)):
            out.append(f"{w.party} {w.request.op}: idempotency record of {key} is {ref}")
    return out


def check_streams(s: Snapshot, received: dict[str, list[int]], ids: dict[str, str]) -> list[str]:
    """What each reader got over the round(s), across reconnects: exactly 1..n, n ≤ N (the
    readers were caught up before the snapshot; ``received`` is copied before it)."""
    out = []
    for name, seqs in received.items():
        last = s.last_seq[UUID(ids[name])]
        if seqs != list(range(1, len(seqs) + 1)) or len(seqs) > last:
            dup = [q for q, k in Counter(seqs).items() if k > 1]
            missing = sorted(set(range(1, last + 1)) - set(seqs))
            out.append(
                f"{name}'s reader: {len(seqs)} events of {last}; dup {dup[:5]}, "
                f"missing {missing[:5]}"
            )
    return out
