"""The SQL implementation of the hotline's ``Transaction`` protocol.

One :class:`SqlTransaction` wraps one connection inside one database transaction; the
store opens it (:meth:`SqlStore.transaction <deconfliction.store.SqlStore.transaction>`)
and commits or rolls it back. Statements are SQLAlchemy Core only and portable: nothing
here knows which database it talks to.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from deconfliction.errors import NotFound
from deconfliction.geo import TimeWindow, volume_from_record
from deconfliction.hotline import (
    IdempotencyRecord,
    LiveActivity,
    TokenInfo,
)
from deconfliction.model import (
    Activity,
    ActivityKind,
    Asset,
    Conflict,
    ConflictStatus,
    Party,
    ProtectedSite,
    SiteState,
)
from deconfliction.store import _codec as codec
from deconfliction.store._alert_rows import AlertRows
from deconfliction.store._exec import chunks
from deconfliction.store._link_rows import LinkRows
from deconfliction.store._notice_rows import NoticeRows
from deconfliction.store._schema import (
    activities,
    activity_versions,
    assets,
    conflicts,
    idempotency,
    parties,
    site_versions,
    sites,
    tokens,
)
from deconfliction.store._statements import (
    ASSET_BY_REF,
    BY_ID,
    CONFLICTS_OF,
    IDEMPOTENCY,
    INSERT,
    LIVE,
    TOKEN_BY_HASH,
    VERSION,
    update_by_id,
)
from deconfliction.store._stream_rows import StreamRows
from deconfliction.store._types import utc

__all__ = ["SqlTransaction"]


class SqlTransaction(NoticeRows, StreamRows, LinkRows, AlertRows):
    """One database transaction: implements ``deconfliction.hotline.Transaction``.

    Use it only inside the ``with`` block that opened it. Any error raised by a method
    aborts the transaction: later calls raise :class:`~deconfliction.store.StoreError`
    and the block rolls back.
    """

    # -- parties and tokens -----------------------------------------------------------------

    def add_party(self, party: Party) -> None:
        """Insert a party (its event stream starts empty)."""
        self._write(INSERT[parties], f"add party {party.id}", [codec.party_row(party)])

    def update_party(self, party: Party) -> None:
        """Replace the party's row (its event counter is kept)."""
        stmt, params = update_by_id(parties, codec.party_row(party))
        if self._write(stmt, f"update party {party.id}", params).rowcount != 1:
            raise NotFound("party", party.id)
        self._changed("party", party.id)

    def get_party(self, party_id: UUID) -> Party | None:
        """The party, or None."""
        row = self._one(BY_ID[parties], "get party", {"b_id": party_id})
        return None if row is None else codec.party_from_row(row)

    def list_parties(self) -> list[Party]:
        """Every party, by name (then id)."""
        rows = self._all(sa.select(parties).order_by(parties.c.name, parties.c.id), "parties")
        return [codec.party_from_row(r) for r in rows]

    def add_token(self, token: TokenInfo, secret_hash: bytes) -> None:
        """Insert a token's metadata and the hash of its secret."""
        self._write(INSERT[tokens], f"add token {token.id}", [codec.token_row(token, secret_hash)])

    def token_by_hash(self, secret_hash: bytes) -> TokenInfo | None:
        """The token whose secret hashes to ``secret_hash`` (revoked ones included)."""
        row = self._one(TOKEN_BY_HASH, "token by hash", {"b_hash": secret_hash})
        return None if row is None else codec.token_from_row(row)

    def get_token(self, token_id: UUID) -> TokenInfo | None:
        """The token, or None."""
        row = self._one(BY_ID[tokens], "get token", {"b_id": token_id})
        return None if row is None else codec.token_from_row(row)

    def list_tokens(self, party_id: UUID) -> list[TokenInfo]:
        """The party's tokens, by creation time (then id)."""
        stmt = (
            sa.select(tokens)
            .where(tokens.c.party_id == party_id)
            .order_by(tokens.c.created_at, tokens.c.id)
        )
        return [codec.token_from_row(r) for r in self._all(stmt, "list tokens")]

    def revoke_token(self, token_id: UUID, at: datetime) -> None:
        """Revoke the token at ``at`` (a token already revoked keeps its first time)."""
        stmt = (
            sa.update(tokens)
            .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
            .values(revoked_at=utc(at, "at"))
        )
        changed = self._write(stmt, f"revoke token {token_id}").rowcount
        if changed == 0 and self.get_token(token_id) is None:
            raise NotFound("token", token_id)
        self._changed("token", token_id)

    # -- activities -------------------------------------------------------------------------

    def add_activity(self, activity: Activity) -> None:
        """Insert an activity as its current row and its first kept version."""
        row = codec.activity_row(activity)
        what = f"add activity {activity.id}"
        self._write(INSERT[activities], what, [row])
        self._write(INSERT[activity_versions], what, [row])
        self._changed("activity", activity.id)

    def update_activity(self, activity: Activity, expected_version: int) -> bool:
        """Replace the current row if it is at ``expected_version``; keep the new version."""
        row = codec.activity_row(activity)
        stmt, params = update_by_id(activities, row, expected_version)
        what = f"update activity {activity.id}"
        if self._write(stmt, what, params).rowcount != 1:
            return False
        self._write(INSERT[activity_versions], what, [row])
        self._changed("activity", activity.id)
        return True

    def get_activity(self, activity_id: UUID) -> Activity | None:
        """The current version of the activity, or None."""
        row = self._one(BY_ID[activities], "get activity", {"b_id": activity_id})
        return None if row is None else codec.activity_from_row(row)

    def get_activity_version(self, activity_id: UUID, version: int) -> Activity | None:
        """One kept version of the activity, or None."""
        params = {"b_id": activity_id, "b_version": version}
        row = self._one(VERSION[activity_versions], "get activity version", params)
        return None if row is None else codec.activity_from_row(row)

    def activity_versions(self, activity_id: UUID) -> list[Activity]:
        """Every kept version of the activity, oldest first."""
        stmt = (
            sa.select(activity_versions)
            .where(activity_versions.c.id == activity_id)
            .order_by(activity_versions.c.version)
        )
        return [codec.activity_from_row(r) for r in self._all(stmt, "activity versions")]

    def list_activities(
        self,
        *,
        owner: UUID | None = None,
        ids: Collection[UUID] | None = None,
        live_only: bool = False,
        window: TimeWindow | None = None,
        limit: int | None = None,
    ) -> list[Activity]:
        """Current activities by start time, then id; ``window`` keeps those meeting it."""
        c = activities.c
        where: list[sa.ColumnElement[bool]] = []
        if owner is not None:
            where.append(c.owner == owner)
        if live_only:
            where.append(c.state.in_(LIVE))
        if window is not None:  # closed intervals: touching counts as meeting
            where += [c.starts_at <= window.end, c.ends_at >= window.start]
        order = (c.starts_at, c.id)
        if ids is None:
            stmt = sa.select(activities).where(*where).order_by(*order).limit(limit)
            return [codec.activity_from_row(r) for r in self._all(stmt, "list activities")]
        rows = [
            r
            for part in chunks(ids)
            for r in self._all(
                sa.select(activities).where(c.id.in_(part), *where).order_by(*order).limit(limit),
                "list activities",
            )
        ]
        rows.sort(key=lambda r: (r["starts_at"], r["id"]))
        return [codec.activity_from_row(r) for r in rows[:limit]]

    def iter_live_activities(self, batch: int = 1000) -> Iterator[Activity]:
        """Every notified or active activity, in id order, read ``batch`` rows at a time.

        Keyset pagination on the primary key: memory holds one batch of rows, and each
        activity is decoded only when the consumer reaches it. Consume it inside the
        transaction.
        """
        if batch < 1:
            raise ValueError("batch must be at least 1")
        c = activities.c
        after: UUID | None = None
        while True:
            stmt = sa.select(activities).where(c.state.in_(LIVE)).order_by(c.id).limit(batch)
            if after is not None:
                stmt = stmt.where(c.id > after)
            rows = self._all(stmt, "live activities")
            for row in rows:
                yield codec.activity_from_row(row)
            if len(rows) < batch:
                return
            after = rows[-1]["id"]

    def iter_live_footprints(self, batch: int = 1000) -> Iterator[LiveActivity]:
        """What the index needs of every live activity (id, owner, kind, volumes), in id
        order, without building whole :class:`Activity` objects: the fast path of a rebuild.

        One statement, read ``batch`` rows at a time (paging with ``id > last`` made SQLite
        sort the live rows again for every page)."""
        if batch < 1:
            raise ValueError("batch must be at least 1")
        c = activities.c
        stmt = sa.select(c.id, c.owner, c.kind, c.volumes).where(c.state.in_(LIVE))
        result = self._exec(stmt.order_by(c.id), "live activities").mappings()
        for rows in result.partitions(batch):
            for row in rows:
                volumes = tuple(volume_from_record(v) for v in row["volumes"])
                yield LiveActivity(row["id"], row["owner"], ActivityKind(row["kind"]), volumes)

    def count_live_activities(self) -> int:
        """How many activities are notified or active."""
        stmt = sa.select(sa.func.count()).select_from(activities)
        stmt = stmt.where(activities.c.state.in_(LIVE))
        return int(self._exec(stmt, "count live activities").scalar_one())

    # -- protected sites --------------------------------------------------------------------

    def add_site(self, site: ProtectedSite) -> None:
        """Insert a site as its current row and its first kept version."""
        row = codec.site_row(site)
        what = f"add site {site.id}"
        self._write(INSERT[sites], what, [row])
        self._write(INSERT[site_versions], what, [row])
        self._changed("site", site.id)

    def update_site(self, site: ProtectedSite, expected_version: int) -> bool:
        """Replace the current row if it is at ``expected_version``; keep the new version."""
        row = codec.site_row(site)
        stmt, params = update_by_id(sites, row, expected_version)
        what = f"update site {site.id}"
        if self._write(stmt, what, params).rowcount != 1:
            return False
        self._write(INSERT[site_versions], what, [row])
        self._changed("site", site.id)
        return True

    def get_site(self, site_id: UUID) -> ProtectedSite | None:
        """The current version of the site, or None."""
        row = self._one(BY_ID[sites], "get site", {"b_id": site_id})
        return None if row is None else codec.site_from_row(row)

    def get_site_version(self, site_id: UUID, version: int) -> ProtectedSite | None:
        """One kept version of the site, or None (not in the protocol)."""
        params = {"b_id": site_id, "b_version": version}
        row = self._one(VERSION[site_versions], "get site version", params)
        return None if row is None else codec.site_from_row(row)

    def list_sites(
        self,
        *,
        owner: UUID | None = None,
        ids: Collection[UUID] | None = None,
        active_only: bool = False,
    ) -> list[ProtectedSite]:
        """Current sites by name, then id."""
        c = sites.c
        where: list[sa.ColumnElement[bool]] = []
        if owner is not None:
            where.append(c.owner == owner)
        if active_only:
            where.append(c.state == SiteState.ACTIVE.value)
        stmts = (
            [sa.select(sites).where(*where)]
            if ids is None
            else [sa.select(sites).where(c.id.in_(part), *where) for part in chunks(ids)]
        )
        rows = [r for s in stmts for r in self._all(s.order_by(c.name, c.id), "list sites")]
        if len(stmts) > 1:
            rows.sort(key=lambda r: (r["name"], r["id"]))
        return [codec.site_from_row(r) for r in rows]

    # -- conflicts --------------------------------------------------------------------------

    def add_conflict(self, conflict: Conflict) -> None:
        """Insert a conflict."""
        self._write(
            INSERT[conflicts], f"add conflict {conflict.id}", [codec.conflict_row(conflict)]
        )

    def update_conflict(self, conflict: Conflict) -> None:
        """Replace a stored conflict (raises :class:`NotFound` if there is none)."""
        stmt, params = update_by_id(conflicts, codec.conflict_row(conflict))
        if self._write(stmt, f"update conflict {conflict.id}", params).rowcount != 1:
            raise NotFound("conflict", conflict.id)

    def get_conflict(self, conflict_id: UUID) -> Conflict | None:
        """The conflict, or None."""
        row = self._one(BY_ID[conflicts], "conflict", {"b_id": conflict_id})
        return None if row is None else codec.conflict_from_row(row)

    def conflicts_of(self, object_id: UUID, *, open_only: bool = True) -> list[Conflict]:
        """Conflicts where ``object_id`` is either side, by detection time (then id)."""
        rows = self._all(CONFLICTS_OF[open_only], "conflicts of", {"b_id": object_id})
        return [codec.conflict_from_row(r) for r in rows]

    def list_conflicts(
        self, *, party: UUID | None = None, open_only: bool = False, limit: int | None = None
    ) -> list[Conflict]:
        """Conflicts where ``party`` owns either side, newest detection first."""
        c = conflicts.c
        stmt = sa.select(conflicts)
        if party is not None:
            stmt = stmt.where(sa.or_(c.activity_owner == party, c.other_owner == party))
        if open_only:
            stmt = stmt.where(c.status == ConflictStatus.OPEN.value)
        stmt = stmt.order_by(c.detected_at.desc(), c.id.desc()).limit(limit)
        return [codec.conflict_from_row(r) for r in self._all(stmt, "list conflicts")]

    # -- assets -----------------------------------------------------------------------------

    def put_asset(self, asset: Asset) -> None:
        """Insert or replace the asset's latest report (by id)."""
        row = codec.asset_row(asset)
        stmt, params = update_by_id(assets, row)
        if self._write(stmt, f"update asset {asset.id}", params).rowcount == 0:
            self._write(INSERT[assets], f"add asset {asset.id}", [row])
        self._changed("asset", asset.id)

    def get_asset(self, asset_id: UUID) -> Asset | None:
        """The asset's latest report, or None."""
        row = self._one(BY_ID[assets], "get asset", {"b_id": asset_id})
        return None if row is None else codec.asset_from_row(row)

    def asset_by_ref(self, owner: UUID, ref: str) -> Asset | None:
        """The party's asset it calls ``ref``, or None."""
        row = self._one(ASSET_BY_REF, "asset by ref", {"b_owner": owner, "b_ref": ref})
        return None if row is None else codec.asset_from_row(row)

    def list_assets(self, owner: UUID | None = None) -> list[Asset]:
        """Assets (of ``owner``, or every party's), by owner then ref."""
        stmt = sa.select(assets).order_by(assets.c.owner, assets.c.ref)
        if owner is not None:
            stmt = stmt.where(assets.c.owner == owner)
        return [codec.asset_from_row(r) for r in self._all(stmt, "list assets")]

    # -- idempotency keys -------------------------------------------------------------------

    def get_idempotency(self, party_id: UUID, key: str) -> IdempotencyRecord | None:
        """The recorded outcome for the party's key, or None."""
        params = {"b_party": party_id, "b_key": key}
        row = self._one(IDEMPOTENCY, "get idempotency record", params)
        return None if row is None else codec.idempotency_from_row(row)

    def put_idempotency(self, record: IdempotencyRecord) -> None:
        """Record an outcome (a key already recorded raises :class:`IntegrityViolation`)."""
        self._write(
            INSERT[idempotency],
            f"put idempotency key {record.key!r}",
            [codec.idempotency_row(record)],
        )
