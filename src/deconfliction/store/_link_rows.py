"""The parties' links as the hub nodes share them (``party_links``): the newest heartbeat a
node saved and the last change of status recorded. A saved heartbeat is also a note on the
change feed, so the other nodes learn of it when they follow the feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from deconfliction.hotline import LinkRecord
from deconfliction.store._changes import ChangeRows
from deconfliction.store._schema import party_links
from deconfliction.store._types import utc

__all__ = ["LinkRows"]

_BY_PARTY = sa.select(party_links).where(party_links.c.party_id == sa.bindparam("b_id"))
_ALL = sa.select(party_links).order_by(party_links.c.party_id)


def _record(row: RowMapping) -> LinkRecord:
    return LinkRecord(row["party_id"], row["last_heartbeat"], row["status"], row["status_at"])


class LinkRows(ChangeRows):
    """The ``party_links`` statements (mixed into the store's transaction)."""

    def get_link(self, party_id: UUID) -> LinkRecord | None:
        """The party's shared link record, or None."""
        row = self._one(_BY_PARTY, "get link", {"b_id": party_id})
        return None if row is None else _record(row)

    def list_links(self) -> list[LinkRecord]:
        """Every party's shared link record (parties with none are left out)."""
        return [_record(r) for r in self._all(_ALL, "list links")]

    def save_heartbeat(self, party_id: UUID, at: datetime) -> None:
        """Keep ``at`` as the party's newest heartbeat unless a newer one is kept."""
        at = utc(at, "at")
        newer = sa.or_(party_links.c.last_heartbeat.is_(None), party_links.c.last_heartbeat < at)
        self._upsert(party_id, {"last_heartbeat": at}, newer, "save heartbeat")
        self._changed("link", party_id)

    def save_link_status(self, party_id: UUID, status: str, at: datetime) -> None:
        """Keep ``status`` as the party's last recorded change of link, made at ``at``."""
        self._upsert(
            party_id, {"status": status, "status_at": utc(at, "at")}, sa.true(), "save link"
        )
        self._changed("link", party_id)

    def _upsert(
        self, party_id: UUID, values: dict[str, Any], when: sa.ColumnElement[bool], what: str
    ) -> None:
        if self.get_link(party_id) is None:  # the writer lock is held: nobody inserts meanwhile
            self._write(sa.insert(party_links), what, [{"party_id": party_id, **values}])
            return
        stmt = (
            sa.update(party_links).where(party_links.c.party_id == party_id, when).values(**values)
        )
        self._write(stmt, what)
