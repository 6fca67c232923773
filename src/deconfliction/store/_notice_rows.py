"""Notices and site disclosures: the rows behind who was told what, and when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from deconfliction.errors import NotFound
from deconfliction.hotline import (
    Disclosure,
    NoticeStat,
)
from deconfliction.model import (
    Notice,
    NoticeReason,
    NoticeStatus,
)
from deconfliction.store import _codec as codec
from deconfliction.store._exec import Executor
from deconfliction.store._functions import seconds_between
from deconfliction.store._schema import (
    activities,
    disclosures,
    notices,
)
from deconfliction.store._statements import (
    BY_ID,
    DUE,
    INSERT,
    UNDELIVERED,
    update_by_id,
)
from deconfliction.store._types import utc

__all__ = ["NoticeRows"]


class NoticeRows(Executor):
    """Notice and disclosure statements of :class:`~deconfliction.store.SqlTransaction`."""

    # -- notices ----------------------------------------------------------------------------

    def add_notice(self, notice: Notice, *, event_seq: int | None = None) -> None:
        """Insert a notice; ``event_seq``: the seq of its event in the recipient's stream."""
        row = codec.notice_row(notice) | {"event_seq": event_seq}
        self._write(INSERT[notices], f"add notice {notice.id}", [row])

    def notices_undelivered_through(
        self, recipient: UUID, seq: int, *, after: int = 0
    ) -> list[Notice]:
        """The recipient's notices not yet delivered whose event seq is ≤ ``seq`` (and >
        ``after``), by seq."""
        params = {"b_party": recipient, "b_seq": seq, "b_after": after}
        rows = self._all(UNDELIVERED, "undelivered notices", params)
        return [codec.notice_from_row(r) for r in rows]

    def notices_due(self, now: datetime, *, limit: int = 500) -> list[Notice]:
        """Unanswered notices that call for an answer, past their deadline, not yet expired
        or superseded: oldest deadline first."""
        params = {"b_now": utc(now, "now"), "b_limit": limit}
        return [codec.notice_from_row(r) for r in self._all(DUE, "notices due", params)]

    def open_alert_notices(self) -> list[Notice]:
        """Notices of tactical alerts with no answer, not superseded or expired, by seq."""
        c = notices.c
        final = [NoticeStatus.SUPERSEDED.value, NoticeStatus.EXPIRED.value]
        stmt = (
            sa.select(notices)
            .where(c.alert_id.is_not(None), c.answered_at.is_(None), c.status.not_in(final))
            .order_by(c.recipient, c.event_seq)
        )
        return [codec.notice_from_row(r) for r in self._all(stmt, "open alert notices")]

    def update_notice(self, notice: Notice) -> None:
        """Replace a stored notice (raises :class:`NotFound` if there is none)."""
        stmt, params = update_by_id(notices, codec.notice_row(notice))
        if self._write(stmt, f"update notice {notice.id}", params).rowcount != 1:
            raise NotFound("notice", notice.id)

    def get_notice(self, notice_id: UUID) -> Notice | None:
        """The notice, or None."""
        row = self._one(BY_ID[notices], "get notice", {"b_id": notice_id})
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
            INSERT[disclosures],
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
