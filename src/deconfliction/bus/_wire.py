"""The NATS bus's wire format and counters (pure: no connection here)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from deconfliction.hotline import Event
from deconfliction.model import Track

__all__ = [
    "BusStats",
    "TrackStats",
    "decode_tracks",
    "decode_event",
    "encode_event",
    "encode_tracks",
    "redact",
]


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


def encode_tracks(tracks: list[Track]) -> bytes:
    """A message body holding reports (a JSON array of arrays, in field order).

    >>> from datetime import UTC, datetime
    >>> t = Track("a1", UUID(int=1), "adsb", datetime(2026, 1, 1, tzinfo=UTC), 48.0, 2.0,
    ...           1000.0, ground_speed_mps=200.0, track_deg=90.0, icao24="abc123")
    >>> decode_tracks(encode_tracks([t])) == [t]
    True
    """
    rows = [
        [
            t.key,
            str(t.party),
            t.source.value,
            t.time.timestamp(),
            t.lat,
            t.lon,
            t.altitude_m,
            t.altitude_ref.value,
            t.ground_speed_mps,
            t.track_deg,
            t.vertical_rate_mps,
            t.callsign,
            t.icao24,
            None if t.activity_id is None else str(t.activity_id),
            t.on_ground,
        ]
        for t in tracks
    ]
    return json.dumps(rows, separators=(",", ":"), ensure_ascii=False).encode()


def decode_tracks(data: bytes) -> list[Track]:
    """The reports of a message body; each is checked again as any report is
    (:class:`~deconfliction.errors.InvalidInput`, ValueError, TypeError or IndexError when
    malformed)."""
    out = []
    for r in json.loads(data):
        key, party, source, t, lat, lon, alt, ref, gs, trk, vs, call, icao, act, ground = r
        out.append(
            Track(
                key,
                UUID(party),
                source,
                datetime.fromtimestamp(t, UTC),
                lat,
                lon,
                alt,
                ref,
                gs,
                trk,
                vs,
                call,
                icao,
                None if act is None else UUID(act),
                ground,
            )
        )
    return out


@dataclass(slots=True)
class TrackStats:
    """The track exchange's counters since start (``GET /readyz`` shows them)."""

    members: int = 0
    """Live nodes at the last membership read."""
    cells_subscribed: int = 0
    sent: int = 0
    """Reports handed to NATS (one per cell a report was sent to)."""
    received: int = 0
    """Reports received for this node's cells."""
    dropped: int = 0
    """Reports not sent (NATS down or the outbox full) or not kept (inbox full)."""
    malformed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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
