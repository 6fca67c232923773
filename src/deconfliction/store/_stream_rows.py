"""Per-party event streams (gap-free seqs) and the webhooks that carry them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from deconfliction.errors import NotFound
from deconfliction.hotline import (
    Event,
)
from deconfliction.model import (
    Webhook,
    WebhookState,
)
from deconfliction.store import _codec as codec
from deconfliction.store._errors import IntegrityViolation
from deconfliction.store._exec import Executor
from deconfliction.store._schema import (
    events,
    parties,
    webhooks,
)
from deconfliction.store._statements import (
    BUMP_SEQ,
    INSERT,
)
from deconfliction.store._types import utc

__all__ = ["StreamRows"]


class StreamRows(Executor):
    """Event-stream and webhook statements of :class:`~deconfliction.store.SqlTransaction`."""

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
        seq = self._write(BUMP_SEQ, what, {"b_id": party_id, "b_k": 1}).scalar_one_or_none()
        if seq is None:
            raise IntegrityViolation(f"{what}: no such party")
        row = {"party_id": party_id, "seq": seq, "type": type, "payload": body, "created_at": at}
        self._write(INSERT[events], what, [row])
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
            last = self._write(BUMP_SEQ, what, {"b_id": party_id, "b_k": k}).scalar_one_or_none()
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
        self._write(INSERT[events], "append events", rows)
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

    # -- webhooks ---------------------------------------------------------------------------

    def add_webhook(self, hook: Webhook, secret: str) -> None:
        """Insert a webhook with its secret (one per party and level)."""
        what = f"add webhook {hook.party_id} level {hook.level}"
        self._write(INSERT[webhooks], what, [codec.webhook_row(hook, secret)])

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
