"""Parties and tokens: the directory and its administration."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid4

from deconfliction.errors import (
    InvalidInput,
    NotFound,
    Unauthorized,
)
from deconfliction.hotline._core import Core
from deconfliction.hotline._ports import (
    Event,
    Fact,
    Principal,
    TokenInfo,
    Transaction,
)
from deconfliction.hotline._tokens import PREFIX_LEN, hash_secret, new_secret
from deconfliction.model import (
    EscalationLevel,
    Party,
    PartyKind,
    Role,
)

__all__ = ["AUTH_CACHE_S", "AdminServices"]

AUTH_CACHE_S = 5.0
"""How long a checked token is trusted without asking the store again."""


class AdminServices(Core):
    """Parties and tokens: the directory and its administration."""

    # ------------------------------------------------------------------ parties and tokens

    def authenticate(self, secret: str) -> Principal:
        """The principal of an API token (raises :class:`Unauthorized`).

        Valid tokens are remembered for :data:`AUTH_CACHE_S` seconds; revoking a token
        through this hub forgets them at once (another node's revocation takes effect
        within that time).
        """
        h = hash_secret(secret)
        hit = self._auth_cache.get(h)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        with self.store.read() as tx:
            t = tx.token_by_hash(h)
        # Looked up by the SHA-256 of a 256-bit random secret: timing reveals nothing usable.
        if t is None or t.revoked_at is not None:
            raise Unauthorized("the token is unknown or revoked")
        principal = Principal(t.id, t.party_id, t.role, t.level)
        if len(self._auth_cache) > 10_000:
            self._auth_cache.clear()
        self._auth_cache[h] = (principal, time.monotonic() + AUTH_CACHE_S)
        return principal

    def bootstrap(self, name: str = "Hub administration") -> tuple[Party, str] | None:
        """On an empty hub, create an admin party and its first admin token (shown once)."""

        def run(
            tx: Transaction,
            now: datetime,
            _: list[Event],
            _after: list[Callable[[], None]],
        ) -> tuple[Party, str] | None:
            if tx.list_parties():
                return None
            party = Party(uuid4(), name, PartyKind.OTHER, now)
            tx.add_party(party)
            secret = self._new_token(tx, party.id, Role.ADMIN, "bootstrap", now)[1]
            return party, secret

        return self._submit(run)

    @staticmethod
    def _new_token(
        tx: Transaction, party_id: UUID, role: Role, label: str, now: datetime, level: int = 0
    ) -> tuple[TokenInfo, str]:
        secret = new_secret()
        info = TokenInfo(uuid4(), party_id, role, label, secret[:PREFIX_LEN], now, level=level)
        tx.add_token(info, hash_secret(secret))
        return info, secret

    def add_party(
        self,
        p: Principal,
        name: str,
        kind: PartyKind | str,
        *,
        contact: str = "",
        languages: tuple[str, ...] = ("en",),
    ) -> Party:
        self._need(p, Role.ADMIN)

        def run(
            tx: Transaction,
            now: datetime,
            _: list[Event],
            _after: list[Callable[[], None]],
        ) -> Party:
            party = Party(uuid4(), name, kind, now, contact=contact, languages=languages)  # type: ignore[arg-type]
            if any(x.name.casefold() == party.name.casefold() for x in tx.list_parties()):
                raise InvalidInput("name", f"a party named {party.name!r} already exists")
            tx.add_party(party)
            return party

        return self._submit(run)

    def list_parties(self, p: Principal) -> list[Party]:
        """Every party's name, kind and contact (the directory is shared by design)."""
        del p
        with self.store.read() as tx:
            return tx.list_parties()

    def get_party(self, p: Principal, party_id: UUID) -> Party:
        del p
        with self.store.read() as tx:
            party = tx.get_party(party_id)
        if party is None:
            raise NotFound("party", party_id)
        return party

    def create_token(
        self, p: Principal, party_id: UUID, role: Role | str, label: str = "", level: int = 0
    ) -> tuple[TokenInfo, str]:
        """A new token for ``party_id``: its secret is returned here and never again.
        ``level``: the escalation level it belongs to (0: the duty desk)."""
        self._need(p, Role.ADMIN)
        try:
            r = Role(role)
        except ValueError:
            raise InvalidInput("role", "must be one of: observer, operator, admin") from None
        if len(label) > 200:
            raise InvalidInput("label", "must be at most 200 characters")

        def run(
            tx: Transaction,
            now: datetime,
            _: list[Event],
            _after: list[Callable[[], None]],
        ) -> tuple[TokenInfo, str]:
            party = tx.get_party(party_id)
            if party is None:
                raise NotFound("party", party_id)
            if not 0 <= level <= len(party.escalation):
                raise InvalidInput(
                    "level",
                    f"the party has levels 0 to {len(party.escalation)} (its escalation ladder)",
                )
            return self._new_token(tx, party_id, r, label, now, level)

        return self._submit(run)

    def set_escalation(
        self, p: Principal, party_id: UUID, levels: Sequence[EscalationLevel]
    ) -> Party:
        """Replace the party's escalation ladder (the levels above its duty desk). Tokens of
        levels that no longer exist keep working at the top level that does."""
        self._need(p, Role.ADMIN)

        def run(
            tx: Transaction,
            now: datetime,
            _: list[Event],
            after: list[Callable[[], None]],
        ) -> Party:
            old = tx.get_party(party_id)
            if old is None:
                raise NotFound("party", party_id)
            new = replace(old, escalation=tuple(levels), version=old.version + 1)
            tx.update_party(new)
            if self.recorder is not None:
                body = {
                    "party": str(party_id),
                    "escalation": [{"name": lv.name, "deadline_s": lv.deadline_s} for lv in levels],
                }
                self.recorder.record(tx, now, p, [Fact("party.escalation", body, (party_id,))])

            def forget() -> None:
                self._ladders.pop(party_id, None)

            after.append(forget)
            return new

        return self._submit(run)

    def party_ladder(self, p: Principal, party_id: UUID) -> Party:
        """The party with its escalation ladder (admin)."""
        self._need(p, Role.ADMIN)
        with self.store.read() as tx:
            party = tx.get_party(party_id)
        if party is None:
            raise NotFound("party", party_id)
        return party

    def list_tokens(self, p: Principal, party_id: UUID) -> list[TokenInfo]:
        self._need(p, Role.ADMIN)
        with self.store.read() as tx:
            if tx.get_party(party_id) is None:
                raise NotFound("party", party_id)
            return tx.list_tokens(party_id)

    def revoke_token(self, p: Principal, token_id: UUID) -> TokenInfo:
        self._need(p, Role.ADMIN)

        def run(
            tx: Transaction,
            now: datetime,
            _: list[Event],
            after: list[Callable[[], None]],
        ) -> TokenInfo:
            t = tx.get_token(token_id)
            if t is None:
                raise NotFound("token", token_id)
            if t.revoked_at is None:
                tx.revoke_token(token_id, now)
                t = replace(t, revoked_at=now)
            after.append(self._auth_cache.clear)
            return t

        return self._submit(run)
