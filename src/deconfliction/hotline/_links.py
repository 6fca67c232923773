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
Heartbeats themselves are kept in memory only (they are frequent and carry nothing).
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
        self._beats[party_id] = self._now()
        if self._link_seen.get(party_id) is not LinkStatus.NORMAL:
            self._link_seen[party_id] = LinkStatus.NORMAL  # at once: one record per return
            self._changes({party_id: LinkStatus.NORMAL})
        return LinkStatus.NORMAL

    def links(self, p: Principal) -> list[PartyLink]:
        """Every party's link (shared with all parties: whether a notice can reach them)."""
        del p
        with self.store.read() as tx:
            parties = tx.list_parties()
        return [PartyLink(x.id, x.name, self.link_of(x.id), self._beats.get(x.id)) for x in parties]

    def sweep_links(self) -> dict[UUID, LinkStatus]:
        """Record the links that changed since the last sweep (run by the server)."""
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
                last = self._beats.get(party)
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
