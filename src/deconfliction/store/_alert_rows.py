"""The tactical alerts open now (``open_alerts``), shared by the hub nodes: written in the
transaction that tells an alert raised, updated or cleared."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from deconfliction.hotline import OpenAlert
from deconfliction.store._exec import Executor
from deconfliction.store._schema import open_alerts
from deconfliction.store._types import utc

__all__ = ["AlertRows"]

_BY_ID = sa.select(open_alerts.c.id).where(open_alerts.c.id == sa.bindparam("b_id"))
_ALL = sa.select(open_alerts).order_by(open_alerts.c.raised_at, open_alerts.c.id)


def _alert(row: RowMapping) -> OpenAlert:
    return OpenAlert(
        row["id"],
        row["judged_by"],
        tuple(UUID(p) for p in row["parties"]),
        row["body"],
        row["raised_at"],
        row["updated_at"],
    )


class AlertRows(Executor):
    """The ``open_alerts`` statements (mixed into the store's transaction)."""

    def put_open_alert(self, alert: OpenAlert) -> None:
        """Keep ``alert`` as open (replacing what was kept under its id)."""
        values: dict[str, Any] = {
            "judged_by": alert.judged_by,
            "parties": [str(p) for p in alert.parties],
            "body": dict(alert.body),
            "raised_at": utc(alert.raised_at, "raised_at"),
            "updated_at": utc(alert.updated_at, "updated_at"),
        }
        if self._one(_BY_ID, "find open alert", {"b_id": alert.id}) is None:
            self._write(sa.insert(open_alerts), "keep open alert", [{"id": alert.id, **values}])
            return
        stmt = sa.update(open_alerts).where(open_alerts.c.id == alert.id).values(**values)
        self._write(stmt, "update open alert")

    def drop_open_alert(self, alert_id: UUID) -> None:
        """The alert is over (nothing if none is kept under ``alert_id``)."""
        stmt = sa.delete(open_alerts).where(open_alerts.c.id == alert_id)
        self._write(stmt, "drop open alert")

    def open_alerts(self) -> list[OpenAlert]:
        """Every alert kept as open, oldest first."""
        return [_alert(r) for r in self._all(_ALL, "open alerts")]
