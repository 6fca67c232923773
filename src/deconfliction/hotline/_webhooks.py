"""Webhooks: configuration (admin) and the delivery bookkeeping the hub's worker does.

**Which events.** A webhook of level 0 (the party's duty desk) gets every event of the
party's stream. A webhook of level *k* ≥ 1 gets only the events about the party's *own*
notices (it is their recipient) at level *k* or above: a notice starts at level 0, so those
are the ``notice.escalated`` event that brought it to level ≥ *k* (``data.level``) and
every later event about it (read, acknowledged, objected, expired…, whose
``data.notice.level`` is ≥ *k*). See :func:`webhook_wants`.

**Cursor.** Each webhook keeps the seq of the last event it is done with. A new webhook
starts at its party's latest seq (it gets what happens from then on); replacing the URL
keeps the cursor (nothing is missed) and issues a new secret. The worker (in the api
layer) reads the events after the cursor, POSTs the ones for its level one at a time, and
reports each outcome here: a 2xx moves the cursor to that event (skipping those not for
the level), a failure records the attempt and when to try again — the same event, so
nothing is ever skipped and order is kept. A ``notice`` event taken by a webhook makes its
notice *delivered* (``delivered_via: webhook``), recorded on the ledger with the hub as
actor and ``"via": "webhook"`` in the entry.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from deconfliction.errors import InvalidInput, NotFound
from deconfliction.hotline._notices import NoticeServices
from deconfliction.hotline._ports import Event, Fact, Principal, Transaction
from deconfliction.hotline._signature import new_webhook_secret
from deconfliction.model import (
    MAX_URL_LENGTH,
    DeliveryChannel,
    Notice,
    Role,
    Webhook,
    WebhookState,
)

__all__ = [
    "LOOPBACK_HOSTS",
    "WebhookOutbox",
    "WebhookServices",
    "WebhookStatus",
    "check_webhook_url",
    "webhook_origin",
    "webhook_wants",
]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Hosts a webhook may reach over plain ``http://`` (local and test use only)."""

BACKLOG_SCAN = 10_000
"""Events read at most to count a level ≥ 1 webhook's backlog (the count is then a floor)."""


def check_webhook_url(url: str) -> str:
    """``url`` if it may be a webhook: ``https://host[:port]/path[?query]``, or ``http://``
    to a loopback host (127.0.0.1, localhost, [::1]); no credentials, no fragment.

    >>> check_webhook_url("https://ops.example/hotline")
    'https://ops.example/hotline'
    >>> check_webhook_url("http://127.0.0.1:9000/hook")
    'http://127.0.0.1:9000/hook'
    >>> check_webhook_url("http://ops.example/hotline")
    Traceback (most recent call last):
    ...
    deconfliction.errors.InvalidInput: url: must be https:// (http:// only to 127.0.0.1, localhost or [::1])
    """
    if not isinstance(url, str):
        raise InvalidInput("url", "must be a string")
    url = url.strip()
    if not 1 <= len(url) <= MAX_URL_LENGTH:
        raise InvalidInput("url", f"must be 1 to {MAX_URL_LENGTH} characters")
    if not url.isprintable() or any(c.isspace() for c in url):
        raise InvalidInput("url", "must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise InvalidInput("url", f"is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        raise InvalidInput("url", "must be an absolute https:// URL with a host")
    if scheme == "http" and host.lower() not in LOOPBACK_HOSTS:
        raise InvalidInput(
            "url", "must be https:// (http:// only to 127.0.0.1, localhost or [::1])"
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url", "must not carry credentials: the signature authenticates")
    if parts.fragment:
        raise InvalidInput("url", "must not have a fragment")
    return url


def webhook_origin(url: str) -> str:
    """``scheme://host[:port]`` of a webhook URL: what logs and the ledger show of it (its
    path and query may hold a receiver's own token).

    >>> webhook_origin("https://ops.example:8443/hook?key=abc")
    'https://ops.example:8443'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme.lower()}://{host}{port}"


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def webhook_wants(party_id: UUID, level: int, event: Event) -> bool:
    """Whether ``event`` of ``party_id``'s stream goes to its webhook of ``level``.

    >>> from uuid import uuid4
    >>> from datetime import datetime, timezone
    >>> me, t = uuid4(), datetime(2026, 12, 1, tzinfo=timezone.utc)
    >>> up = Event(me, 9, "notice.escalated", {"level": 2, "notice": {"recipient": str(me), "level": 2}}, t)
    >>> [webhook_wants(me, k, up) for k in (0, 1, 2, 3)]
    [True, True, True, False]
    >>> webhook_wants(me, 1, Event(me, 3, "notice", {"notice": {"recipient": str(me), "level": 0}}, t))
    False
    """
    if level == 0:
        return True
    data: Mapping[str, Any] = event.payload
    notice = data.get("notice")
    if not isinstance(notice, Mapping) or notice.get("recipient") != str(party_id):
        return False  # not about one of the party's own notices
    at = _int(data.get("level")) if event.type == "notice.escalated" else None
    if at is None:
        at = _int(notice.get("level"))
    return at is not None and at >= level


@dataclass(frozen=True, slots=True)
class WebhookStatus:
    """A webhook and how many of its events wait (``backlog``) — the admin's view."""

    hook: Webhook
    backlog: int
    last_seq: int
    """The party's latest event seq."""


@dataclass(frozen=True, slots=True)
class WebhookOutbox:
    """What the worker needs to deliver a webhook's next events (``secret`` signs them:
    never log it)."""

    hook: Webhook
    secret: str
    events: list[Event]
    """The party's events after the cursor, in seq order (those for the level and not)."""


class WebhookServices(NoticeServices):
    """Configure webhooks (admin); record what the delivery worker did (the hub)."""

    # ------------------------------------------------------------------ configuration

    def set_webhook(
        self, p: Principal, party_id: UUID, level: int, url: str, *, enabled: bool = True
    ) -> tuple[WebhookStatus, str, bool]:
        """Create or replace the party's webhook at ``level`` (0: the duty desk; up to the
        top of its escalation ladder). Returns it, its new shared secret (shown once) and
        whether it was created. Replacing keeps the cursor and clears the retry wait."""
        self._need(p, Role.ADMIN)
        url = check_webhook_url(url)
        if isinstance(level, bool) or level < 0:
            raise InvalidInput("level", "must be a non-negative integer")

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> tuple[WebhookStatus, str, bool]:
            del events, after
            party = tx.get_party(party_id)
            if party is None:
                raise NotFound("party", party_id)
            top = len(party.escalation)
            if level > top:
                raise InvalidInput(
                    "level", f"the party has levels 0 to {top} (its escalation ladder)"
                )
            secret = new_webhook_secret()
            old = tx.get_webhook(party_id, level)
            if old is None:
                hook = Webhook(
                    party_id, level, url, enabled, now, now, WebhookState(tx.last_seq(party_id))
                )
                tx.add_webhook(hook, secret)
            else:
                state = replace(old.state, attempts=0, next_attempt_at=None)
                hook = replace(old, url=url, enabled=enabled, updated_at=now, state=state)
                tx.update_webhook(hook, secret)
            body = {
                "party": str(party_id),
                "level": level,
                "origin": webhook_origin(url),
                "enabled": enabled,
                "cursor": hook.state.cursor,
            }
            self._record(tx, now, p, [Fact("webhook.set", body, (party_id,))])
            return self._status(tx, hook), secret, old is None

        return self._submit(run)

    def delete_webhook(self, p: Principal, party_id: UUID, level: int) -> WebhookStatus:
        """Remove the party's webhook at ``level``; returns it as it was (its backlog: the
        events it will not send)."""
        self._need(p, Role.ADMIN)

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> WebhookStatus:
            del events, after
            if tx.get_party(party_id) is None:
                raise NotFound("party", party_id)
            hook = tx.get_webhook(party_id, level)
            if hook is None:
                raise NotFound("webhook", f"{party_id} level {level}")
            gone = self._status(tx, hook)
            tx.delete_webhook(party_id, level)
            body = {"party": str(party_id), "level": level, "cursor": hook.state.cursor}
            self._record(tx, now, p, [Fact("webhook.deleted", body, (party_id,))])
            return gone

        return self._submit(run)

    def list_webhooks(self, p: Principal, party_id: UUID) -> list[WebhookStatus]:
        """The party's webhooks by level, each with its backlog (events for it after its
        cursor) — admin."""
        self._need(p, Role.ADMIN)
        with self.store.read() as tx:
            if tx.get_party(party_id) is None:
                raise NotFound("party", party_id)
            return [self._status(tx, h) for h in tx.list_webhooks(party_id)]

    @classmethod
    def _status(cls, tx: Transaction, hook: Webhook) -> WebhookStatus:
        last = tx.last_seq(hook.party_id)
        return WebhookStatus(hook, cls._backlog(tx, hook, last), last)

    @staticmethod
    def _backlog(tx: Transaction, hook: Webhook, last: int) -> int:
        if hook.level == 0:
            return max(last - hook.state.cursor, 0)
        count, after, scanned = 0, hook.state.cursor, 0
        while after < last and scanned < BACKLOG_SCAN:
            batch = tx.events_since(hook.party_id, after, limit=1000)
            if not batch:
                break
            count += sum(webhook_wants(hook.party_id, hook.level, e) for e in batch)
            after, scanned = batch[-1].seq, scanned + len(batch)
        return count

    # ------------------------------------------------------------------ the delivery worker

    def pending_webhooks(self) -> list[Webhook]:
        """Enabled webhooks with events after their cursor (the worker's to-do list)."""
        with self.store.read() as tx:
            return tx.pending_webhooks()

    def webhook_probes(self) -> list[tuple[Webhook, str]]:
        """Every enabled webhook with its secret (the worker probes idle ones: a 2xx answer
        is the party's heartbeat)."""
        with self.store.read() as tx:
            out = []
            for hook in tx.list_webhooks():
                secret = tx.webhook_secret(hook.party_id, hook.level)
                if hook.enabled and secret is not None:
                    out.append((hook, secret))
            return out

    def webhook_outbox(
        self, party_id: UUID, level: int, *, limit: int = 100
    ) -> WebhookOutbox | None:
        """The webhook (None if gone or disabled), its secret and up to ``limit`` events
        after its cursor."""
        with self.store.read() as tx:
            hook = tx.get_webhook(party_id, level)
            secret = tx.webhook_secret(party_id, level)
            if hook is None or secret is None or not hook.enabled:
                return None
            return WebhookOutbox(
                hook, secret, tx.events_since(party_id, hook.state.cursor, limit=limit)
            )

    def webhook_skipped(self, party_id: UUID, level: int, cursor: int, through_seq: int) -> bool:
        """Events (``cursor``, ``through_seq``] are not for this webhook's level: move past
        them. False when the cursor was no longer ``cursor`` (nothing changed)."""

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> bool:
            del now, events, after
            hook = tx.get_webhook(party_id, level)
            if hook is None or hook.state.cursor != cursor or through_seq <= cursor:
                return False
            state = replace(hook.state, cursor=through_seq)
            return tx.set_webhook_state(party_id, level, state, expected_cursor=cursor)

        return self._submit(run)

    def webhook_delivered(
        self, party_id: UUID, level: int, cursor: int, event: Event, status: int
    ) -> list[Notice] | None:
        """The webhook answered ``status`` (2xx) to ``event``: the cursor moves to it (past
        any events between that were not for its level). A ``notice`` event's notice is now
        delivered, via the webhook, with the hub as the ledger entry's actor. Returns the
        notices it delivered, or None when the cursor was no longer ``cursor`` or the
        webhook is gone (nothing recorded)."""

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> list[Notice] | None:
            del after
            hook = tx.get_webhook(party_id, level)
            if hook is None or hook.state.cursor != cursor or event.seq <= cursor:
                return None
            state = WebhookState(
                cursor=event.seq,
                last_attempt_at=now,
                last_status=status,
                last_delivered_at=now,
            )
            if not tx.set_webhook_state(party_id, level, state, expected_cursor=cursor):
                return None
            if event.type not in ("notice", "message"):  # a message is a notice too
                return []
            fact = {"via": DeliveryChannel.WEBHOOK.value, "level": level}
            return self._deliver(
                tx,
                now,
                events,
                party_id,
                event.seq,
                actor=None,
                after=event.seq - 1,
                via=DeliveryChannel.WEBHOOK,
                fact=fact,
            )

        return self._submit(run)

    def webhook_failed(
        self,
        party_id: UUID,
        level: int,
        cursor: int,
        *,
        status: int | None,
        error: str,
        retry_at: datetime,
    ) -> Webhook | None:
        """An attempt at the event after ``cursor`` failed (``status``: the HTTP status, None
        without an answer): count it and wait until ``retry_at`` before the next one."""

        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> Webhook | None:
            del events, after
            hook = tx.get_webhook(party_id, level)
            if hook is None or hook.state.cursor != cursor:
                return None
            state = replace(
                hook.state,
                attempts=hook.state.attempts + 1,
                next_attempt_at=retry_at,
                last_attempt_at=now,
                last_status=status,
                last_error=error,
            )
            if not tx.set_webhook_state(party_id, level, state, expected_cursor=cursor):
                return None
            return replace(hook, state=state)

        return self._submit(run)
