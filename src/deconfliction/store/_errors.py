"""Errors raised by the store (part of the one tree rooted at ``DeconflictionError``)."""

from __future__ import annotations

from deconfliction.errors import DeconflictionError

__all__ = ["IntegrityViolation", "StoreError"]


class StoreError(DeconflictionError):
    """The store cannot do what was asked (schema out of date, transaction misuse…).

    These are faults of the deployment or of the calling code, not of a client's request.
    """

    status = 500
    title = "Storage error"


class IntegrityViolation(StoreError):
    """A write broke a database constraint: a duplicate id or key, or an unknown reference.

    The original driver error is chained as ``__cause__``; the transaction is aborted.
    """

    status = 409
    title = "Conflicting write"
