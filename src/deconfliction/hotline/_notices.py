"""The notice lifecycle: delivery, reading, acknowledgement or objection, expiry.

Each step is a write like any other: stamped by the hub's clock, recorded on the ledger
in the same transaction (the response carries the entry's receipt) and told, as a stream
event, to the activity's owner (so it sees who has and has not answered) and to the
recipient (so its other consoles follow). Nothing here blocks an activity: an expired
notice is made visible, never enforced.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from deconfliction.errors import InvalidInput, InvalidSignature, NotFound
from deconfliction.hotline._core import Core
from deconfliction.hotline._json import notice_json
from deconfliction.hotline._ports import Event, Fact, Principal, Receipt, Transaction
from deconfliction.hotline._reconcile import receipt_from
from deconfliction.hotline._results import Idempotency, Signed
from deconfliction.model import DeliveryChannel, Notice, Party, Role

__all__ = ["NoticeServices", "NoticeStep"]

EXPIRY_BATCH = 500
"""Most notices expired by one sweep (the next sweep takes the rest)."""


@dataclass(frozen=True, slots=True)
class NoticeStep:
    """A notice after one lifecycle step, and the ledger receipt of that step."""

    notice: Notice
    receipt: Receipt | None


def _concerned(n: Notice) -> tuple[UUID, ...]:
    return (n.recipient,) if n.owner is None or n.owner == n.recipient else (n.recipient, n.owner)


class NoticeServices(Core):
    """Confirm delivery, mark read, acknowledge, object; expire what is overdue."""

    def _record(
        self, tx: Transaction, now: datetime, actor: Principal | None, facts: list[Fact]
    ) -> list[Receipt | None]:
        if self.recorder is None or not facts:
            return [None] * len(facts)
        return list(self.recorder.record(tx, now, actor, facts))

    def _tell(
        self,
        tx: Transaction,
        now: datetime,
        events: list[Event],
        n: Notice,
        type_: str,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Store the step's event for the recipient and the activity's owner."""
        body = {"notice": notice_json(n)} | dict(extra or {})
        items = [(party, type_, body) for party in _concerned(n)]
        events.extend(tx.append_events(items, now))

    @staticmethod
    def _own_notice(tx: Transaction, p: Principal, notice_id: UUID) -> Notice:
        n = tx.get_notice(notice_id)
        if n is None or n.recipient != p.party_id:
            raise NotFound("notice", notice_id)
        return n

    # ------------------------------------------------------------------ delivery

    def confirm_delivery(self, p: Principal, through_seq: int) -> list[Notice]:
        """The party's client has every event of its stream up to ``through_seq``: its
        notices sent with those events are delivered now (the first confirmation counts).
        Returns the notices this confirmation delivered."""
        self._need(p, Role.OBSERVER)
        if through_seq < 0:
            raise InvalidInput("seq", "must be a non-negative integer")

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> list[Notice]:
            del after
            last = tx.last_seq(p.party_id)
            if through_seq > last:
                raise InvalidInput(
                    "seq", f"is ahead of the stream: the last event is {last}, got {through_seq}"
                )
            return self._deliver(tx, now, events, p.party_id, through_seq, actor=p)

        return self._submit(run)

    def _deliver(
        self,
        tx: Transaction,
        now: datetime,
        events: list[Event],
        party_id: UUID,
        through_seq: int,
        *,
        actor: Principal | None,
        after: int = 0,
        via: DeliveryChannel = DeliveryChannel.CLIENT,
        fact: Mapping[str, Any] | None = None,
    ) -> list[Notice]:
        """Mark delivered (``via``) the party's notices sent with its events in
        (``after``, ``through_seq``]; record it (``fact``: more of the entry's payload) and
        tell each notice's owner. ``actor`` None: the hub acted (a webhook took the event)."""
        todo = tx.notices_undelivered_through(party_id, through_seq, after=after)
        if not todo:
            return []
        done = [n.delivered(now, via) for n in todo]
        for n in done:
            tx.update_notice(n)
        parties = sorted({q for n in done for q in _concerned(n)}, key=str)
        payload = {"through_seq": through_seq, "notices": [str(n.id) for n in done]}
        self._record(
            tx, now, actor, [Fact("notice.delivered", payload | dict(fact or {}), tuple(parties))]
        )
        for n in done:
            if n.owner is not None and n.owner != n.recipient:
                body = {"notice": notice_json(n)}
                events.extend(tx.append_events([(n.owner, "notice.delivered", body)], now))
        return done

    # ------------------------------------------------------------------ reading and answers

    def read_notice(self, p: Principal, notice_id: UUID) -> NoticeStep:
        """A person of the recipient party opened the notice (idempotent: the first counts)."""
        self._need(p, Role.OBSERVER)

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> NoticeStep:
            del after
            n = self._own_notice(tx, p, notice_id)
            if n.read_at is not None:
                return NoticeStep(n, None)
            n = n.read(now)
            tx.update_notice(n)
            (receipt,) = self._record(
                tx, now, p, [Fact("notice.read", {"notice": notice_json(n)}, _concerned(n))]
            )
            self._tell(tx, now, events, n, "notice.read")
            return NoticeStep(n, receipt)

        return self._submit(run)

    def acknowledge(
        self,
        p: Principal,
        notice_id: UUID,
        *,
        signed: Signed | None = None,
        idempotency: Idempotency | None = None,
    ) -> NoticeStep:
        """Received and understood (never approval). One answer per notice. ``signed``: the
        party's signature of ``{"action": "acknowledge", "notice": "<id>"}``.
        ``idempotency``: a repeat of the same request (e.g. re-sent after the hub was
        killed before answering) returns what the first one did instead of a conflict."""
        return self._answer(p, notice_id, None, signed, idempotency)

    def object(
        self,
        p: Principal,
        notice_id: UUID,
        reason: str,
        *,
        signed: Signed | None = None,
        idempotency: Idempotency | None = None,
    ) -> NoticeStep:
        """A structured objection with a reason; the activity's owner sees it at once.
        ``signed``: of ``{"action": "object", "notice": "<id>", "reason": "<reason>"}``."""
        if not isinstance(reason, str):
            raise InvalidInput("reason", "must be a string")
        return self._answer(p, notice_id, reason, signed, idempotency)

    @staticmethod
    def answer_document(notice_id: UUID, objection: str | None) -> dict[str, str]:
        """What a party signs to answer a notice."""
        if objection is None:
            return {"action": "acknowledge", "notice": str(notice_id)}
        return {"action": "object", "notice": str(notice_id), "reason": objection}

    def _answer(
        self,
        p: Principal,
        notice_id: UUID,
        objection: str | None,
        signed: Signed | None,
        idempotency: Idempotency | None = None,
    ) -> NoticeStep:
        self._need(p, Role.OPERATOR)
        if signed is not None and signed.submission != self.answer_document(notice_id, objection):
            raise InvalidSignature(
                "signature",
                "the signed document is not this answer: sign "
                + json.dumps(self.answer_document(notice_id, objection)),
            )

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> NoticeStep:
            del after
            rec = self._replayed(tx, p, idempotency)
            if rec is not None:  # answered by the first request: the notice as it is now
                return NoticeStep(self._own_notice(tx, p, notice_id), receipt_from(rec.result))
            sub, sig = self._signature(tx, p, signed) or (None, None)
            n = self._own_notice(tx, p, notice_id).answer(now, objection)
            tx.update_notice(n)
            type_ = "notice.acknowledged" if objection is None else "notice.objected"
            fact = Fact(type_, {"notice": notice_json(n)}, _concerned(n), sub, sig)
            (receipt,) = self._record(tx, now, p, [fact])
            extra = {} if receipt is None else {"receipt": receipt.to_json()}
            self._tell(tx, now, events, n, type_, extra)
            self._remember(tx, p, idempotency, {"notice": str(n.id), **extra}, now)
            return NoticeStep(n, receipt)

        return self._submit(run)

    # ------------------------------------------------------------------ deadlines

    def expire_due(self) -> list[Notice]:
        """Deal with the notices whose answer deadline has passed (the hub acts, no party):
        each goes up one level of its recipient's escalation ladder with a new deadline, or,
        at the top of the ladder, expires. The activity's owner is told "<party> has not
        acknowledged" either way, and the recipient is told too (its consoles at the new
        level see it). Run periodically by the server; returns the notices it changed."""
        with self.store.read() as tx:  # the common case, nothing due: no write transaction
            if not tx.notices_due(self._now(), limit=1):
                return []

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> list[Notice]:
            del after
            due = [n for n in tx.notices_due(now, limit=EXPIRY_BATCH) if n.due(now)]
            if not due:
                return []
            done: list[Notice] = []
            facts: list[Fact] = []
            told: list[tuple[Notice, str, dict[str, Any]]] = []
            for n in due:
                party = self._ladder(tx, n.recipient)
                name = party.name if party is not None else str(n.recipient)
                ladder = party.escalation if party is not None else ()
                if n.level < len(ladder):
                    level = ladder[n.level]
                    up = n.escalated(now, level.name, now + timedelta(seconds=level.deadline_s))
                    msg = f"{name} has not acknowledged; escalated to its {level.name}"
                    extra = {"message": msg, "level": up.level, "level_name": level.name}
                    done.append(up)
                    facts.append(
                        Fact("notice.escalated", {"notice": notice_json(up)}, _concerned(up))
                    )
                    told.append((up, "notice.escalated", extra))
                else:
                    gone = n.expired(now)
                    done.append(gone)
                    facts.append(
                        Fact("notice.expired", {"notice": notice_json(gone)}, _concerned(gone))
                    )
                    told.append((gone, "notice.expired", {"message": f"{name} has not answered"}))
            for n in done:
                tx.update_notice(n)
            self._record(tx, now, None, facts)
            for n, type_, extra in told:
                self._tell(tx, now, events, n, type_, extra)
            return done

        return self._submit(run)

    def _ladder(self, tx: Transaction, party_id: UUID) -> Party | None:
        """The recipient party (for its name and escalation ladder), cached until changed."""
        party = self._ladders.get(party_id)
        if party is None:
            party = tx.get_party(party_id)
            if party is not None:
                self._ladders[party_id] = party
        return party
