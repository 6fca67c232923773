"""Notices: what one affected party is told about one activity version.

The hub's clock stamps ``sent_at``; the lead time is what the recipient really had:
the activity's start minus ``sent_at``. A notice whose lead time is below the policy's
minimum is flagged ``late`` — the filing is never rejected for it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from deconfliction.model._enums import NoticeReason, NoticeStatus

__all__ = ["Notice"]


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice to one party.

    >>> from uuid import uuid4
    >>> from datetime import datetime, timezone, timedelta
    >>> t = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
    >>> n = Notice(uuid4(), uuid4(), uuid4(), 1, "new", sent_at=t, starts_at=t + timedelta(minutes=1),
    ...            required_lead_time_s=3600.0, deadline=t + timedelta(minutes=15))
    >>> n.lead_time_s, n.late
    (60.0, True)
    """

    id: UUID
    recipient: UUID
    activity_id: UUID
    activity_version: int
    reason: NoticeReason
    sent_at: datetime
    """When the hub created the notice (its clock is the authority)."""
    starts_at: datetime
    """When the activity (this version) begins."""
    required_lead_time_s: float
    """The policy's minimum lead time for this kind of activity (0 for state changes)."""
    deadline: datetime
    """When an acknowledgement is due."""
    conflict_id: UUID | None = None
    status: NoticeStatus = NoticeStatus.QUEUED
    status_at: datetime | None = None
    """When the status last changed (None: still as created)."""
    summary: str = ""
    """One line for humans: what happened, where, when."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", NoticeReason(self.reason))
        object.__setattr__(self, "status", NoticeStatus(self.status))

    @property
    def lead_time_s(self) -> float:
        """Seconds between the hub sending the notice and the activity's start."""
        return (self.starts_at - self.sent_at).total_seconds()

    @property
    def late(self) -> bool:
        """Whether the recipient got less notice than the policy requires."""
        return self.lead_time_s < self.required_lead_time_s

    def superseded(self, now: datetime) -> Notice:
        """This notice, replaced by one about a newer version."""
        return replace(self, status=NoticeStatus.SUPERSEDED, status_at=now)
