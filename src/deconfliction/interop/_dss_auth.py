"""Access tokens of the F3548 discovery service: RS256 JWTs from the UTM authority.

A token is verified (PyJWT) against the configured public keys — a PEM file, a JWKS file
or a JWKS URL — with ``exp``, ``sub`` and ``aud`` required and ``aud`` equal to the hub's
configured audience (``iss`` too when one is configured). Its ``scope`` claim (space
separated) must hold one of the alternatives the interface lists for the operation: else
403. The caller is the token's ``sub`` (the USS, "manager" in the interface); it acts on
the hotline as the party it is mapped to (``dss_managers``), and a USS mapped to no party
is refused (403).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from deconfliction.errors import InvalidInput
from deconfliction.hotline import Hotline, Principal
from deconfliction.interop._dss_errors import DssError
from deconfliction.model import Role

__all__ = [
    "AVAILABILITY_ARBITRATION",
    "CONFORMANCE_MONITORING_SA",
    "CONSTRAINT_MANAGEMENT",
    "CONSTRAINT_PROCESSING",
    "STRATEGIC_COORDINATION",
    "DssClient",
    "KeySet",
    "Managers",
    "TokenVerifier",
]

STRATEGIC_COORDINATION = "utm.strategic_coordination"
CONSTRAINT_MANAGEMENT = "utm.constraint_management"
CONSTRAINT_PROCESSING = "utm.constraint_processing"
CONFORMANCE_MONITORING_SA = "utm.conformance_monitoring_sa"
AVAILABILITY_ARBITRATION = "utm.availability_arbitration"

LEEWAY_S = 5.0
"""Clock difference tolerated on ``exp`` (F3548-21 asks clocks within 5 s)."""


class KeySet:
    """The public keys that may have signed a token: from a PEM file (one or more keys),
    a JWKS file, or a JWKS URL (fetched and cached by PyJWT's client)."""

    def __init__(self, keys: list[tuple[str | None, Any]], url: str | None = None) -> None:
        self._keys = keys
        self._client = jwt.PyJWKClient(url, lifespan=300, timeout=10) if url else None

    @classmethod
    def load(cls, source: str) -> KeySet:
        """Keys from ``source``: an ``http(s)://`` JWKS URL or a PEM or JWKS file."""
        if source.startswith(("https://", "http://")):
            return cls([], url=source)
        try:
            text = Path(source).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput("dss_jwt_keys", f"cannot read {source}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                "dss_jwt_keys", f"{source} is not a PEM or JWKS file: not UTF-8 text ({exc.reason})"
            ) from None
        if "-----BEGIN" in text:
            return cls([(None, k) for k in _pem_keys(text, source)])
        try:
            jwks = jwt.PyJWKSet.from_dict(json.loads(text))
        except (ValueError, jwt.PyJWTError) as exc:
            raise InvalidInput(
                "dss_jwt_keys", f"{source}: not a PEM or JWKS file ({exc})"
            ) from None
        return cls([(k.key_id, k.key) for k in jwks.keys])

    def candidates(self, token: str, kid: str | None) -> list[Any]:
        """The keys to try for ``token`` (the one named by ``kid`` when it names one)."""
        if self._client is not None:
            try:
                return [self._client.get_signing_key_from_jwt(token).key]
            except jwt.PyJWKClientConnectionError as exc:
                raise DssError(401, f"cannot fetch the authority's keys: {exc}") from None
            except jwt.PyJWKClientError as exc:
                raise DssError(401, f"no key of the authority verifies this token: {exc}") from None
        named = [k for i, k in self._keys if kid is not None and i == kid]
        return named or [k for _, k in self._keys]


def _pem_keys(text: str, source: str) -> list[RSAPublicKey]:
    out = []
    for block in text.split("-----END")[:-1]:
        pem = block[block.index("-----BEGIN") :] + "-----END PUBLIC KEY-----\n"
        try:
            key = load_pem_public_key(pem.encode())
        except ValueError as exc:
            raise InvalidInput("dss_jwt_keys", f"{source}: bad PEM public key ({exc})") from None
        if not isinstance(key, RSAPublicKey):
            raise InvalidInput("dss_jwt_keys", f"{source}: RS256 needs RSA public keys")
        out.append(key)
    return out


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says: who calls and with which scopes."""

    manager: str
    scopes: frozenset[str]


class TokenVerifier:
    """Verifies bearer tokens (raises :class:`DssError` 401 with the reason)."""

    def __init__(self, keys: KeySet, audience: str, issuer: str | None = None) -> None:
        self.keys = keys
        self.audience = audience
        self.issuer = issuer

    def verify(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise DssError(401, f"the access token cannot be decoded: {exc}") from None
        if header.get("alg") != "RS256":
            raise DssError(401, "the access token must be signed with RS256")
        kid = header.get("kid")
        error: jwt.PyJWTError | None = None
        for key in self.keys.candidates(token, kid if isinstance(kid, str) else None):
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=["RS256"],
                    audience=self.audience,
                    issuer=self.issuer,
                    leeway=LEEWAY_S,
                    options={"require": ["exp", "sub", "aud"]},
                )
            except jwt.InvalidSignatureError as exc:
                error = exc
                continue
            except jwt.PyJWTError as exc:
                raise DssError(401, f"the access token is not valid: {exc}") from None
            return _claims(claims)
        raise DssError(401, f"the access token is not valid: {error or 'no key to verify it'}")


def _claims(claims: Mapping[str, Any]) -> Claims:
    sub, scope = claims.get("sub"), claims.get("scope", "")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise DssError(401, "the access token's sub must be the client's id (1–255 characters)")
    if isinstance(scope, list):
        scopes = frozenset(str(s) for s in scope)
    elif isinstance(scope, str):
        scopes = frozenset(scope.split())
    else:
        raise DssError(401, "the access token's scope must be a space-separated string")
    return Claims(sub, scopes)


@dataclass(frozen=True, slots=True)
class DssClient:
    """A verified caller: the USS (``manager``), its scopes, and the hotline principal of
    the party it is mapped to."""

    manager: str
    scopes: frozenset[str]
    principal: Principal

    def has(self, scope: str) -> bool:
        return scope in self.scopes


class Managers:
    """The configured USS → hotline party mapping, resolved against the store (a party
    named by id or by name); resolved principals are cached."""

    def __init__(self, mapping: Mapping[str, str], hotline: Callable[[], Hotline]) -> None:
        self._mapping = dict(mapping)
        self._hotline = hotline
        self._cache: dict[str, Principal] = {}
        self._lock = threading.Lock()

    def principal(self, manager: str) -> Principal:
        """The principal ``manager`` acts as on the hotline (raises 403)."""
        with self._lock:
            hit = self._cache.get(manager)
        if hit is not None:
            return hit
        target = self._mapping.get(manager)
        if target is None:
            raise DssError(
                403,
                f"USS {manager!r} is mapped to no party of this hotline: ask the hub's "
                "operator to add it to dss_managers",
            )
        with self._hotline().store.read() as tx:
            party = _find(tx.list_parties(), target)
        if party is None:
            raise DssError(
                403, f"USS {manager!r} is mapped to {target!r}, which is no party of this hotline"
            )
        # The token id on the ledger names the USS (the same one for all its tokens).
        p = Principal(uuid5(NAMESPACE_URL, f"dss:{manager}"), party, Role.OPERATOR)
        with self._lock:
            self._cache[manager] = p
        return p


def _find(parties: Iterable[Any], target: str) -> UUID | None:
    try:
        wanted: UUID | None = UUID(target)
    except ValueError:
        wanted = None
    for p in parties:
        if p.id == wanted or p.name == target:
            return UUID(str(p.id))
    return None


def require(client_scopes: frozenset[str], alternatives: Iterable[frozenset[str]]) -> None:
    """Raise 403 unless the scopes hold one of ``alternatives`` (each a set of scopes)."""
    alts = list(alternatives)
    if any(alt <= client_scopes for alt in alts):
        return
    wanted = " or ".join("+".join(sorted(a)) for a in alts)
    raise DssError(403, f"the access token lacks the scope this operation needs: {wanted}")
