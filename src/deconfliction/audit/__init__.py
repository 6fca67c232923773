"""The ledger: canonical JSON, a hash chain, Ed25519 signatures, verification and export.

Every change and every notice step is an entry, appended by :class:`Ledger` inside the
store transaction that makes the change, sealed into a SHA-256 chain and signed with the
hub's Ed25519 key (see :mod:`deconfliction.audit._chain` for the exact bytes). A party
sees its own entries in full and the others redacted to ``seq, digest, hash, hub_sig``,
which is enough to check the whole chain (:func:`verify`); :func:`export` writes a bundle
that :func:`verify_bundle` checks offline with the hub's public key alone.

>>> from datetime import datetime, timezone
>>> hub = HubKey.generate()
>>> at = datetime(2026, 12, 1, tzinfo=timezone.utc)
>>> entry = seal(Draft(at, Actor(None), "hub.started", (), {}), 1, GENESIS, hub)
>>> verify([entry], hub.public_key).ok
True
"""

from deconfliction.audit._canonical import canonical
from deconfliction.audit._chain import (
    GENESIS,
    Actor,
    Content,
    Draft,
    Entry,
    PartySignature,
    Receipt,
    Redacted,
    seal,
)
from deconfliction.audit._export import (
    BundleReport,
    BundleSummary,
    export,
    verify_bundle,
    write_bundle,
)
from deconfliction.audit._keys import HubKey, PublicKey, sign_submission, verify_submission
from deconfliction.audit._ledger import KEY_REGISTERED, KEY_REVOKED, Ledger, verify_rows
from deconfliction.audit._parallel import Progress
from deconfliction.audit._verify import Fault, Problem, Segment, Verifier, VerifyResult, verify

__all__ = [
    "Actor",
    "BundleReport",
    "BundleSummary",
    "Content",
    "Draft",
    "Entry",
    "Fault",
    "GENESIS",
    "HubKey",
    "KEY_REGISTERED",
    "KEY_REVOKED",
    "Ledger",
    "PartySignature",
    "Problem",
    "Progress",
    "PublicKey",
    "Receipt",
    "Redacted",
    "Segment",
    "Verifier",
    "VerifyResult",
    "canonical",
    "export",
    "seal",
    "sign_submission",
    "verify",
    "verify_bundle",
    "verify_rows",
    "verify_submission",
    "write_bundle",
]
