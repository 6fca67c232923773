"""Channel health: each party's link to the hub, from its clients' heartbeats.

A client heartbeats by sending any message on its stream (``{"type": "heartbeat"}`` or a
delivery confirmation) or ``POST /v1/heartbeat``; a party's webhook heartbeats by answering
2xx, to an event or to the webhook worker's ``heartbeat`` probe (sent when the webhook has
been idle for half ``links.degraded_after_min``), so a party reached only by webhook is
watched as closely as one with a client. A party's link is **normal** while a
heartbeat came within the policy's ``links.degraded_after_min``, **degraded** until
``links.down_after_min``, then **down** (and down until its first heartbeat after the hub
starts). Filing an activity that affects a party whose link is down tells the owner at once
that the notice cannot be delivered now; the notice waits, in order, in the party's stream
and is delivered when a client returns (``since=SEQ``). Each change of a link is recorded
on the ledger and told to the owners whose notices to that party are still undelivered.

Heartbeats are kept in memory, and each node also saves a party's newest one in the store
every quarter of ``links.degraded_after_min`` (at most; at once when the link comes back):
with several nodes, a party's clients may be on another node, and every node judges the
link by the newest heartbeat any of them had (saved heartbeats reach the other nodes by the
change feed). A change of status is recorded once: the node about to record it first reads
the last change recorded (under the writer lock) and leaves it out when another node
already recorded the same status since this node started. A node takes the recorded statuses
and saved heartbeats when it starts and as it follows the feed, so a party heard from
moments before a restart is not shown down, and a party last recorded normal whose clients
do not come back is recorded degraded, then down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from deconfliction.hotline._core import Core
from deconfliction.hotline._json import iso
from deconfliction.hotline._ports import Event, Fact, Principal, Transaction
from deconfliction.model import LinkStatus

__all__ = ["LinkServices", "PartyLink"]


@dataclass(frozen=True, slots=True)
class PartyLink:
    """One party's link as the hub sees it now."""

    party_id: UUID
    name: str
    status: LinkStatus
    last_heartbeat: datetime | None


class LinkServices(Core):
    """Heartbeats in, link status out."""

    def link_of(self, party: UUID) -> LinkStatus:
        """The party's link status now."""
        return LinkStatus(self._link_value(party))

    def heartbeat(self, p: Principal) -> LinkStatus:
        """A client of ``p``'s party is alive. Cheap (memory only) unless the link was not
        normal: then the change is recorded (ledger, owners told) before this returns."""
        return self.party_alive(p.party_id)

    def party_alive(self, party_id: UUID) -> LinkStatus:
        """The party answered: a client heartbeat, or its webhook answering 2xx (an event or
        the webhook worker's probe) — see :meth:`heartbeat`."""
        now = self._beats[party_id] = self._now()
        if self._link_seen.get(party_id) is not LinkStatus.NORMAL:
            self._link_seen[party_id] = LinkStatus.NORMAL  # at once: one record per return
            self._beat_saved[party_id] = now
            self._changes({party_id: LinkStatus.NORMAL})  # saves the heartbeat too
        else:
            saved = self._beat_saved.get(party_id)
            if saved is None or (now - saved).total_seconds() >= self._beat_save_s():
                self._beat_saved[party_id] = now
                self._submit(lambda tx, _now, _events, _after: tx.save_heartbeat(party_id, now))
        return LinkStatus.NORMAL

    def _beat_save_s(self) -> float:
        """How often a party's newest heartbeat is saved for the other nodes."""
        return max(0.2, self.policy.link_degraded_after_s / 4)

    def links(self, p: Principal) -> list[PartyLink]:
        """Every party's link (shared with all parties: whether a notice can reach them)."""
        del p
        with self.store.read() as tx:
            parties = tx.list_parties()
        return [PartyLink(x.id, x.name, self.link_of(x.id), self._last_beat(x.id)) for x in parties]

    def sweep_links(self) -> dict[UUID, LinkStatus]:
        """Record the links that changed since the last recorded change (run by the
        server): whichever node recorded it — the party's clients may have gone with it."""
        changed = {
            party: status
            for party in list(self._link_seen)
            if (status := self.link_of(party)) is not self._link_seen[party]
        }
        if changed:
            self._changes(changed)
        return changed

    def _changes(self, changed: dict[UUID, LinkStatus]) -> None:
        def run(
            tx: Transaction,
            now: datetime,
            events: list[Event],
            after: list[Callable[[], None]],
        ) -> None:
            facts = []
            for party, status in sorted(changed.items(), key=lambda kv: str(kv[0])):
                last = self._last_beat(party)
                stored = tx.get_link(party)
                if (
                    stored is not None
                    and stored.status == status.value
                    and stored.status_at is not None
                    and stored.status_at >= self._started_at
                ):
                    continue  # another node recorded this change already
                tx.save_link_status(party, status.value, now)
                if last is not None and status is LinkStatus.NORMAL:
                    tx.save_heartbeat(party, last)
                body = {"party": str(party), "status": status.value, "last_heartbeat": iso(last)}
                facts.append(Fact("party.link", body, (party,)))
                owners = {
                    n.owner
                    for n in tx.notices_undelivered_through(party, tx.last_seq(party))
                    if n.owner is not None and n.owner != party
                }
                got = tx.get_party(party)
                told = body | {"name": got.name if got else str(party)}
                items = [(o, "party.link", told) for o in sorted(owners, key=str)]
                events.extend(tx.append_events(items, now))
            if self.recorder is not None:
                self.recorder.record(tx, now, None, facts)
            del after

        self._link_seen.update(changed)
        self._submit(run)
