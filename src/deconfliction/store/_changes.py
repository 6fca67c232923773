"""The change feed: which objects each write transaction changed, numbered in commit order.

Every hub node keeps an in-memory index of the live activities and active sites (and a
table of the assets' latest positions) as a cache of the store. When several nodes share
one database, each must learn what the others wrote. The writes themselves record it: the
store's methods that change an activity, a site, an asset, a party's settings, a token
(revoked) or a party's saved heartbeat note the object here, and the notes are written as rows of ``changes`` when the
transaction commits — in the same transaction as the change, so a change is in the feed if
and only if it is stored.

Seqs are 1, 2, 3… with no gaps, in commit order: writers are serialised (``BEGIN
IMMEDIATE`` on SQLite, the writers' advisory lock on PostgreSQL), the first note of a
transaction reads the newest seq under that lock, and a savepoint rolled back takes its
notes with it (a store stage). A node that applied every change up to N therefore reads
``seq > N`` and misses nothing; a writer that does so first thing in its transaction (as
the hotline does) detects against every filing committed before it, on whichever node.

Only the newest :data:`KEEP` rows are kept; a node further behind than that is told the
feed is incomplete and reloads everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

import sqlalchemy as sa

from deconfliction.hotline import Change, ChangeFeed
from deconfliction.store._exec import Executor
from deconfliction.store._schema import changes

__all__ = ["KEEP", "ChangeRows"]

KEEP = 50_000
"""How many of the newest changes are kept (older ones are pruned as new ones commit)."""

_PRUNE_EVERY = 1_000
"""Pruning runs when a commit's seqs cross a multiple of this."""

_STAGE = "changes"
_KINDS = frozenset({"activity", "site", "asset", "party", "token", "link"})
_RANGE = sa.select(
    # two scalar subqueries, not min() and max() in one select: SQLite answers a lone min
    # or max from the primary key's index, but scans the whole table for the pair — a
    # scan of up to KEEP rows in every write transaction (filing p50 +16 % over a 30-min
    # soak, ×2 at 40,000 writes in process)
    sa.select(sa.func.min(changes.c.seq)).scalar_subquery().label("low"),
    sa.select(sa.func.max(changes.c.seq)).scalar_subquery().label("high"),
)
_AFTER = (
    sa.select(changes.c.seq, changes.c.kind, changes.c.object_id)
    .where(changes.c.seq > sa.bindparam("b_seq"))
    .order_by(changes.c.seq)
    .limit(sa.bindparam("b_limit"))
)
_INSERT = sa.insert(changes)
_PRUNE = sa.delete(changes).where(changes.c.seq <= sa.bindparam("b_upto"))


@dataclass
class _Notes:
    """This transaction's changes, not written yet, after the feed's stored head."""

    stored: int
    notes: list[tuple[str, UUID]] = field(default_factory=list)
    seen: set[tuple[str, UUID]] = field(default_factory=set)

    @property
    def head(self) -> int:
        return self.stored + len(self.notes)

    def mark(self) -> object:
        return self.stored, len(self.notes)

    def reset(self, mark: object) -> None:
        assert isinstance(mark, tuple)
        self.stored, n = mark
        del self.notes[n:]
        self.seen = set(self.notes)

    def flush(self, tx: Executor) -> None:
        if not self.notes:
            return
        rows = [
            {"seq": self.stored + i, "kind": kind, "object_id": oid}
            for i, (kind, oid) in enumerate(self.notes, start=1)
        ]
        tx._write(_INSERT, f"record changes {self.stored + 1}..{self.head}", rows)
        last = self.stored + len(self.notes)
        if last // _PRUNE_EVERY != self.stored // _PRUNE_EVERY and last > KEEP:
            tx._write(_PRUNE, "prune the change feed", {"b_upto": last - KEEP})
        self.stored, self.notes, self.seen = last, [], set()


class ChangeRows(Executor):
    """The change feed's statements (mixed into the store's transaction)."""

    def _stored_range(self) -> tuple[int | None, int]:
        row = self._exec(_RANGE, "change feed range").mappings().one()
        low, high = row["low"], row["high"]
        return (None if low is None else int(low)), int(high or 0)

    def _notes(self) -> _Notes:
        stage = self.stage(_STAGE)
        if stage is None:
            self._check_writable("record a change")
            stage = _Notes(self._stored_range()[1])
            self.set_stage(_STAGE, stage)
        assert isinstance(stage, _Notes)
        return stage

    def _changed(self, kind: str, object_id: UUID) -> None:
        """Note that this transaction changed ``object_id`` (written when it commits)."""
        assert kind in _KINDS, kind
        notes = self._notes()
        key = (kind, object_id)
        if key not in notes.seen:  # the reader reloads the object: once is enough
            notes.seen.add(key)
            notes.notes.append(key)

    def changes_since(self, seq: int, limit: int = 5000) -> ChangeFeed:
        """The changes committed after ``seq`` (at most ``limit``; when there are more, or
        some were pruned, or the feed is behind ``seq``, ``complete`` is False)."""
        stage = self.stage(_STAGE)
        if isinstance(stage, _Notes) and stage.notes:  # pragma: no cover - read first
            raise AssertionError("read the change feed before writing in the transaction")
        low, high = self._stored_range()
        if not self._read_only and stage is None:  # a writer: its own notes follow the head
            self.set_stage(_STAGE, _Notes(high))
        if high <= seq:
            return ChangeFeed((), high, complete=high == seq)
        rows = self._exec(_AFTER, "changes since", {"b_seq": seq, "b_limit": limit}).all()
        found = [Change(int(r.seq), str(r.kind), r.object_id) for r in rows]
        complete = low is not None and low <= seq + 1 and found[-1].seq == high
        return ChangeFeed(found, high, complete=complete)

    def changes_head(self) -> int:
        """The feed's newest seq, counting this transaction's own changes."""
        stage = self.stage(_STAGE)
        if isinstance(stage, _Notes):
            return stage.head
        return self._stored_range()[1]
