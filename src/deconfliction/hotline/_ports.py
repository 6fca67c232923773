"""What the hotline services need from the outside world, as protocols.

The services are the application core; persistence (``deconfliction.store``) and event
fan-out (``deconfliction.bus``) sit above them and implement these protocols, so the core
never imports them (DESIGN.md §3).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from deconfliction.geo import TimeWindow, Volume4D
from deconfliction.model import (
    Activity,
    ActivityKind,
    Asset,
    Conflict,
    Notice,
    NoticeReason,
    NoticeStatus,
    Party,
    ProtectedSite,
    Role,
    Track,
    Webhook,
    WebhookState,
)

__all__ = [
    "Change",
    "ChangeFeed",
    "Clock",
    "Disclosure",
    "Event",
    "EventSink",
    "Fact",
    "IdempotencyRecord",
    "LinkRecord",
    "LiveActivity",
    "NoticeStat",
    "OpenAlert",
    "Principal",
    "Receipt",
    "Recorder",
    "Store",
    "TokenInfo",
    "TrackExchange",
    "Transaction",
]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token's metadata (its secret is shown once and stored only as a hash)."""

    id: UUID
    party_id: UUID
    role: Role
    label: str
    prefix: str
    """The first characters of the secret, to recognise a token in a list (not secret)."""
    created_at: datetime
    revoked_at: datetime | None = None
    level: int = 0
    """The party's escalation level the token belongs to (0: the duty desk)."""


@dataclass(frozen=True, slots=True)
class LiveActivity:
    """What the in-memory index holds of a live activity."""

    id: UUID
    owner: UUID
    kind: ActivityKind
    volumes: tuple[Volume4D, ...]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's party and role."""

    token_id: UUID
    party_id: UUID
    role: Role
    level: int = 0
    """The token's escalation level (0: the party's duty desk)."""


@dataclass(frozen=True, slots=True)
class Disclosure:
    """A record that a protected site's footprint and category were shown to another party."""

    id: UUID
    site_id: UUID
    site_version: int
    recipient: UUID
    reason: str
    """Why: ``"conflict"`` (an activity of the recipient meets the site) or ``"dry_run"``."""
    disclosed_at: datetime
    conflict_id: UUID | None = None
    activity_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of a party's event stream: ``seq`` is 1, 2, 3… per party, with no gaps."""

    party_id: UUID
    seq: int
    type: str
    """E.g. ``"notice"``, ``"notice.superseded"``, ``"conflict.detected"``."""
    payload: Mapping[str, Any] = field(compare=False)
    """JSON-serialisable body."""
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the store's change feed: the object ``object_id`` of ``kind``
    (``"activity"``, ``"site"``, ``"asset"``, ``"party"``, ``"token"`` or ``"link"``) was written by the transaction
    that took ``seq``. Seqs are 1, 2, 3… in commit order with no gaps (writers are
    serialised), so a node that applied every change up to N reads what follows N."""

    seq: int
    kind: str
    object_id: UUID


@dataclass(frozen=True, slots=True)
class ChangeFeed:
    """What :meth:`Transaction.changes_since` found: the changes after the seq asked for,
    in order, and the feed's ``head`` (the newest seq, that of the last change when any).
    ``complete`` is False when some changes after the seq asked for are no longer kept
    (pruned) or the feed is behind it (another database): the reader must reload all."""

    changes: Sequence[Change]
    head: int
    complete: bool


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """A party's link as the hub nodes share it through the store: the newest heartbeat a
    node saved (nodes save one every few seconds, not each beat) and the last change of
    status recorded on the ledger (``status`` a :class:`~deconfliction.model.LinkStatus`
    value), each None until there is one."""

    party_id: UUID
    last_heartbeat: datetime | None
    status: str | None
    status_at: datetime | None


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The outcome of a write made with an ``Idempotency-Key`` (per party, per key)."""

    party_id: UUID
    key: str
    fingerprint: str
    """A hash of the operation and its request body."""
    result: Mapping[str, Any] = field(compare=False)
    """JSON-serialisable: enough for the service to rebuild the same answer."""
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """A tactical alert open now, as last told (shared by the nodes through the store)."""

    id: UUID
    judged_by: str | None
    """The node judging it (None: a single node)."""
    parties: tuple[UUID, ...]
    """Who is told of it."""
    body: Mapping[str, Any]
    """The alert as last told (``alert_json`` with its id, parties and since)."""
    raised_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NoticeStat:
    """What the figures need of one notice: a narrow row of numbers, no texts or times to
    decode (durations are computed by the database, to the millisecond).

    ``sender`` is the activity's owner, the party that gave the notice.
    """

    sender: UUID
    recipient: UUID
    reason: NoticeReason
    status: NoticeStatus
    lead_time_s: float
    """The activity's start minus when the hub sent the notice."""
    required_lead_time_s: float
    insufficient: bool
    time_to_answer_s: float | None
    """From sending to the recipient's answer (acknowledgement or objection); None: none."""
    expired: bool

    @property
    def late(self) -> bool:
        """As :attr:`Notice.late <deconfliction.model.Notice.late>`, at millisecond precision."""
        return round(self.lead_time_s, 3) < self.required_lead_time_s

    @property
    def needs_answer(self) -> bool:
        """As :attr:`Notice.needs_answer <deconfliction.model.Notice.needs_answer>`."""
        return self.reason in _ANSWER_REASONS

    @property
    def unanswered(self) -> bool:
        """Calls for an answer, has none, and was not superseded (expired ones count)."""
        return (
            self.needs_answer
            and self.time_to_answer_s is None
            and self.status is not NoticeStatus.SUPERSEDED
        )


_ANSWER_REASONS = frozenset({NoticeReason.NEW, NoticeReason.AMENDED, NoticeReason.SITE_CONFLICT})


class Transaction(Protocol):
    """One database transaction: every write of one service call goes through one of these.

    ``update_*`` methods take the version the caller read and return False, writing
    nothing, when the stored row is no longer at that version (optimistic concurrency).
    Lists are ordered as each method says; ``None`` filters mean "any".
    """

    @property
    def failed(self) -> BaseException | None:
        """The store error that aborted this transaction (then it can only roll back)."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: if its block raises, only that block's writes are undone."""
        ...

    # parties and tokens
    def add_party(self, party: Party) -> None: ...
    def update_party(self, party: Party) -> None:
        """Replace the party's row (its event counter is kept)."""
        ...

    def get_party(self, party_id: UUID) -> Party | None: ...
    def list_parties(self) -> list[Party]:
        """By name."""
        ...

    def add_token(self, token: TokenInfo, secret_hash: bytes) -> None: ...
    def token_by_hash(self, secret_hash: bytes) -> TokenInfo | None: ...
    def get_token(self, token_id: UUID) -> TokenInfo | None: ...
    def list_tokens(self, party_id: UUID) -> list[TokenInfo]:
        """By creation time."""
        ...

    def revoke_token(self, token_id: UUID, at: datetime) -> None: ...

    # activities: every version is kept; the current one is what get/list return
    def add_activity(self, activity: Activity) -> None: ...
    def update_activity(self, activity: Activity, expected_version: int) -> bool: ...
    def get_activity(self, activity_id: UUID) -> Activity | None: ...
    def get_activity_version(self, activity_id: UUID, version: int) -> Activity | None: ...
    def activity_versions(self, activity_id: UUID) -> list[Activity]:
        """Every kept version of the activity, oldest first (empty if it does not exist)."""
        ...

    def list_activities(
        self,
        *,
        owner: UUID | None = None,
        ids: Collection[UUID] | None = None,
        live_only: bool = False,
        window: TimeWindow | None = None,
        limit: int | None = None,
    ) -> list[Activity]:
        """By start time, then id. ``window``: activities whose [start, end] meets it."""
        ...

    def iter_live_activities(self, batch: int = 1000) -> Iterator[Activity]:
        """Every notified or active activity (for rebuilding the index), in id order."""
        ...

    def iter_live_footprints(self, batch: int = 1000) -> Iterator[LiveActivity]:
        """:meth:`iter_live_activities` reduced to what the index needs (faster to load)."""
        ...

    def count_live_activities(self) -> int: ...

    # the change feed (what each node's index follows): written by the writes themselves
    def changes_since(self, seq: int, limit: int = 5000) -> ChangeFeed:
        """The changes after ``seq`` (at most ``limit``; more: ``complete`` False)."""
        ...

    def changes_head(self) -> int:
        """The newest seq of the feed, counting this transaction's own changes."""
        ...

    # parties' links, shared by the nodes
    def get_link(self, party_id: UUID) -> LinkRecord | None: ...
    def list_links(self) -> list[LinkRecord]: ...
    def save_heartbeat(self, party_id: UUID, at: datetime) -> None:
        """Keep ``at`` as the party's newest heartbeat unless a newer one is kept."""
        ...

    def save_link_status(self, party_id: UUID, status: str, at: datetime) -> None:
        """Keep ``status`` as the party's last recorded change of link, made at ``at``."""
        ...

    # protected sites: every version kept
    def add_site(self, site: ProtectedSite) -> None: ...
    def update_site(self, site: ProtectedSite, expected_version: int) -> bool: ...
    def get_site(self, site_id: UUID) -> ProtectedSite | None: ...
    def list_sites(
        self,
        *,
        owner: UUID | None = None,
        ids: Collection[UUID] | None = None,
        active_only: bool = False,
    ) -> list[ProtectedSite]:
        """By name, then id."""
        ...

    # conflicts
    def add_conflict(self, conflict: Conflict) -> None: ...
    def update_conflict(self, conflict: Conflict) -> None: ...
    def get_conflict(self, conflict_id: UUID) -> Conflict | None: ...
    def conflicts_of(self, object_id: UUID, *, open_only: bool = True) -> list[Conflict]:
        """Conflicts where ``object_id`` (an activity or site) is either side; by detection time."""
        ...

    def list_conflicts(
        self, *, party: UUID | None = None, open_only: bool = False, limit: int | None = None
    ) -> list[Conflict]:
        """Conflicts where ``party`` owns either side; newest detection first."""
        ...

    # notices
    def add_notice(self, notice: Notice, *, event_seq: int | None = None) -> None:
        """Insert a notice; ``event_seq``: the seq of its event in the recipient's stream."""
        ...

    def update_notice(self, notice: Notice) -> None: ...
    def get_notice(self, notice_id: UUID) -> Notice | None: ...
    def notices_of_activity(
        self, activity_id: UUID, *, recipient: UUID | None = None, current_only: bool = True
    ) -> list[Notice]:
        """Notices about ``activity_id``; ``current_only`` leaves out superseded ones; by sent_at."""
        ...

    def list_notices(
        self, recipient: UUID, *, activity_id: UUID | None = None, limit: int | None = None
    ) -> list[Notice]:
        """The recipient's notices, newest first."""
        ...

    def notice_stats(
        self,
        *,
        sender: UUID | None = None,
        recipient: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[NoticeStat]:
        """Every notice from one party to another (a notice a party got about its own
        activity is left out), sent in ``[since, until)``; ``sender`` / ``recipient``
        narrow it to notices given / received by that party. One query; no order."""
        ...

    def notices_undelivered_through(
        self, recipient: UUID, seq: int, *, after: int = 0
    ) -> list[Notice]:
        """The recipient's notices not yet delivered whose stream event's seq is ≤ ``seq``
        (and > ``after``), in seq order."""
        ...

    def notices_due(self, now: datetime, *, limit: int = 500) -> list[Notice]:
        """Notices that call for an answer, have none, and whose deadline is ≤ ``now``
        (not expired or superseded yet): oldest deadline first."""
        ...

    def put_open_alert(self, alert: OpenAlert) -> None:
        """Keep ``alert`` as open (replacing what was kept under its id)."""

    def drop_open_alert(self, alert_id: UUID) -> None:
        """The alert is over (nothing if none is kept under ``alert_id``)."""

    def open_alerts(self) -> list[OpenAlert]:
        """Every alert kept as open, oldest first."""
        ...

    def open_alert_notices(self) -> list[Notice]:
        """Notices of tactical alerts that have no answer and are not superseded or
        expired (the alerts themselves live in memory)."""
        ...

    # disclosures of protected sites
    def add_disclosure(self, disclosure: Disclosure) -> None: ...
    def list_disclosures(
        self, *, site_id: UUID | None = None, recipient: UUID | None = None
    ) -> list[Disclosure]:
        """Oldest first."""
        ...

    # per-party event streams
    def append_event(
        self, party_id: UUID, type: str, payload: Mapping[str, Any], at: datetime
    ) -> Event:
        """Store the party's next event (seq = last + 1, allocated inside this transaction)."""
        ...

    def append_events(
        self, items: Sequence[tuple[UUID, str, Mapping[str, Any]]], at: datetime
    ) -> list[Event]:
        """:meth:`append_event` for each ``(party_id, type, payload)``, in order, at once."""
        ...

    def events_since(self, party_id: UUID, seq: int, *, limit: int = 1000) -> list[Event]:
        """The party's events with a seq above ``seq``, in order."""
        ...

    def last_seq(self, party_id: UUID) -> int:
        """The party's latest event seq (0 when none)."""
        ...

    # assets (latest report of each)
    def put_asset(self, asset: Asset) -> None:
        """Insert or replace the asset's latest report (by id)."""
        ...

    def get_asset(self, asset_id: UUID) -> Asset | None: ...
    def asset_by_ref(self, owner: UUID, ref: str) -> Asset | None: ...
    def list_assets(self, owner: UUID | None = None) -> list[Asset]: ...

    # webhooks (one per party and level; the secret is stored apart from the entity)
    def add_webhook(self, hook: Webhook, secret: str) -> None: ...
    def update_webhook(self, hook: Webhook, secret: str) -> None:
        """Replace the webhook's configuration, delivery state and secret (by party and
        level; raises ``NotFound`` when there is none)."""
        ...

    def set_webhook_state(
        self, party_id: UUID, level: int, state: WebhookState, *, expected_cursor: int
    ) -> bool:
        """Replace the delivery state only, if the stored cursor is still
        ``expected_cursor`` (False, writing nothing, when it moved or the webhook is gone)."""
        ...

    def get_webhook(self, party_id: UUID, level: int) -> Webhook | None: ...
    def webhook_secret(self, party_id: UUID, level: int) -> str | None: ...
    def list_webhooks(self, party_id: UUID | None = None) -> list[Webhook]:
        """By party, then level."""
        ...

    def pending_webhooks(self) -> list[Webhook]:
        """Enabled webhooks whose cursor is behind their party's last event seq."""
        ...

    def delete_webhook(self, party_id: UUID, level: int) -> bool:
        """Remove it; False when there was none."""
        ...

    # idempotency keys
    def get_idempotency(self, party_id: UUID, key: str) -> IdempotencyRecord | None: ...
    def put_idempotency(self, record: IdempotencyRecord) -> None: ...


@dataclass(frozen=True, slots=True)
class Fact:
    """What a write hands the ledger: one entry to record in its transaction.

    ``parties``: who may read it in full besides the actor's party (every other party sees
    only its hashes). The payload must be JSON-ready.
    """

    type: str
    payload: Mapping[str, Any]
    parties: tuple[UUID, ...] = ()
    submission: Any = None
    """What the party submitted and signed (JSON), kept beside its signature."""
    signature: Any = None
    """The party's verified signature of ``submission`` (from :meth:`Recorder.check_signature`)."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """The hub's proof that it recorded an entry: ledger seq, chain hash (hex) and the hub's
    Ed25519 signature of it (base64) — verifiable with the hub's public key alone."""

    seq: int
    hash: str
    signature: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "signature": self.signature}


class Recorder(Protocol):
    """The ledger, as the hotline sees it (implemented by ``deconfliction.audit``)."""

    def record(
        self,
        tx: Transaction,
        at: datetime,
        actor: Principal | None,
        facts: Sequence[Fact],
    ) -> list[Receipt]:
        """Append ``facts`` to the ledger inside ``tx`` (they commit or roll back with the
        change they record), in order; one receipt per fact. ``actor`` None: the hub itself
        (e.g. a deadline passing)."""
        ...

    def check_signature(
        self, tx: Transaction, party: UUID, submission: Any, signature: str, key_id: str | None
    ) -> Any:
        """Verify a party's detached signature of ``submission`` with its registered keys
        (raises ``InvalidSignature``, 422, before anything is written); the result goes
        in :attr:`Fact.signature`."""
        ...


class Store(Protocol):
    """A source of transactions (the store is the source of truth)."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A read-write transaction: commits when the block ends, rolls back if it raises."""
        ...

    def read(self) -> AbstractContextManager[Transaction]:
        """A read-only transaction on one consistent snapshot (takes no write lock)."""
        ...

    def close(self) -> None: ...


class EventSink(Protocol):
    """Where committed events go (the bus). Called after the transaction commits."""

    def publish(self, events: Sequence[Event]) -> None: ...


class TrackExchange(Protocol):
    """Live tracks between hub nodes, by shard cell (the tactical engine's scale-out, see
    :mod:`deconfliction.hotline._shard_picture`): each node sends every accepted report
    to the cells near it, and receives the reports of the cells it owns."""

    node_name: str

    def members(self) -> list[str] | None:
        """The nodes alive now (this one among them), or None while the exchange is down:
        then each node watches the tracks it receives itself."""
        ...

    def send(self, cells: Mapping[int, Sequence[Track]]) -> None:
        """Hand each cell's reports to whichever node owns it (thread-safe, never waits on
        the network; reports that cannot be sent are dropped and counted — the next
        report of a track replaces them)."""

    def own(self, cells: frozenset[int]) -> None:
        """From now on, receive the reports sent to exactly ``cells``."""

    def drain(self) -> list[tuple[int, list[Track]]]:
        """The reports received since the last call, each batch with its cell."""
        ...


class Clock(Protocol):
    """The hub's clock: the authority for every timestamp the hotline writes."""

    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...
