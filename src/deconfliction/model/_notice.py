"""Notices: what one affected party is told about one activity version.

The hub's clock stamps ``sent_at``; the lead time is what the recipient really had:
the activity's start minus ``sent_at``. A notice whose lead time is below the policy's
minimum is flagged ``late`` — the filing is never rejected for it.

**Lifecycle.** Every step is stamped by the hub and kept (a later step never erases an
earlier one)::

    queued → delivered (the recipient's client confirmed receipt, or its webhook took the
             notice's event: ``delivered_via``) → read
           → acknowledged | objected (with a reason)      — the recipient's answer
    expired: the deadline passed with no answer (an answer may still come later: it is
             recorded, and the notice keeps its expiry time)
    superseded: a newer version of the activity replaced the one this notice was about

``status`` is the furthest step reached. Acknowledging means "received and understood",
never approval. Only notices that call for an answer (:attr:`Notice.needs_answer`: a new or
amended activity that affects the recipient, or a site conflict) expire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from deconfliction.errors import InvalidInput, InvalidTransition
from deconfliction.model._enums import DeliveryChannel, NoticeReason, NoticeStatus

MAX_REASON_LENGTH = 2000
"""Longest objection reason, in characters."""


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
    >>> n.read(t).answer(t, "the area is wrong").status.value
    'objected'
    """

    id: UUID
    recipient: UUID
    activity_id: UUID | None
    """The activity it is about (None: a tactical alert between tracks alone)."""
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
    owner: UUID | None = None
    """The activity's owner (who is told of the recipient's answer)."""
    delivered_at: datetime | None = None
    delivered_via: DeliveryChannel | None = None
    """How it was delivered (set with ``delivered_at``)."""
    read_at: datetime | None = None
    answered_at: datetime | None = None
    objection: str | None = None
    """The recipient's reason, when it objected."""
    expired_at: datetime | None = None
    receipt: Mapping[str, Any] | None = None
    """The hub's ledger receipt for sending this notice (seq, hash, signature)."""
    insufficient: bool = False
    """*Insufficient notice*: an asset of the recipient cannot get clear in the lead time
    left (see :attr:`clearance` for the numbers)."""
    template: str | None = None
    """For a message (reason ``message``): its :class:`MessageTemplate` value."""
    text: str = ""
    """For a message: what the sender wrote."""
    level: int = 0
    """The recipient's escalation level the notice is at (0: its duty desk)."""
    escalations: tuple[Mapping[str, Any], ...] = ()
    """Each time it went up a level: ``level``, ``name``, ``at``, ``deadline`` (ISO times)."""
    alert_id: UUID | None = None
    """For a tactical alert (reason ``alert``): the alert."""
    alert: Mapping[str, Any] | None = None
    """… and the alert as raised: kind, tracks, time to loss or entry, CPA, position."""
    clearance: tuple[Mapping[str, Any], ...] = ()
    """Per recipient asset in or near the volumes: ``asset_id``, ``volume``, ``distance_m``
    (the shortest way out of the volume plus buffer), ``max_speed_mps``, ``required_s``,
    ``available_s``, ``insufficient``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", NoticeReason(self.reason))
        object.__setattr__(self, "status", NoticeStatus(self.status))
        if self.delivered_via is not None:
            object.__setattr__(self, "delivered_via", DeliveryChannel(self.delivered_via))

    @property
    def needs_answer(self) -> bool:
        """Whether the recipient is expected to acknowledge or object (else it is for
        information: it never expires, though it may still be acknowledged)."""
        return self.reason.calls_for_answer

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    def _step(self, now: datetime, **changes: Any) -> Notice:
        n = replace(self, **changes)
        status = n._furthest()
        if status is self.status:  # e.g. reading an expired notice: the step is kept, the
            return n  # status and the time it last changed stay as they were
        return replace(n, status=status, status_at=now)

    def _furthest(self) -> NoticeStatus:
        if self.status is NoticeStatus.SUPERSEDED:
            return NoticeStatus.SUPERSEDED
        if self.answered_at is not None:
            return (
                NoticeStatus.OBJECTED if self.objection is not None else NoticeStatus.ACKNOWLEDGED
            )
        if self.expired_at is not None:
            return NoticeStatus.EXPIRED
        if self.read_at is not None:
            return NoticeStatus.READ
        if self.delivered_at is not None:
            return NoticeStatus.DELIVERED
        return NoticeStatus.QUEUED

    def delivered(self, now: datetime, via: DeliveryChannel = DeliveryChannel.CLIENT) -> Notice:
        """The recipient's client confirmed receipt, or its webhook took the notice's
        event (``via``); the first confirmation counts."""
        if self.delivered_at is not None:
            return self
        return self._step(now, delivered_at=now, delivered_via=DeliveryChannel(via))

    def _delivery(self, now: datetime) -> dict[str, Any]:
        """A later step implies delivery: by the party's client, unless it came before."""
        if self.delivered_at is not None:
            return {}
        return {"delivered_at": now, "delivered_via": DeliveryChannel.CLIENT}

    def read(self, now: datetime) -> Notice:
        """A person of the recipient opened it (implies delivery)."""
        if self.read_at is not None:
            return self
        return self._step(now, read_at=now, **self._delivery(now))

    def answer(self, now: datetime, objection: str | None = None) -> Notice:
        """Acknowledge (``objection`` None: received and understood — never approval) or
        object with a reason. One answer per notice; raises :class:`InvalidTransition` for a
        second answer or a superseded notice, :class:`InvalidInput` for an empty reason."""
        if self.status is NoticeStatus.SUPERSEDED:
            raise InvalidTransition(
                "this notice was superseded by one about a newer version: answer that one"
            )
        if self.answered_at is not None:
            raise InvalidTransition(f"this notice was already {self.status.value}")
        if objection is not None:
            objection = objection.strip()
            if not objection:
                raise InvalidInput("reason", "an objection needs a reason")
            if len(objection) > MAX_REASON_LENGTH:
                raise InvalidInput("reason", f"longer than {MAX_REASON_LENGTH} characters")
        return self._step(
            now,
            read_at=self.read_at or now,
            answered_at=now,
            objection=objection,
            **self._delivery(now),
        )

    def due(self, now: datetime) -> bool:
        """Whether it should expire now: it calls for an answer, none came by the deadline."""
        return (
            self.needs_answer
            and self.answered_at is None
            and self.expired_at is None
            and self.status is not NoticeStatus.SUPERSEDED
            and now >= self.deadline
        )

    def escalated(self, now: datetime, name: str, deadline: datetime) -> Notice:
        """Unanswered at its deadline: up one level of the recipient's ladder, with a new
        deadline (the status is unchanged: the notice is still waiting for an answer)."""
        if not self.due(now):
            return self
        step = {
            "level": self.level + 1,
            "name": name,
            "at": now.isoformat().replace("+00:00", "Z"),
            "deadline": deadline.isoformat().replace("+00:00", "Z"),
        }
        return replace(
            self, level=self.level + 1, deadline=deadline, escalations=(*self.escalations, step)
        )

    def expired(self, now: datetime) -> Notice:
        """The deadline passed without an answer."""
        if not self.due(now):
            return self
        return self._step(now, expired_at=now)

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
