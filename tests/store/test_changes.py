"""The change feed: every write of an activity, site, asset, party or token is noted in the
same transaction, numbered 1, 2, 3… in commit order, gap-free through rolled-back
savepoints; a reader after seq N gets what follows N or is told to reload."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID, uuid4

import pytest

import deconfliction.store._changes as feed_module
from deconfliction.model import Asset
from deconfliction.store import SqlStore, SqlTransaction
from tests.store.factories import activity, at, party, site, token


def _feed(store: SqlStore, after: int = 0) -> list[tuple[int, str]]:
    with store.read() as tx:
        return [(c.seq, c.kind) for c in tx.changes_since(after).changes]


def _undone(tx: SqlTransaction, owner: UUID) -> None:
    """Add an activity in a savepoint that is then rolled back."""
    try:
        with tx.savepoint():
            tx.add_activity(activity(owner))
            raise RuntimeError("undo")
    except RuntimeError:
        pass


def _rolled_back(store: SqlStore, owner: UUID) -> None:
    with store.transaction() as tx:
        tx.add_activity(activity(owner))
        raise RuntimeError("roll back")


def test_each_kind_of_write_is_noted_once_per_transaction(store: SqlStore) -> None:
    blue = party()
    with store.transaction() as tx:
        tx.add_party(blue)  # a new party needs no note: nothing caches it yet
        a = activity(blue.id)
        tx.add_activity(a)
        assert tx.update_activity(replace(a, version=2), 1)
        tx.add_site(site(blue.id))
        tx.put_asset(
            Asset(uuid4(), blue.id, "R-1", 2.0, 50.0, 100.0, 10.0, 60.0, at(0), "Rescue 1")
        )
        t = token(blue.id)
        tx.add_token(t, b"x" * 32)
        tx.revoke_token(t.id, at(1))
        tx.update_party(replace(blue, contact="ops desk"))
        assert tx.changes_head() == 5
    assert _feed(store) == [(1, "activity"), (2, "site"), (3, "asset"), (4, "token"), (5, "party")]
    with store.read() as tx:
        feed = tx.changes_since(0)
        assert feed.complete
        assert feed.head == 5
        assert feed.changes[0].object_id == a.id


def test_a_failed_update_and_a_rolled_back_savepoint_leave_no_note_and_no_gap(
    store: SqlStore,
) -> None:
    blue = party()
    with store.transaction() as tx:
        tx.add_party(blue)
        a = activity(blue.id)
        tx.add_activity(a)
        assert not tx.update_activity(replace(a, version=3), 2)  # stale: nothing written
        _undone(tx, blue.id)
        tx.add_site(site(blue.id))
    with store.transaction() as tx:
        _undone(tx, blue.id)
    assert _feed(store) == [(1, "activity"), (2, "site")]
    with pytest.raises(RuntimeError, match="roll back"):  # a whole transaction rolled back
        _rolled_back(store, blue.id)
    with store.transaction() as tx:
        tx.add_activity(activity(blue.id))
    assert [s for s, _ in _feed(store)] == [1, 2, 3]


def test_a_reader_gets_what_follows_its_seq_or_is_told_to_reload(store: SqlStore) -> None:
    blue = party()
    with store.transaction() as tx:
        tx.add_party(blue)
    for _ in range(5):
        with store.transaction() as tx:
            tx.add_activity(activity(blue.id))
    with store.read() as tx:
        assert [c.seq for c in tx.changes_since(2).changes] == [3, 4, 5]
        up_to_date = tx.changes_since(5)
        assert up_to_date.complete
        assert up_to_date.changes == ()
        assert up_to_date.head == 5
        limited = tx.changes_since(0, limit=2)
        assert [c.seq for c in limited.changes] == [1, 2]
        assert not limited.complete
        ahead = tx.changes_since(9)  # a node that followed another database
        assert not ahead.complete
        assert ahead.head == 5


def test_old_changes_are_pruned_and_a_reader_behind_them_reloads(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_module, "KEEP", 4)
    monkeypatch.setattr(feed_module, "_PRUNE_EVERY", 3)
    blue = party()
    with store.transaction() as tx:
        tx.add_party(blue)
    for _ in range(10):
        with store.transaction() as tx:
            tx.add_activity(activity(blue.id))
    with store.read() as tx:
        kept = [c.seq for c in tx.changes_since(0).changes]
        assert kept[-1] == 10
        assert len(kept) < 10  # the oldest were pruned
        assert not tx.changes_since(0).complete
        assert tx.changes_since(kept[0] - 1).complete
        assert tx.changes_head() == 10


def test_a_read_only_transaction_reads_the_feed_but_notes_nothing(store: SqlStore) -> None:
    with store.read() as tx:
        assert tx.changes_since(0).complete
        assert tx.changes_head() == 0
        with pytest.raises(Exception, match="read-only"):
            tx._changed("activity", uuid4())
