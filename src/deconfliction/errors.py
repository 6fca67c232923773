"""The project's one exception tree.

Every error the package raises on purpose derives from :class:`DeconflictionError`, so
callers (and the API's problem-details mapper, in one place) can catch it there. Each
class says which HTTP status it maps to in ``status``.

>>> try:
...     raise InvalidVolume("altitude.lower_m", "must be below altitude.upper_m")
... except DeconflictionError as exc:
...     print(exc.field, "-", exc.reason, "-", exc.status)
altitude.lower_m - must be below altitude.upper_m - 422
"""

from __future__ import annotations

__all__ = [
    "DeconflictionError",
    "InvalidInput",
    "InvalidVolume",
    "InvalidGeoJSON",
    "InvalidPolicy",
    "NotFound",
    "Unauthorized",
    "Forbidden",
    "VersionConflict",
    "PreconditionRequired",
    "InvalidTransition",
    "IdempotencyConflict",
    "TooManyRequests",
    "InvalidSignature",
    "LedgerError",
]


class DeconflictionError(Exception):
    """Root of every error raised by the deconfliction package."""

    status: int = 400
    """The HTTP status the API answers with."""
    title: str = "Bad request"
    """A short, fixed summary of the error class (RFC 9457 ``title``)."""


class InvalidInput(DeconflictionError, ValueError):
    """An input field is invalid.

    ``field`` names the offending field as a dotted path (``"footprint.vertices[3]"``),
    ``reason`` says what is wrong with it in plain words.
    """

    status = 422
    title = "Invalid input"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidVolume(InvalidInput):
    """A footprint, altitude band, time window or 4D volume is invalid."""

    title = "Invalid volume"


class InvalidGeoJSON(InvalidVolume):
    """A GeoJSON document could not be turned into volumes (its ``field`` is a JSON path)."""

    title = "Invalid GeoJSON"


class InvalidPolicy(InvalidInput):
    """The policy file is invalid (``field`` is the TOML key path)."""

    title = "Invalid policy"


class NotFound(DeconflictionError, LookupError):
    """No such object — or one the caller may not know exists (need-to-know)."""

    status = 404
    title = "Not found"

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident} not found")
        self.what = what
        self.ident = ident


class Unauthorized(DeconflictionError):
    """No valid credentials were presented."""

    status = 401
    title = "Unauthorized"


class Forbidden(DeconflictionError):
    """The caller is known but its role does not allow this."""

    status = 403
    title = "Forbidden"


class VersionConflict(DeconflictionError):
    """A write stated a version that is not the current one (optimistic concurrency)."""

    status = 409
    title = "Version conflict"

    def __init__(self, what: str, ident: object, stated: int, current: int) -> None:
        super().__init__(
            f"{what} {ident} is at version {current}, the request stated version {stated}"
        )
        self.stated = stated
        self.current = current


class PreconditionRequired(DeconflictionError):
    """A write to an existing object did not state the version it saw (If-Match)."""

    status = 428
    title = "Precondition required"


class InvalidTransition(DeconflictionError):
    """The object's state does not allow this operation (e.g. activating an ended activity)."""

    status = 409
    title = "Invalid state transition"


class IdempotencyConflict(DeconflictionError):
    """An Idempotency-Key was reused with a different request."""

    status = 409
    title = "Idempotency key reused"


class TooManyRequests(DeconflictionError):
    """The caller's party is over its request rate; retry after ``retry_after_s`` seconds."""

    status = 429
    title = "Too many requests"

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class InvalidSignature(InvalidInput):
    """A detached Ed25519 signature does not verify (or names no registered key).

    ``field`` names the signature field, ``reason`` says why it was refused.
    """

    title = "Invalid signature"


class LedgerError(DeconflictionError):
    """The ledger cannot work as configured: an unreadable or exposed hub key file, a
    malformed ledger bundle, a ledger table without its head row."""

    status = 500
    title = "Ledger error"
