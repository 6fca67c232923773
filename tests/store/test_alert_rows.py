"""The open alerts the nodes share (``open_alerts``): kept, replaced under the same id,
dropped, listed oldest first, with their parties and body as written; gone with a rolled
back transaction (on SQLite and PostgreSQL, as every store test)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from deconfliction.hotline import OpenAlert
from deconfliction.store import SqlStore
from tests.store.factories import at


def _alert(judge: str | None, minute: int) -> OpenAlert:
    alert_id, p, q = uuid4(), uuid4(), uuid4()
    body = {"id": str(alert_id), "kind": "proximity", "key": f"k{minute}", "figures": [1.5, None]}
    t = at(minute)
    return OpenAlert(alert_id, judge, (p, q), body, t, t)


def test_kept_replaced_dropped_and_listed_oldest_first(store: SqlStore) -> None:
    late, early, lone = _alert("hub-a", 5), _alert("hub-b", 1), _alert(None, 3)
    with store.transaction() as tx:
        for a in (late, early, lone):
            tx.put_open_alert(a)
    with store.read() as tx:
        assert tx.open_alerts() == [early, lone, late]
    moved = OpenAlert(
        late.id,
        "hub-b",
        late.parties[:1],
        {**late.body, "figures": [2.0]},
        late.raised_at,
        late.updated_at + timedelta(seconds=10),
    )
    with store.transaction() as tx:
        tx.put_open_alert(moved)
        tx.drop_open_alert(early.id)
        tx.drop_open_alert(uuid4())  # none kept under it: nothing happens
    with store.read() as tx:
        assert tx.open_alerts() == [lone, moved]


def test_a_rolled_back_transaction_keeps_nothing(store: SqlStore) -> None:
    def keep_then_fail() -> None:
        with store.transaction() as tx:
            tx.put_open_alert(_alert("hub-a", 1))
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        keep_then_fail()
    with store.read() as tx:
        assert tx.open_alerts() == []
