"""The NATS bus's wire format and counters (pure: no connection here)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from deconfliction.hotline import Event

__all__ = ["BusStats", "decode_event", "encode_event", "redact"]


def redact(url: str | list[str]) -> str:
    """The server URL(s) without credentials, for the logs.

    >>> redact(["nats://hub:s3cret@10.0.0.1:4222", "nats://10.0.0.2:4222"])
    'nats://10.0.0.1:4222,nats://10.0.0.2:4222'
    """
    urls = [url] if isinstance(url, str) else url
    return ",".join(re.sub(r"//[^/@]*@", "//", u) for u in urls)


def encode_event(e: Event) -> bytes:
    """The message body of an event (JSON).

    >>> from datetime import UTC, datetime
    >>> e = Event(UUID(int=1), 7, "notice", {"a": 1}, datetime(2026, 1, 1, tzinfo=UTC))
    >>> decode_event(encode_event(e)) == e
    True
    """
    doc = {
        "party": str(e.party_id),
        "seq": e.seq,
        "type": e.type,
        "payload": dict(e.payload),
        "created_at": e.created_at.isoformat(),
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def decode_event(data: bytes) -> Event:
    """The event of a message body (ValueError, KeyError or TypeError when malformed)."""
    doc = json.loads(data)
    at = datetime.fromisoformat(doc["created_at"])
    if at.tzinfo is None:
        raise ValueError("created_at is naive")
    return Event(UUID(doc["party"]), int(doc["seq"]), str(doc["type"]), doc["payload"], at)


@dataclass(slots=True)
class BusStats:
    """Counters since start (read them for monitoring; ``GET /readyz`` shows them)."""

    connected: bool = False
    published: int = 0
    """Events stored in the stream by this node."""
    publish_failures: int = 0
    """Publish attempts that failed (the event stays in the outbox and is sent again)."""
    dropped: int = 0
    """Events dropped from a full outbox (other nodes' listeners re-read the store)."""
    received: int = 0
    """Events from other nodes handed to this node's listeners."""
    own_skipped: int = 0
    """This node's own events read back from the stream and skipped (its listeners had
    them at once)."""
    outbox: int = 0
    """Events waiting to be published."""
    resyncs: int = 0
    """Times the local listeners were told to re-read the store (link back up)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
