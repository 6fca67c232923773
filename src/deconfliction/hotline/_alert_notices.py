"""Telling tactical alerts: each party's notice of a raised alert, the clearing of its
unanswered notices, and the alerts open now as the nodes share them (``open_alerts``
table: ``GET /v1/alerts`` on any node, and alerts left behind by a node that restarted or
died are cleared by the nodes that remain)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from deconfliction.detect import Alert, AlertKind
from deconfliction.hotline._json import notice_json
from deconfliction.hotline._ports import Event, Fact, OpenAlert, Principal, Transaction
from deconfliction.hotline._tracks import TrackServices
from deconfliction.model import Activity, Notice, NoticeReason, NoticeStatus

__all__ = ["AlertNotices"]

_FINAL = frozenset({NoticeStatus.SUPERSEDED, NoticeStatus.EXPIRED})


class AlertNotices(TrackServices):
    """Notices of alerts, and the open alerts the nodes share (see the module docstring)."""

    judged_by: str | None = None
    """This node's name when several nodes judge alerts (None: one node)."""

    def _keep_open(
        self,
        tx: Transaction,
        now: datetime,
        body: dict[str, Any],
        parties: list[UUID],
        raised: datetime,
    ) -> None:
        """Keep the alert as told now (raised, updated or contingent) for every node."""
        tx.put_open_alert(
            OpenAlert(UUID(body["id"]), self.judged_by, tuple(parties), body, raised, now)
        )

    def _orphaned_alerts(self, gone: Callable[[str | None], bool], *, every_notice: bool) -> int:
        """Clear the alerts whose judge is ``gone`` (restarted, died or left: its alerts
        lived in its memory, so nothing would ever clear them and their unanswered notices
        would climb the ladders for a situation nobody follows). Each is cleared as a
        clearing does — its unanswered notices superseded, ``alert.cleared`` told with
        ``"orphaned": true`` — and a situation still current is raised again from the next
        reports. ``every_notice``: also every other unanswered alert notice (one node:
        those of alerts from before the shared table). Returns how many notices."""
        with self.store.read() as tx:  # the common case, none: no write transaction
            if not any(gone(r.judged_by) for r in tx.open_alerts()) and not (
                every_notice and tx.open_alert_notices()
            ):
                return 0

        def run(
            tx: Transaction, now: datetime, events: list[Event], after: list[Callable[[], None]]
        ) -> int:
            del after
            rows = [r for r in tx.open_alerts() if gone(r.judged_by)]
            ids = {r.id for r in rows}
            notices = [n.id for n in tx.open_alert_notices() if every_notice or n.alert_id in ids]
            self._clear(tx, now, events, notices)
            for r in rows:
                tx.drop_open_alert(r.id)
                body = dict(r.body) | {"orphaned": True}
                events.extend(
                    tx.append_events(
                        [(p, "alert.cleared", {"alert": body}) for p in r.parties], now
                    )
                )
                if self.recorder is not None:
                    self.recorder.record(
                        tx, now, None, [Fact("alert.cleared", {"alert": body}, r.parties)]
                    )
            return len(notices)

        return self._submit(run)

    def shared_alerts(self, p: Principal) -> list[dict[str, Any]]:
        """The open alerts concerning ``p``'s party as the nodes last told them."""
        with self.store.read() as tx:
            rows = tx.open_alerts()
        return [dict(r.body) for r in rows if p.party_id in r.parties]

    def _raise(
        self,
        tx: Transaction,
        now: datetime,
        events: list[Event],
        a: Alert,
        body: dict[str, Any],
        parties: list[UUID],
    ) -> list[UUID]:
        """A notice of the alert to each party concerned (acknowledged, escalated and on the
        ledger like any notice); returns their ids."""
        act = tx.get_activity(a.activity) if isinstance(a.activity, UUID) else None
        deadline = now + timedelta(seconds=self.policy.tracks.alert_deadline_s)
        notices = []
        for party in parties:
            others = [x for x in parties if x != party]
            n = Notice(
                id=uuid4(),
                recipient=party,
                activity_id=None if act is None else act.id,
                activity_version=0 if act is None else act.version,
                reason=NoticeReason.ALERT,
                sent_at=now,
                starts_at=now,
                required_lead_time_s=0.0,
                deadline=deadline,
                summary=self._alert_summary(tx, a, body, act),
                owner=others[0] if len(others) == 1 else None,
                alert_id=UUID(body["id"]),
                alert=body,
            )
            notices.append(n)
        if self.recorder is not None:
            facts = [
                Fact("alert.raised", {"alert": body, "notice": notice_json(n)}, tuple(parties))
                for n in notices
            ]
            receipts = self.recorder.record(tx, now, None, facts)
            notices = [
                replace(n, receipt=r.to_json()) for n, r in zip(notices, receipts, strict=True)
            ]
        for n in notices:
            (ev,) = tx.append_events(
                [(n.recipient, "alert.raised", {"alert": body, "notice": notice_json(n)})], now
            )
            tx.add_notice(n, event_seq=ev.seq)
            events.append(ev)
        return [n.id for n in notices]

    def _clear(
        self,
        tx: Transaction,
        now: datetime,
        events: list[Event],
        notice_ids: list[UUID],
    ) -> None:
        """The alert is over: its notices still unanswered are superseded (they would
        otherwise climb the ladder for a situation that has ended; the ledger keeps that
        they were never answered)."""
        for nid in notice_ids:
            n = tx.get_notice(nid)
            if n is None or n.answered or n.status in _FINAL:
                continue
            s = n.superseded(now)
            tx.update_notice(s)
            (ev,) = tx.append_events(
                [(s.recipient, "notice.superseded", {"notice": notice_json(s)})], now
            )
            events.append(ev)

    def _alert_summary(
        self, tx: Transaction, a: Alert, body: dict[str, Any], act: Activity | None
    ) -> str:
        def name(party: UUID) -> str:
            got = self._names.get(party)
            if got is None:
                found = tx.get_party(party)
                got = self._names[party] = found.name if found else str(party)
            return got

        tracks = ", ".join(f"{name(UUID(t['party']))} {t['key']}" for t in body["tracks"])
        if a.kind is AlertKind.PROXIMITY:
            return (
                f"PROXIMITY: {tracks} predicted to lose separation in {a.time_to_s or 0:.0f} s"
                f" (closest {a.cpa_distance_m or 0:.0f} m at {a.cpa_time_s or 0:.0f} s)"
            )
        what = f"'{act.title}' of {name(act.owner)}" if act is not None else "a declared area"
        if a.kind is AlertKind.INCURSION:
            when = "inside" if not a.time_to_s else f"entering in {a.time_to_s:.0f} s"
            return f"INCURSION: {tracks} {when} {what}"
        lon, lat = (a.position or (0.0, 0.0, 0.0))[:2]
        return f"NON-CONFORMING: {what} observed outside its declared area ({tracks} at {lat:.4f}, {lon:.4f})"

    @staticmethod
    def _audience(tx: Transaction, a: Alert) -> frozenset[UUID]:
        """Who is told of ``a``: its parties, and for a non-conforming activity every party
        it affects (open conflicts): they planned around the area it declared."""
        parties = {p for p in a.parties if isinstance(p, UUID)}
        if a.kind is AlertKind.NON_CONFORMING and isinstance(a.activity, UUID):
            for c in tx.conflicts_of(a.activity, open_only=True):
                parties.add(c.other_owner if c.activity_id == a.activity else c.activity_owner)
        return frozenset(parties)
