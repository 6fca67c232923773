"""The SQL implementation of the hotline's ``Transaction`` protocol.

One :class:`SqlTransaction` wraps one connection inside one database transaction; the
store opens it (:meth:`SqlStore.transaction <deconfliction.store.SqlStore.transaction>`)
and commits or rolls it back. Statements are SQLAlchemy Core only and portable: nothing
here knows which database it talks to.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from deconfliction.errors import NotFound
from deconfliction.geo import TimeWindow, volume_from_record
from deconfliction.hotline import (
    Disclosure,
    Event,
    IdempotencyRecord,
    LiveActivity,
    NoticeStat,
    TokenInfo,
)
from deconfliction.model import (
    Activity,
    ActivityKind,
    ActivityState,
    Asset,
    Conflict,
    ConflictStatus,
    Notice,
    NoticeReason,
    NoticeStatus,
    Party,
    ProtectedSite,
    SiteState,
    Webhook,
    WebhookState,
)
from deconfliction.store import _codec as codec
from deconfliction.store._errors import IntegrityViolation
from deconfliction.store._exec import Executor, chunks
from deconfliction.store._functions import seconds_between
from deconfliction.store._schema import (
    activities,
    activity_versions,
    assets,
    conflicts,
    disclosures,
    events,
    idempotency,
    notices,
    parties,
    site_versions,
    sites,
    tokens,
    webhooks,
)
from deconfliction.store._types import utc

__all__ = ["SqlTransaction"]

_LIVE = [s.value for s in ActivityState if s.is_live]


# Prebuilt INSERT statements: executed with a list of row mappings, so SQLAlchemy compiles
# each once and reuses it (building ``insert(t).values(row)`` per call costs ~0.2 ms).
_INSERT = {
    t: sa.insert(t)
    for t in (
        parties,
        tokens,
        activities,
        activity_versions,
        assets,
        sites,
        site_versions,
        conflicts,
        notices,
        disclosures,
        events,
        idempotency,
        webhooks,
    )
}


# Prebuilt statements with bound parameters for the per-write hot path: building
# ``select(t).where(t.c.id == value)`` per call costs about 0.2 ms more than executing a
# prebuilt statement with its parameters (construction and cache-key generation).
_B = sa.bindparam
_BY_ID = {
    t: sa.select(t).where(t.c.id == _B("b_id"))
    for t in (parties, tokens, activities, sites, conflicts, notices)
}
_VERSION = {
    t: sa.select(t).where(t.c.id == _B("b_id"), t.c.version == _B("b_version"))
    for t in (activity_versions, site_versions)
}
_TOKEN_BY_HASH = sa.select(tokens).where(tokens.c.secret_hash == _B("b_hash"))
_BUMP_SEQ = (
    sa.update(parties)
    .where(parties.c.id == _B("b_id"))
    .values(last_seq=parties.c.last_seq + _B("b_k"))
    .returning(parties.c.last_seq)
)
_IDEMPOTENCY = sa.select(idempotency).where(
    idempotency.c.party_id == _B("b_party"), idempotency.c.key == _B("b_key")
)


def _conflicts_of_stmt(open_only: bool) -> sa.Select[Any]:
    c = conflicts.c
    stmt = sa.select(conflicts).where(sa.or_(c.activity_id == _B("b_id"), c.other_id == _B("b_id")))
    if open_only:
        stmt = stmt.where(c.status == ConflictStatus.OPEN.value)
    return stmt.order_by(c.detected_at, c.id)


_CONFLICTS_OF = {flag: _conflicts_of_stmt(flag) for flag in (True, False)}
_ASSET_BY_REF = sa.select(assets).where(
    assets.c.owner == _B("b_owner"), assets.c.ref == _B("b_ref")
)
_UNDELIVERED = (
    sa.select(notices)
    .where(
        notices.c.recipient == _B("b_party"),
        notices.c.event_seq <= _B("b_seq"),
        notices.c.event_seq > _B("b_after"),
        notices.c.delivered_at.is_(None),
    )
    .order_by(notices.c.event_seq)
)
_DUE = (
    sa.select(notices)
    .where(
        notices.c.status.in_(
            [NoticeStatus.QUEUED.value, NoticeStatus.DELIVERED.value, NoticeStatus.READ.value]
        ),
        notices.c.reason.in_(
            [NoticeReason.NEW.value, NoticeReason.AMENDED.value, NoticeReason.SITE_CONFLICT.value]
        ),
        notices.c.deadline <= _B("b_now"),
    )
    .order_by(notices.c.deadline, notices.c.id)
    .limit(_B("b_limit"))
)
_UPDATES: dict[tuple[sa.Table, frozenset[str], bool], sa.Update] = {}


def _update_by_id(
    table: sa.Table, row: Mapping[str, Any], expected_version: int | None = None
) -> tuple[sa.Update, dict[str, Any]]:
    """A prebuilt ``UPDATE table SET <row's columns> WHERE id = … [AND version = …]`` (one per
    table and column set) and its parameters."""
    cols = frozenset(k for k in row if k != "id")
    key = (table, cols, expected_version is not None)
    stmt = _UPDATES.get(key)
    if stmt is None:
        where = [table.c.id == _B("b_id")]
        if expected_version is not None:
            where.append(table.c.version == _B("b_version"))
        stmt = sa.update(table).where(*where).values({k: _B(k) for k in sorted(cols)})
        _UPDATES[key] = stmt
    params = {k: v for k, v in row.items() if k != "id"} | {"b_id": row["id"]}
    if expected_version is not None:
        params["b_version"] = expected_version
    return stmt, params


class SqlTransaction(Executor):
    """One database transaction: implements ``deconfliction.hotline.Transaction``.

    Use it only inside the ``with`` block that opened it. Any error raised by a method
    aborts the transaction: later calls raise :class:`~deconfliction.store.StoreError`
    and the block rolls back.
    """

    # -- parties and tokens -----------------------------------------------------------------

    def add_party(self, party: Party) -> None:
        """Insert a party (its event stream starts empty)."""
        self._write(_INSERT[parties], f"add party {party.id}", [codec.party_row(party)])

    def update_party(self, party: Party) -> None:
        """Replace the party's row (its event counter is kept)."""
        stmt, params = _update_by_id(parties, codec.party_row(party))
        if self._write(stmt, f"update party {party.id}", params).rowcount != 1:
            raise NotFound("party", party.id)

    def get_party(self, party_id: UUID) -> Party | None:
        """The party, or None."""
        row = self._one(_BY_ID[parties], "get party", {"b_id": party_id})
        return None if row is None else codec.party_from_row(row)

    def list_parties(self) -> list[Party]:
        """Every party, by name (then id)."""
        rows = self._all(sa.select(parties).order_by(parties.c.name, parties.c.id), "parties")
        return [codec.party_from_row(r) for r in rows]

    def add_token(self, token: TokenInfo, secret_hash: bytes) -> None:
        """Insert a token's metadata and the hash of its secret."""
        self._write(_INSERT[tokens], f"add token {token.id}", [codec.token_row(token, secret_hash)])

    def token_by_hash(self, secret_hash: bytes) -> TokenInfo | None:
        """The token whose secret hashes to ``secret_hash`` (revoked ones included)."""
        row = self._one(_TOKEN_BY_HASH, "token by hash", {"b_hash": secret_hash})
        return None if row is None else codec.token_from_row(row)

    def get_token(self, token_id: UUID) -> TokenInfo | None:
        """The token, or None."""
        row = self._one(_BY_ID[tokens], "get token", {"b_id": token_id})
        return None if row is None else codec.token_from_row(row)

    def list_tokens(self, party_id: UUID) -> list[TokenInfo]:
        """The party's tokens, by creation time (then id)."""
        stmt = (
            sa.select(tokens)
            .where(tokens.c.party_id == party_id)
            .order_by(tokens.c.created_at, tokens.c.id)
        )
        return [codec.token_from_row(r) for r in self._all(stmt, "list tokens")]

    def revoke_token(self, token_id: UUID, at: datetime) -> None:
        """Revoke the token at ``at`` (a token already revoked keeps its first time)."""
        stmt = (
            sa.update(tokens)
            .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
            .values(revoked_at=utc(at, "at"))
        )
        changed = self._write(stmt, f"revoke token {token_id}").rowcount
        if changed == 0 and self.get_token(token_id) is None:
            raise NotFound("token", token_id)

    # -- activities -------------------------------------------------------------------------

    def add_activity(self, activity: Activity) -> None:
        """Insert an activity as its current row and its first kept version."""
        row = codec.activity_row(activity)
        what = f"add activity {activity.id}"
        self._write(_INSERT[activities], what, [row])
        self._write(_INSERT[activity_versions], what, [row])

    def update_activity(self, activity: Activity, expected_version: int) -> bool:
        """Replace the current row if it is at ``expected_version``; keep the new version."""
        row = codec.activity_row(activity)
        stmt, params = _update_by_id(activities, row, expected_version)
        what = f"update activity {activity.id}"
        if self._write(stmt, what, params).rowcount != 1:
            return False
        self._write(_INSERT[activity_versions], what, [row])
        return True

    def get_activity(self, activity_id: UUID) -> Activity | None:
        """The current version of the activity, or None."""
        row = self._one(_BY_ID[activities], "get activity", {"b_id": activity_id})
        return None if row is None else codec.activity_from_row(row)

    def get_activity_version(self, activity_id: UUID, version: int) -> Activity | None:
        """One kept version of the activity, or None."""
        params = {"b_id": activity_id, "b_version": version}
        row = self._one(_VERSION[activity_versions], "get activity version", params)
        return None if row is None else codec.activity_from_row(row)

    def activity_versions(self, activity_id: UUID) -> list[Activity]:
        """Every kept version of the activity, oldest first."""
        stmt = (
            sa.select(activity_versions)
            .where(activity_versions.c.id == activity_id)
            .order_by(activity_versions.c.version)
        )
        return [codec.activity_from_row(r) for r in self._all(stmt, "activity versions")]

    def list_activities(
        self,
        *,
        owner: UUID | None = None,
        ids: Collection[UUID] | None = None,
        live_only: bool = False,
        window: TimeWindow | None = None,
        limit: int | None = None,
    ) -> list[Activity]:
        """Current activities by start time, then id; ``window`` keeps those meeting it."""
        c = activities.c
        where: list[sa.ColumnElement[bool]] = []
        if owner is not None:
            where.append(c.owner == owner)
        if live_only:
            where.append(c.state.in_(_LIVE))
        if window is not None:  # closed intervals: touching counts as meeting
            where += [c.starts_at <= window.end, c.ends_at >= window.start]
        order = (c.starts_at, c.id)
        if ids is None:
            stmt = sa.select(activities).where(*where).order_by(*order).limit(limit)
            return [codec.activity_from_row(r) for r in self._all(stmt, "list activities")]
        rows = [
            r
            for part in chunks(ids)
            for r in self._all(
                sa.select(activities).where(c.id.in_(part), *where).order_by(*order).limit(limit),
                "list activities",
            )
        ]
        rows.sort(key=lambda r: (r["starts_at"], r["id"]))
        return [codec.activity_from_row(r) for r in rows[:limit]]

    def iter_live_activities(self, batch: int = 1000) -> Iterator[Activity]:
        """Every notified or active activity, in id order, read ``batch`` rows at a time.

        Keyset pagination on the primary key: memory holds one batch of rows, and each
        activity is decoded only when the consumer reaches it. Consume it inside the
        transaction.
        """
        if batch < 1:
            raise ValueError("batch must be at least 1")
        c = activities.c
        after: UUID | None = None
        while True:
            stmt = sa.select(activities).where(c.state.in_(_LIVE)).order_by(c.id).limit(batch)
            if after is not None:
                stmt = stmt.where(c.id > after)
            rows = self._all(stmt, "live activities")
            for row in rows:
                yield codec.activity_from_row(row)
            if len(rows) < batch:
                return
            after = rows[-1]["id"]

    def iter_live_footprints(self, batch: int = 1000) -> Iterator[LiveActivity]:
        """What the index needs of every live activity (id, owner, kind, volumes), in id
        order, without building whole :class:`Activity` objects: the fast path of a rebuild."""
        if batch < 1:
            raise ValueError("batch must be at least 1")
        c = activities.c
        cols = (c.id, c.owner, c.kind, c.volumes)
        after: UUID | None = None
        while True:
            stmt = sa.select(*cols).where(c.state.in_(_LIVE)).order_by(c.id).limit(batch)
            if after is not None:
                stmt = stmt.where(c.id > after)
            rows = self._all(stmt, "live activities")
            for row in rows:
                yield LiveActivity(
                    row["id"],
                    row["owner"],
                    ActivityKind(row["kind"]),
                    tuple(volume_from_record(v) for v in row["volumes"]),
                )
            if len(rows) < batch:
                return
            after = rows[-1]["id"]

    def count_live_activities(self) -> int:
        """How many activities are notified or active."""
        stmt = sa.select(sa.func.count()).select_from(activities)
        stmt = stmt.where(activities.c.state.in_(_LIVE))
        return int(self._exec(stmt, "count live activities").scalar_one())

    # -- protected sites --------------------------------------------------------------------

    def add_site(self, site: ProtectedSite) -> None:
        """Insert a site as its current row and its first kept version."""
        row = codec.site_row(site)
        what = f"add site {site.id}"
        self._write(_INSERT[sites], what, [row])
        self._write(_INSERT[site_versions], what, [row])

    def update_site(self, site: ProtectedSite, expected_version: int) -> bool:
        """Replace the current row if it is at ``expected_version``; keep the new version."""
        row = codec.site_row(site)
        stmt, params = _update_by_id(sites, row, expected_version)
        what = f"update site {site.id}"
        if self._write(stmt, what, params).rowcount != 1:
            return False
        self._write(_INSERT[site_versions], what, [row])
        return True

    def get_site(self, site_id: UUID) -> ProtectedSite | None:
        """The current version of the site, or None."""
        row = self._one(_BY_ID[sites], "get site", {"b_id": site_id})
        return None if row is None else codec.site_from_row(row)

    def get_site_version(self, site_id: UUID, version: int) -> ProtectedSite | None:
        """One kept version of the site, or None (not in the protocol)."""
        params = {"b_id": site_id, "b_version": version}
        row = self._one(_VERSION[site_versions], "get site version", params)
        return None if row is None else codec.site_from_row(row)

    def list_sites(
        self,
        *,
        owner: UUID | None = None,
        ids: Collection[UUID] | None = None,
        active_only: bool = False,
    ) -> list[ProtectedSite]:
        """Current sites by name, then id."""
        c = sites.c
        where: list[sa.ColumnElement[bool]] = []
        if owner is not None:
            where.append(c.owner == owner)
        if active_only:
            where.append(c.state == SiteState.ACTIVE.value)
        stmts = (
            [sa.select(sites).where(*where)]
            if ids is None
            else [sa.select(sites).where(c.id.in_(part), *where) for part in chunks(ids)]
        )
        rows = [r for s in stmts for r in self._all(s.order_by(c.name, c.id), "list sites")]
        if len(stmts) > 1:
            rows.sort(key=lambda r: (r["name"], r["id"]))
        return [codec.site_from_row(r) for r in rows]

    # -- conflicts --------------------------------------------------------------------------

    def add_conflict(self, conflict: Conflict) -> None:
        """Insert a conflict."""
        self._write(
            _INSERT[conflicts], f"add conflict {conflict.id}", [codec.conflict_row(conflict)]
        )

    def update_conflict(self, conflict: Conflict) -> None:
        """Replace a stored conflict (raises :class:`NotFound` if there is none)."""
        stmt, params = _update_by_id(conflicts, codec.conflict_row(conflict))
        if self._write(stmt, f"update conflict {conflict.id}", params).rowcount != 1:
            raise NotFound("conflict", conflict.id)

    def get_conflict(self, conflict_id: UUID) -> Conflict | None:
        """The conflict, or None."""
        row = self._one(_BY_ID[conflicts], "conflict", {"b_id": conflict_id})
        return None if row is None else codec.conflict_from_row(row)

    def conflicts_of(self, object_id: UUID, *, open_only: bool = True) -> list[Conflict]:
        """Conflicts where ``object_id`` is either side, by detection time (then id)."""
        rows = self._all(_CONFLICTS_OF[open_only], "conflicts of", {"b_id": object_id})
        return [codec.conflict_from_row(r) for r in rows]

    def list_conflicts(
        self, *, party: UUID | None = None, open_only: bool = False, limit: int | None = None
    ) -> list[Conflict]:
        """Conflicts where ``party`` owns either side, newest detection first."""
        c = conflicts.c
        stmt = sa.select(conflicts)
        if party is not None:
            stmt = stmt.where(sa.or_(c.activity_owner == party, c.other_owner == party))
        if open_only:
            stmt = stmt.where(c.status == ConflictStatus.OPEN.value)
        stmt = stmt.order_by(c.detected_at.desc(), c.id.desc()).limit(limit)
        return [codec.conflict_from_row(r) for r in self._all(stmt, "list conflicts")]

    # -- notices ----------------------------------------------------------------------------

    def add_notice(self, notice: Notice, *, event_seq: int | None = None) -> None:
        """Insert a notice; ``event_seq``: the seq of its event in the recipient's stream."""
        row = codec.notice_row(notice) | {"event_seq": event_seq}
        self._write(_INSERT[notices], f"add notice {notice.id}", [row])

    def notices_undelivered_through(
        self, recipient: UUID, seq: int, *, after: int = 0
    ) -> list[Notice]:
        """The recipient's notices not yet delivered whose event seq is ≤ ``seq`` (and >
        ``after``), by seq."""
        params = {"b_party": recipient, "b_seq": seq, "b_after": after}
        rows = self._all(_UNDELIVERED, "undelivered notices", params)
        return [codec.notice_from_row(r) for r in rows]

    def notices_due(self, now: datetime, *, limit: int = 500) -> list[Notice]:
        """Unanswered notices that call for an answer, past their deadline, not yet expired
        or superseded: oldest deadline first."""
        params = {"b_now": utc(now, "now"), "b_limit": limit}
        return [codec.notice_from_row(r) for r in self._all(_DUE, "notices due", params)]

    def update_notice(self, notice: Notice) -> None:
        """Replace a stored notice (raises :class:`NotFound` if there is none)."""
        stmt, params = _update_by_id(notices, codec.notice_row(notice))
        if self._write(stmt, f"update notice {notice.id}", params).rowcount != 1:
            raise NotFound("notice", notice.id)

    def get_notice(self, notice_id: UUID) -> Notice | None:
        """The notice, or None."""
        row = self._one(_BY_ID[notices], "get notice", {"b_id": notice_id})
        return None if row is None else codec.notice_from_row(row)

    def notices_of_activity(
        self, activity_id: UUID, *, recipient: UUID | None = None, current_only: bool = True
    ) -> list[Notice]:
        """Notices about the activity by send time (then id); ``current_only``: not superseded."""
        c = notices.c
        stmt = sa.select(notices).where(c.activity_id == activity_id)
        if recipient is not None:
            stmt = stmt.where(c.recipient == recipient)
        if current_only:
            stmt = stmt.where(c.status != NoticeStatus.SUPERSEDED.value)
        stmt = stmt.order_by(c.sent_at, c.id)
        return [codec.notice_from_row(r) for r in self._all(stmt, "notices of activity")]

    def notice_stats(
        self,
        *,
        sender: UUID | None = None,
        recipient: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[NoticeStat]:
        """Notices from one party to another (not a party's own activity's notices to
        itself), sent in ``[since, until)``: one query on narrow columns, durations computed
        by the database (decoding 100,000 rows of datetimes would take seconds).

        The sender is the activity's owner, read from ``activities`` (its ``owner`` is
        indexed: a party's notices given are found through its activities)."""
        n, a = notices.c, activities.c
        raw = sa.String()  # party ids come back as stored (hex or UUID): decoded once per party
        stmt = (
            sa.select(
                sa.type_coerce(a.owner, raw),
                sa.type_coerce(n.recipient, raw),
                n.reason,
                n.status,
                seconds_between(n.starts_at, n.sent_at),
                n.required_lead_time_s,
                n.insufficient,
                seconds_between(n.answered_at, n.sent_at),
                n.expired_at.is_not(None),
            )
            .select_from(notices.join(activities, a.id == n.activity_id))
            .where(n.recipient != a.owner, n.reason != NoticeReason.MESSAGE.value)  # notices only
        )
        if sender is not None:
            stmt = stmt.where(a.owner == sender)
        if recipient is not None:
            stmt = stmt.where(n.recipient == recipient)
        if since is not None:
            stmt = stmt.where(n.sent_at >= utc(since, "since"))
        if until is not None:
            stmt = stmt.where(n.sent_at < utc(until, "until"))
        reasons = {r.value: r for r in NoticeReason}
        statuses = {s.value: s for s in NoticeStatus}
        ids: dict[object, UUID] = {}

        def party(v: object) -> UUID:
            u = ids.get(v)
            if u is None:
                u = ids[v] = v if isinstance(v, UUID) else UUID(str(v))
            return u

        rows: Sequence[Any] = self._exec(stmt, "notice stats").all()  # 9-column rows
        return [
            NoticeStat(
                party(r[0]),
                party(r[1]),
                reasons[r[2]],
                statuses[r[3]],
                float(r[4]),
                float(r[5]),
                bool(r[6]),
                None if r[7] is None else float(r[7]),
                bool(r[8]),
            )
            for r in rows
        ]

    def list_notices(
        self, recipient: UUID, *, activity_id: UUID | None = None, limit: int | None = None
    ) -> list[Notice]:
        """The recipient's notices, newest first."""
        c = notices.c
        stmt = sa.select(notices).where(c.recipient == recipient)
        if activity_id is not None:
            stmt = stmt.where(c.activity_id == activity_id)
        stmt = stmt.order_by(c.sent_at.desc(), c.id.desc()).limit(limit)
        return [codec.notice_from_row(r) for r in self._all(stmt, "list notices")]

    # -- disclosures ------------------------------------------------------------------------

    def add_disclosure(self, disclosure: Disclosure) -> None:
        """Record that a site was shown to another party."""
        self._write(
            _INSERT[disclosures],
            f"add disclosure {disclosure.id}",
            [codec.disclosure_row(disclosure)],
        )

    def list_disclosures(
        self, *, site_id: UUID | None = None, recipient: UUID | None = None
    ) -> list[Disclosure]:
        """Disclosures, oldest first (then id)."""
        c = disclosures.c
        stmt = sa.select(disclosures)
        if site_id is not None:
            stmt = stmt.where(c.site_id == site_id)
        if recipient is not None:
            stmt = stmt.where(c.recipient == recipient)
        stmt = stmt.order_by(c.disclosed_at, c.id)
        return [codec.disclosure_from_row(r) for r in self._all(stmt, "list disclosures")]

    # -- event streams ----------------------------------------------------------------------

    def append_event(
        self, party_id: UUID, type: str, payload: Mapping[str, Any], at: datetime
    ) -> Event:
        """Store the party's next event.

        The seq comes from the party row's counter, incremented by an ``UPDATE …
        RETURNING`` in this transaction: the row lock serialises concurrent writers on
        PostgreSQL, and a rollback gives the number back, so seqs have no gaps.
        """
        at = utc(at, "at")
        body = dict(payload)
        what = f"append event for party {party_id}"
        seq = self._write(_BUMP_SEQ, what, {"b_id": party_id, "b_k": 1}).scalar_one_or_none()
        if seq is None:
            raise IntegrityViolation(f"{what}: no such party")
        row = {"party_id": party_id, "seq": seq, "type": type, "payload": body, "created_at": at}
        self._write(_INSERT[events], what, [row])
        return Event(party_id=party_id, seq=int(seq), type=type, payload=body, created_at=at)

    def append_events(
        self, items: Sequence[tuple[UUID, str, Mapping[str, Any]]], at: datetime
    ) -> list[Event]:
        """Store several events at once, in order: one counter update per party (in party-id
        order, so concurrent writers on PostgreSQL lock rows in the same order) and one
        batched insert."""
        if not items:
            return []
        at = utc(at, "at")
        counts: dict[UUID, int] = {}
        for party_id, _, _ in items:
            counts[party_id] = counts.get(party_id, 0) + 1
        next_seq: dict[UUID, int] = {}
        for party_id in sorted(counts, key=str):
            k = counts[party_id]
            what = f"append events for party {party_id}"
            last = self._write(_BUMP_SEQ, what, {"b_id": party_id, "b_k": k}).scalar_one_or_none()
            if last is None:
                raise IntegrityViolation(f"{what}: no such party")
            next_seq[party_id] = int(last) - k + 1
        out: list[Event] = []
        rows: list[dict[str, Any]] = []
        for party_id, type_, payload in items:
            seq = next_seq[party_id]
            next_seq[party_id] = seq + 1
            body = dict(payload)
            rows.append(
                {"party_id": party_id, "seq": seq, "type": type_, "payload": body, "created_at": at}
            )
            out.append(Event(party_id=party_id, seq=seq, type=type_, payload=body, created_at=at))
        self._write(_INSERT[events], "append events", rows)
        return out

    def events_since(self, party_id: UUID, seq: int, *, limit: int = 1000) -> list[Event]:
        """The party's events with a seq above ``seq``, in order."""
        c = events.c
        stmt = (
            sa.select(events)
            .where(c.party_id == party_id, c.seq > seq)
            .order_by(c.seq)
            .limit(limit)
        )
        return [codec.event_from_row(r) for r in self._all(stmt, "events since")]

    def last_seq(self, party_id: UUID) -> int:
        """The party's latest event seq (0 when none, or no such party)."""
        stmt = sa.select(parties.c.last_seq).where(parties.c.id == party_id)
        value = self._exec(stmt, "last seq").scalar_one_or_none()
        return 0 if value is None else int(value)

    # -- assets -----------------------------------------------------------------------------

    def put_asset(self, asset: Asset) -> None:
        """Insert or replace the asset's latest report (by id)."""
        row = codec.asset_row(asset)
        stmt, params = _update_by_id(assets, row)
        if self._write(stmt, f"update asset {asset.id}", params).rowcount == 0:
            self._write(_INSERT[assets], f"add asset {asset.id}", [row])

    def asset_by_ref(self, owner: UUID, ref: str) -> Asset | None:
        """The party's asset it calls ``ref``, or None."""
        row = self._one(_ASSET_BY_REF, "asset by ref", {"b_owner": owner, "b_ref": ref})
        return None if row is None else codec.asset_from_row(row)

    def list_assets(self, owner: UUID | None = None) -> list[Asset]:
        """Assets (of ``owner``, or every party's), by owner then ref."""
        stmt = sa.select(assets).order_by(assets.c.owner, assets.c.ref)
        if owner is not None:
            stmt = stmt.where(assets.c.owner == owner)
        return [codec.asset_from_row(r) for r in self._all(stmt, "list assets")]

    # -- webhooks ---------------------------------------------------------------------------

    def add_webhook(self, hook: Webhook, secret: str) -> None:
        """Insert a webhook with its secret (one per party and level)."""
        what = f"add webhook {hook.party_id} level {hook.level}"
        self._write(_INSERT[webhooks], what, [codec.webhook_row(hook, secret)])

    def update_webhook(self, hook: Webhook, secret: str) -> None:
        """Replace a webhook's configuration, state and secret (raises :class:`NotFound`)."""
        c = webhooks.c
        row = codec.webhook_row(hook, secret)
        values = {k: v for k, v in row.items() if k not in ("party_id", "level", "created_at")}
        stmt = (
            sa.update(webhooks)
            .where(c.party_id == hook.party_id, c.level == hook.level)
            .values(values)
        )
        if self._write(stmt, f"update webhook {hook.party_id}").rowcount != 1:
            raise NotFound("webhook", f"{hook.party_id} level {hook.level}")

    def set_webhook_state(
        self, party_id: UUID, level: int, state: WebhookState, *, expected_cursor: int
    ) -> bool:
        """Replace the delivery state if the cursor is still ``expected_cursor``."""
        c = webhooks.c
        stmt = (
            sa.update(webhooks)
            .where(c.party_id == party_id, c.level == level, c.cursor == expected_cursor)
            .values(codec.webhook_state_row(state))
        )
        return bool(self._write(stmt, f"webhook state {party_id}").rowcount == 1)

    def get_webhook(self, party_id: UUID, level: int) -> Webhook | None:
        """The party's webhook at ``level``, or None."""
        c = webhooks.c
        stmt = sa.select(webhooks).where(c.party_id == party_id, c.level == level)
        row = self._one(stmt, "get webhook")
        return None if row is None else codec.webhook_from_row(row)

    def webhook_secret(self, party_id: UUID, level: int) -> str | None:
        """The shared secret of the party's webhook at ``level``, or None."""
        c = webhooks.c
        stmt = sa.select(c.secret).where(c.party_id == party_id, c.level == level)
        value = self._exec(stmt, "webhook secret").scalar_one_or_none()
        return None if value is None else str(value)

    def list_webhooks(self, party_id: UUID | None = None) -> list[Webhook]:
        """Webhooks (of ``party_id``, or all), by party then level."""
        c = webhooks.c
        stmt = sa.select(webhooks).order_by(c.party_id, c.level)
        if party_id is not None:
            stmt = stmt.where(c.party_id == party_id)
        return [codec.webhook_from_row(r) for r in self._all(stmt, "list webhooks")]

    def pending_webhooks(self) -> list[Webhook]:
        """Enabled webhooks whose cursor is behind their party's last event seq."""
        c = webhooks.c
        stmt = (
            sa.select(webhooks)
            .join(parties, parties.c.id == c.party_id)
            .where(c.enabled.is_(True), c.cursor < parties.c.last_seq)
            .order_by(c.party_id, c.level)
        )
        return [codec.webhook_from_row(r) for r in self._all(stmt, "pending webhooks")]

    def delete_webhook(self, party_id: UUID, level: int) -> bool:
        """Remove the party's webhook at ``level``; False when there was none."""
        c = webhooks.c
        stmt = sa.delete(webhooks).where(c.party_id == party_id, c.level == level)
        return bool(self._write(stmt, f"delete webhook {party_id}").rowcount == 1)

    # -- idempotency keys -------------------------------------------------------------------

    def get_idempotency(self, party_id: UUID, key: str) -> IdempotencyRecord | None:
        """The recorded outcome for the party's key, or None."""
        params = {"b_party": party_id, "b_key": key}
        row = self._one(_IDEMPOTENCY, "get idempotency record", params)
        return None if row is None else codec.idempotency_from_row(row)

    def put_idempotency(self, record: IdempotencyRecord) -> None:
        """Record an outcome (a key already recorded raises :class:`IntegrityViolation`)."""
        self._write(
            _INSERT[idempotency],
            f"put idempotency key {record.key!r}",
            [codec.idempotency_row(record)],
        )
