"""Need-to-know reads: what a party may see of others."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from deconfliction.errors import (
    InvalidInput,
    NotFound,
)
from deconfliction.geo import (
    TimeWindow,
    Volume4D,
    intersection_geojson,
)
from deconfliction.hotline._core import Core
from deconfliction.hotline._ports import (
    Event,
    Principal,
)
from deconfliction.model import (
    Activity,
    Conflict,
    ConflictKind,
    ProtectedSite,
)

__all__ = ["ReadServices"]


class ReadServices(Core):
    """Need-to-know reads: what a party may see of others."""

    def get_activity(self, p: Principal, activity_id: UUID) -> tuple[Activity, bool]:
        """The activity and whether the caller sees it in full (its owner)."""
        with self.store.read() as tx:
            act = tx.get_activity(activity_id)
            if act is not None and act.owner == p.party_id:
                return act, True
            if act is None or not self._sees(tx, p.party_id, act):
                raise NotFound("activity", activity_id)
            return replace(act, remarks=""), False

    def list_activities(
        self,
        p: Principal,
        *,
        scope: str = "all",
        window: TimeWindow | None = None,
        live_only: bool = False,
        limit: int | None = None,
    ) -> list[tuple[Activity, bool]]:
        """``scope``: ``mine``, ``affecting`` (others' activities that affect me) or ``all``."""
        if scope not in ("mine", "affecting", "all"):
            raise InvalidInput("scope", "must be one of: mine, affecting, all")
        out: list[tuple[Activity, bool]] = []
        with self.store.read() as tx:
            if scope in ("mine", "all"):
                out += [
                    (a, True)
                    for a in tx.list_activities(
                        owner=p.party_id, window=window, live_only=live_only, limit=limit
                    )
                ]
            if scope in ("affecting", "all"):
                ids = {
                    c.activity_id if c.other_owner == p.party_id else c.other_id
                    for c in tx.list_conflicts(party=p.party_id, open_only=True)
                    if c.kind.value == "activity_activity" or c.other_owner == p.party_id
                }
                others = [
                    a
                    for a in tx.list_activities(ids=ids, window=window, live_only=live_only)
                    if a.owner != p.party_id
                ]
                out += [(replace(a, remarks=""), False) for a in others]
        out.sort(key=lambda x: (x[0].start, str(x[0].id)))
        return out[:limit] if limit else out

    def get_site(self, p: Principal, site_id: UUID) -> tuple[ProtectedSite, bool]:
        with self.store.read() as tx:
            s = tx.get_site(site_id)
            if s is not None and s.owner == p.party_id:
                return s, True
            if s is None or not self._site_disclosed(tx, p.party_id, s):
                raise NotFound("site", site_id)
            return s, False

    def list_sites(self, p: Principal, *, active_only: bool = False) -> list[ProtectedSite]:
        """The caller's own sites."""
        with self.store.read() as tx:
            return tx.list_sites(owner=p.party_id, active_only=active_only)

    def list_conflicts(
        self, p: Principal, *, open_only: bool = False, limit: int | None = None
    ) -> list[Any]:
        with self.store.read() as tx:
            return tx.list_conflicts(party=p.party_id, open_only=open_only, limit=limit)

    def get_conflict(self, p: Principal, conflict_id: UUID, *, geometry: bool = False) -> Conflict:
        """A conflict of the caller's party; ``geometry`` adds each overlap's common area
        (computed now from the two sides' volumes at the recorded versions)."""
        with self.store.read() as tx:
            c = tx.get_conflict(conflict_id)
            if c is None or p.party_id not in c.parties:
                raise NotFound("conflict", conflict_id)
            if not geometry:
                return c
            act = tx.get_activity_version(c.activity_id, c.activity_version)
            other: list[Volume4D] | None = None
            if c.kind is ConflictKind.ACTIVITY_SITE:
                site = tx.get_site(c.other_id)
                if site is not None and site.version == c.other_version:
                    other = [site.volume]
            else:
                o = tx.get_activity_version(c.other_id, c.other_version)
                other = list(o.volumes) if o is not None else None
        if act is None or other is None:
            return c
        overlaps = tuple(
            replace(
                o,
                intersection=intersection_geojson(
                    act.volumes[o.volume].footprint, other[o.other_volume].footprint
                ),
            )
            if o.horizontal_distance_m == 0
            else o
            for o in c.overlaps
        )
        return replace(c, overlaps=overlaps)

    def list_notices(
        self, p: Principal, *, activity_id: UUID | None = None, limit: int | None = None
    ) -> list[Any]:
        with self.store.read() as tx:
            return tx.list_notices(p.party_id, activity_id=activity_id, limit=limit)

    def get_notice(self, p: Principal, notice_id: UUID) -> Any:
        with self.store.read() as tx:
            n = tx.get_notice(notice_id)
        if n is None or n.recipient != p.party_id:
            raise NotFound("notice", notice_id)
        return n

    def activity_notices(self, p: Principal, activity_id: UUID) -> list[Any]:
        """Every notice sent about the caller's own activity, all versions (who was told what)."""
        with self.store.read() as tx:
            act = tx.get_activity(activity_id)
            if act is None or act.owner != p.party_id:
                raise NotFound("activity", activity_id)
            return tx.notices_of_activity(activity_id, current_only=False)

    def events_since(self, p: Principal, seq: int, *, limit: int = 1000) -> list[Event]:
        with self.store.read() as tx:
            return tx.events_since(p.party_id, seq, limit=limit)

    def last_seq(self, p: Principal) -> int:
        with self.store.read() as tx:
            return tx.last_seq(p.party_id)
