"""Hotline messages: a thread per activity or conflict between the parties concerned.

A message is a notice with reason ``message`` — so it has the same lifecycle (delivered on
stream confirmation, read, acknowledged or objected, escalated up the recipient's ladder,
expired), the same ledger record and receipts. Templates structure the common ones
(request clarification, request delay, confirm clear) and the urgent *cease — harm in
progress at a notified site*, whose answer deadline is short (:data:`CEASE_DEADLINE_S`)
so that it climbs the recipient's escalation ladder fast.

Who may write: on an activity's thread its owner and every party it affects (an open
conflict with it, or a current notice about it); on a conflict's thread its two owners.
The owner of an activity says to whom (``to``); another party always writes to the owner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from deconfliction.errors import Forbidden, InvalidInput, NotFound
from deconfliction.hotline._core import Core
from deconfliction.hotline._json import notice_json
from deconfliction.hotline._ports import Event, Fact, Principal, Transaction
from deconfliction.model import Activity, MessageTemplate, Notice, NoticeReason, Role

__all__ = ["CEASE_DEADLINE_S", "MAX_TEXT", "MessageServices"]

CEASE_DEADLINE_S = 120.0
"""Answer deadline of a *cease — harm in progress* message (then it escalates)."""

MAX_TEXT = 4000
"""Longest message text, in characters."""

_LABELS = {
    MessageTemplate.FREE_TEXT: "message",
    MessageTemplate.REQUEST_CLARIFICATION: "request for clarification",
    MessageTemplate.REQUEST_DELAY: "request to delay",
    MessageTemplate.CONFIRM_CLEAR: "confirms clear",
    MessageTemplate.CEASE_HARM: "URGENT: CEASE — harm in progress at a notified site",
}


class MessageServices(Core):
    """Send and read hotline messages (answer them like notices)."""

    def _thread(
        self, tx: Transaction, p: Principal, activity_id: UUID | None, conflict_id: UUID | None
    ) -> tuple[Activity, UUID | None, set[UUID]]:
        """The thread's activity, conflict and the parties on it (the caller among them)."""
        if (activity_id is None) == (conflict_id is None):
            raise InvalidInput("thread", "give exactly one of activity_id or conflict_id")
        if conflict_id is not None:
            c = tx.get_conflict(conflict_id)
            if c is None or p.party_id not in (c.activity_owner, c.other_owner):
                raise NotFound("conflict", conflict_id)
            act = tx.get_activity(c.activity_id)
            if act is None:  # pragma: no cover - conflicts reference stored activities
                raise NotFound("conflict", conflict_id)
            return act, c.id, {c.activity_owner, c.other_owner}
        assert activity_id is not None
        act = tx.get_activity(activity_id)
        if act is None:
            raise NotFound("activity", activity_id)
        parties = {act.owner}
        for c in tx.conflicts_of(act.id, open_only=True):
            parties |= {c.activity_owner, c.other_owner}
        parties |= {
            n.recipient
            for n in tx.notices_of_activity(act.id, current_only=True)
            if n.reason is not NoticeReason.MESSAGE
        }
        if p.party_id not in parties:
            raise NotFound("activity", activity_id)
        return act, None, parties

    def send_message(
        self,
        p: Principal,
        *,
        template: MessageTemplate | str,
        text: str = "",
        activity_id: UUID | None = None,
        conflict_id: UUID | None = None,
        to: UUID | None = None,
    ) -> Notice:
        """Send a message on a thread; returns it (a notice with reason ``message``)."""
        self._need(p, Role.OPERATOR)
        try:
            tpl = MessageTemplate(template)
        except ValueError:
            known = ", ".join(t.value for t in MessageTemplate)
            raise InvalidInput("template", f"must be one of: {known}") from None
        text = text.strip()
        if len(text) > MAX_TEXT:
            raise InvalidInput("text", f"at most {MAX_TEXT} characters")
        if tpl is MessageTemplate.FREE_TEXT and not text:
            raise InvalidInput("text", "a free-text message needs text")

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> Notice:
            del after
            act, cid, parties = self._thread(tx, p, activity_id, conflict_id)
            others = parties - {p.party_id}
            if to is not None:
                if to not in others:
                    raise InvalidInput("to", "is not another party on this thread")
                recipient = to
            elif len(others) == 1:
                (recipient,) = others
            elif p.party_id != act.owner and act.owner in others:
                recipient = act.owner
            else:
                raise InvalidInput("to", "several parties are on this thread: say which")
            if recipient == p.party_id:  # pragma: no cover - excluded above
                raise Forbidden("a party does not message itself")
            sender = self._names.get(p.party_id)
            if sender is None:
                got = tx.get_party(p.party_id)
                sender = self._names[p.party_id] = got.name if got else str(p.party_id)
            kp = self.policy.for_kind(act.kind)
            wait = CEASE_DEADLINE_S if tpl is MessageTemplate.CEASE_HARM else kp.ack_deadline_s
            summary = f"{sender}: {_LABELS[tpl]} about '{act.title}'"
            if text:
                summary += f" — {text[:200]}"
            n = Notice(
                id=uuid4(),
                recipient=recipient,
                activity_id=act.id,
                activity_version=act.version,
                reason=NoticeReason.MESSAGE,
                sent_at=now,
                starts_at=act.start,
                required_lead_time_s=0.0,
                deadline=now + timedelta(seconds=wait),
                conflict_id=cid,
                summary=summary,
                owner=p.party_id,  # the sender: told of the answer
                template=tpl.value,
                text=text,
            )
            concerned = (recipient, p.party_id)
            if self.recorder is not None:
                fact = Fact("message.sent", {"notice": notice_json(n)}, concerned)
                (receipt,) = self.recorder.record(tx, now, p, [fact])
                n = replace(n, receipt=receipt.to_json())
            body = {"notice": notice_json(n), "urgent": tpl is MessageTemplate.CEASE_HARM}
            (ev,) = tx.append_events([(recipient, "message", body)], now)
            tx.add_notice(n, event_seq=ev.seq)
            events.append(ev)
            events.extend(tx.append_events([(p.party_id, "message.sent", body)], now))
            return n

        return self._submit(run)

    def thread(
        self, p: Principal, *, activity_id: UUID | None = None, conflict_id: UUID | None = None
    ) -> list[Notice]:
        """The messages on a thread that the caller sent or received, oldest first."""
        with self.store.read() as tx:
            act, cid, _ = self._thread(tx, p, activity_id, conflict_id)
            msgs = [
                n
                for n in tx.notices_of_activity(act.id, current_only=False)
                if n.reason is NoticeReason.MESSAGE
                and p.party_id in (n.recipient, n.owner)
                and (cid is None or n.conflict_id == cid)
            ]
        return msgs
