"""Webhooks: a party's HTTPS endpoint per escalation level, and where its delivery stands.

A webhook of level 0 (the duty desk) receives every event of its party's stream; a webhook
of level *k* ≥ 1 receives the events about the party's own notices once they have been
escalated to level *k* or above. Events are POSTed one at a time in seq order; the
*cursor* is the seq of the last event the webhook is done with (delivered, or not meant for
its level), so a restart resumes after it. The shared secret that signs each POST is not
part of this entity (it is stored apart and never rendered after it is first shown).

>>> from uuid import uuid4
>>> from datetime import datetime, timezone
>>> t = datetime(2026, 12, 1, tzinfo=timezone.utc)
>>> w = Webhook(uuid4(), 0, "https://ops.example/hook", True, t, t, WebhookState(cursor=7))
>>> w.state.cursor, w.state.attempts
(7, 0)
>>> Webhook(uuid4(), -1, "https://ops.example/hook", True, t, t)
Traceback (most recent call last):
...
deconfliction.errors.InvalidInput: level: must be between 0 (the duty desk) and 5
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from deconfliction.errors import InvalidInput
from deconfliction.model._checks import aware
from deconfliction.model._party import MAX_LEVELS

__all__ = ["MAX_URL_LENGTH", "Webhook", "WebhookState"]

MAX_URL_LENGTH = 2000
"""Longest webhook URL, in characters."""

MAX_ERROR_LENGTH = 500
"""Longest error text kept for the last failed attempt."""


@dataclass(frozen=True, slots=True)
class WebhookState:
    """Where a webhook's delivery stands (changed by the hub's delivery worker only)."""

    cursor: int = 0
    """The seq of the last event of the party's stream this webhook is done with."""
    attempts: int = 0
    """Failed attempts at the next event since the last success (0: none failed)."""
    next_attempt_at: datetime | None = None
    """When the next event may be tried again (None: at once)."""
    last_attempt_at: datetime | None = None
    last_status: int | None = None
    """The HTTP status of the last attempt (None: no answer, e.g. a timeout or refusal)."""
    last_error: str | None = None
    """Why the last attempt failed (None when it succeeded); never holds the secret."""
    last_delivered_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.cursor < 0:
            raise InvalidInput("cursor", "must be ≥ 0")
        if self.attempts < 0:
            raise InvalidInput("attempts", "must be ≥ 0")
        for name in ("next_attempt_at", "last_attempt_at", "last_delivered_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, aware(value, name))
        if self.last_error is not None and len(self.last_error) > MAX_ERROR_LENGTH:
            object.__setattr__(self, "last_error", self.last_error[: MAX_ERROR_LENGTH - 1] + "…")


@dataclass(frozen=True, slots=True)
class Webhook:
    """A party's webhook at one level of its escalation ladder (0: the duty desk)."""

    party_id: UUID
    level: int
    url: str
    """``https://…`` (``http://`` only to a loopback host: local and test use)."""
    enabled: bool
    created_at: datetime
    updated_at: datetime
    state: WebhookState = field(default_factory=WebhookState)

    def __post_init__(self) -> None:
        if isinstance(self.level, bool) or not 0 <= self.level <= MAX_LEVELS:
            raise InvalidInput("level", f"must be between 0 (the duty desk) and {MAX_LEVELS}")
        if not 1 <= len(self.url) <= MAX_URL_LENGTH:
            raise InvalidInput("url", f"must be 1 to {MAX_URL_LENGTH} characters")
        object.__setattr__(self, "created_at", aware(self.created_at, "created_at"))
        object.__setattr__(self, "updated_at", aware(self.updated_at, "updated_at"))
