"""Live tracks: the latest position of every asset the hub hears of, kept in memory.

Parties report their own tracks (``POST /v1/tracks``); surveillance feeds (SBS-1,
``aircraft.json``, OpenSky, see :mod:`deconfliction.interop`) report on behalf of the party
they are attributed to. Each batch is checked item by item (:func:`check_batch`: range,
the hub's clock, never backwards per track) and the rest is taken — a bad item never sinks
the batch. A report that links an activity must name a live activity of its own party.

**Memory only.** Tracks are the fastest-changing data on the hub (each aircraft every
second) and go stale in ``tracks.stale_after_s`` (30 s): they are not written to the store
or the ledger. What they cause is: the alerts the tactical engine raises from them are
notices like any other. After a restart the picture fills again from the next reports
(and the going-backwards check starts afresh). Time-to-clear uses them: a fresh track whose
key is the ref of one of its party's assets moves that asset to the track's position.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from deconfliction.detect import Subject, SubjectKind
from deconfliction.errors import NotFound
from deconfliction.hotline._core import Core
from deconfliction.hotline._json import iso
from deconfliction.hotline._ports import Principal
from deconfliction.model import Role, Track, TrackBatchResult, check_batch

__all__ = ["TrackServices", "track_json"]


class TrackServices(Core):
    """Take track reports; show a party its live tracks."""

    def ingest_tracks(self, p: Principal, items: Sequence[Track | str]) -> TrackBatchResult:
        """Take ``p``'s reports (items that are ``str`` are reasons the caller could not
        build a report: refused with their index). Every report must be of ``p``'s party
        and may only link a live activity of that party; the rest of the batch is taken."""
        self._need(p, Role.OPERATOR)
        checked: list[Track | str] = []
        for item in items:
            if isinstance(item, Track):
                if item.party is not p.party_id and item.party != p.party_id:
                    item = "reports another party's track (a token reports for its own party)"
                elif item.activity_id is not None and not self._own_live(p, item.activity_id):
                    item = f"activity_id {item.activity_id}: no live activity of yours"
            checked.append(item)
        return self._take(checked)

    def ingest_feed(self, party_id: UUID, items: Sequence[Track]) -> TrackBatchResult:
        """Take a surveillance feed's reports, attributed to ``party_id`` by the hub's
        configuration (the hub acts: no token). Reports of another party, or linking an
        activity, are refused (a feed knows aircraft, not plans)."""
        if party_id not in self._names:
            with self.store.read() as tx:
                got = tx.get_party(party_id)
            if got is None:
                raise NotFound("party", party_id)
            self._names[party_id] = got.name
        checked: list[Track | str] = [
            "reports another party's track"
            if t.party != party_id
            else "a feed cannot link an activity"
            if t.activity_id is not None
            else t
            for t in items
        ]
        return self._take(checked)

    def _take(self, checked: Sequence[Track | str]) -> TrackBatchResult:
        """Check the batch against the hub's clock and each track's last time; keep what
        passes as each track's latest report."""
        now = self._now()
        with self._track_lock:
            result = check_batch(checked, now, _LastTimes(self._tracks), self.policy.tracks)
            self._tracks.update({(t.party, t.key): t for t in result.accepted})
        return result

    def _own_live(self, p: Principal, activity_id: UUID) -> bool:
        return Subject(SubjectKind.ACTIVITY, activity_id, p.party_id) in self.index

    def live_tracks(self, p: Principal) -> list[Track]:
        """``p``'s party's tracks reported within ``tracks.stale_after_s``, by key."""
        return sorted(
            (t for t in self.fresh_tracks() if t.party == p.party_id), key=lambda t: t.key
        )

    def fresh_tracks(self, now: datetime | None = None) -> list[Track]:
        """Every party's tracks not yet stale (older ones are dropped from memory)."""
        cutoff = (now or self._now()) - timedelta(seconds=self.policy.tracks.stale_after_s)
        with self._track_lock:
            stale = [k for k, t in self._tracks.items() if t.time < cutoff]
            for k in stale:
                del self._tracks[k]
            return list(self._tracks.values())


class _LastTimes(Mapping[tuple[UUID, str], datetime]):
    """The time of each track's latest report, read from the track table (no copy)."""

    def __init__(self, tracks: Mapping[tuple[UUID, str], Track]) -> None:
        self._tracks = tracks

    def __getitem__(self, key: tuple[UUID, str]) -> datetime:
        return self._tracks[key].time

    def get(self, key: tuple[UUID, str], default: Any = None) -> Any:  # no KeyError per miss
        t = self._tracks.get(key)
        return default if t is None else t.time

    def __iter__(self) -> Iterator[tuple[UUID, str]]:
        return iter(self._tracks)

    def __len__(self) -> int:
        return len(self._tracks)


def track_json(t: Track) -> dict[str, Any]:
    """A track as the API shows it."""
    return {
        "key": t.key,
        "party": str(t.party),
        "source": t.source.value,
        "time": iso(t.time),
        "lat": t.lat,
        "lon": t.lon,
        "altitude_m": t.altitude_m,
        "altitude_ref": t.altitude_ref.value,
        "ground_speed_mps": t.ground_speed_mps,
        "track_deg": t.track_deg,
        "vertical_rate_mps": t.vertical_rate_mps,
        "callsign": t.callsign,
        "icao24": t.icao24,
        "activity_id": None if t.activity_id is None else str(t.activity_id),
        "on_ground": t.on_ground,
    }
