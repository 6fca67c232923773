"""``deconfliction ledger verify|export|key``: the hub's ledger, offline (no server needed).

``ledger verify`` checks the stored ledger — the chain, every hash, the hub's and the
parties' signatures, the head row — with the hub key of the data directory; ``ledger
verify --bundle FILE`` checks an exported bundle with the hub key it names (or the one
given with ``--key``, which must match), with ``--jobs`` processes (default: one per CPU;
the verdict is the same for any number). ``ledger export`` writes a bundle (see
:mod:`deconfliction.audit`), ``ledger key`` prints the hub's public key for the parties.

The store and the data directory are found as ``serve`` finds them: ``--config``, then
``DECONFLICTION_*``, then ``--data-dir``/``--database-url``. Nothing here creates a key,
a database or a directory, nor migrates a schema: these commands only read.

Exit codes: 0 verified (or done), 1 the ledger or the bundle failed verification (one
line naming the first bad entry), 2 usage or input error, 3 the database could not be
opened.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TextIO
from uuid import UUID

import sqlalchemy as sa

from deconfliction.api import Settings, load_settings
from deconfliction.audit import (
    BundleReport,
    BundleSummary,
    HubKey,
    Ledger,
    Progress,
    PublicKey,
    VerifyResult,
    verify_bundle,
    verify_rows,
)
from deconfliction.cli._errors import EXIT_REFUSED, CliError, Unreachable, UsageError
from deconfliction.cli._files import atomic_file, check_out_path
from deconfliction.errors import InvalidInput
from deconfliction.store import (
    LedgerRow,
    SqlStore,
    SqlTransaction,
    ledger_head_row,
    ledger_rows,
    open_store,
)

__all__ = ["EXIT_FAILED", "VerificationFailed", "add_ledger_parser"]

EXIT_FAILED = EXIT_REFUSED
"""Exit code when the ledger or a bundle fails verification."""

KEY_FILE = "ledger-key.pem"
"""The hub key's file in the data directory (as :meth:`deconfliction.audit.HubKey.load_or_create`
names it; a test keeps the two equal)."""

Signatures = Literal["all", "last"]
"""Which hub signatures ``--signatures`` checks (as :class:`deconfliction.audit.Verifier`)."""

PROGRESS_MIN = 10_000
"""Ledgers with at least this many entries show a progress bar on standard error."""

PROGRESS_MIN_BYTES = 8 << 20
"""Bundles of at least this many bytes (some 11,000 entries) show a progress bar."""


class VerificationFailed(CliError):
    """The ledger or the bundle did not verify: the message names the first bad entry."""

    exit_code = EXIT_FAILED


# -- where the hub's data is -----------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Settings:
    """As ``serve`` reads them: ``--config``, then ``DECONFLICTION_*``, then the flags."""
    database_url = getattr(args, "database_url", None)
    return load_settings(args.config, data_dir=args.data_dir, database_url=database_url)


def _data_dir(settings: Settings) -> Path:
    data_dir = settings.data_dir.expanduser()
    if not data_dir.is_dir():
        raise UsageError(
            f"the data directory {data_dir} does not exist (give the hub's --data-dir)"
        )
    return data_dir


def _hub_key(data_dir: Path) -> HubKey:
    """The hub's key from the data directory; never created here."""
    path = data_dir / KEY_FILE
    if not path.exists():
        raise UsageError(f"no hub key {path}: is {data_dir} the hub's data directory?")
    return HubKey.load(path)


def _safe_url(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "the --database-url given"


@contextlib.contextmanager
def _store(settings: Settings) -> Iterator[SqlStore]:
    """The existing store (an SQLite file must exist; the schema must be at the head)."""
    url = settings.effective_database_url()
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise UsageError(f"--database-url: not a database URL: {url!r}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_file():
            raise UsageError(f"no database {path}: is this the hub's data directory?")
    try:
        store = open_store(url, migrate=False)
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise Unreachable(f"cannot open the database {_safe_url(url)}: {reason}") from None
    try:
        yield store
    finally:
        store.close()


# -- verify ----------------------------------------------------------------------------------


def _counted(rows: Iterable[LedgerRow], bar: Any) -> Iterator[LedgerRow]:
    for row in rows:
        yield row
        bar.update()


def _verify_store(
    tx: SqlTransaction, ledger: Ledger, signatures: Signatures, progress: TextIO | None
) -> VerifyResult:
    head = ledger_head_row(tx)
    rows: Iterable[LedgerRow] = ledger_rows(tx)
    bar: Any = None
    if progress is not None and head[0] >= PROGRESS_MIN:
        from tqdm import tqdm

        bar = tqdm(total=head[0], desc="verifying", unit="entry", file=progress, mininterval=0.5)
        rows = _counted(rows, bar)
    try:
        return verify_rows(
            rows,
            ledger.public_key,
            party_keys=ledger.party_keys(tx),
            head=head,
            signatures=signatures,
        )
    finally:
        if bar is not None:
            bar.close()


def _ok_line(what: str, result: VerifyResult) -> str:
    if result.last_seq is None or result.head is None:
        return f"{what} OK: 0 entries"
    return (
        f"{what} OK: {result.count} entries, head seq {result.last_seq} hash {result.head.hex()} "
        f"({result.hub_signatures} hub and {result.party_signatures} party signatures checked)"
    )


def _read_key(text: str) -> PublicKey:
    path = Path(text).expanduser()
    if path.is_file():
        try:
            return PublicKey.from_text(path.read_text(encoding="ascii"), "--key")
        except UnicodeDecodeError:
            raise UsageError(f"--key: {path} is not a PEM or base64 public key") from None
    try:
        return PublicKey.from_text(text, "--key")
    except InvalidInput:
        raise UsageError(
            "--key: neither a readable file nor an Ed25519 public key (base64 or PEM)"
        ) from None


def _bundle_line(report: BundleReport) -> str:
    result = report.result
    line = _ok_line("bundle", result)
    if result.first_seq is not None:
        view = "the hub's view" if report.party is None else f"party {report.party}'s view"
        line += (
            f", seqs {result.first_seq}..{result.last_seq} ({result.full} full, "
            f"{result.redacted} redacted; {view})"
        )
    assert report.hub_key is not None
    if report.key_from_bundle:
        return line + (
            f"; hub key {report.hub_key.key_id} named by the bundle: compare it with the "
            "hub's published key (deconfliction ledger key)"
        )
    return line + f"; hub key {report.hub_key.key_id} as given"


@contextlib.contextmanager
def _bundle_progress(path: Path, progress: TextIO | None) -> Iterator[Progress | None]:
    """A callback drawing a progress bar (bytes verified) for a large bundle, else None."""
    if progress is None or path.stat().st_size < PROGRESS_MIN_BYTES:
        yield None
        return
    from tqdm import tqdm

    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:  # made on the first call: after the worker processes have started
            bar = tqdm(
                total=total,
                desc="verifying",
                unit="B",
                unit_scale=True,
                file=progress,
                mininterval=0.5,
            )
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


def cmd_verify(args: argparse.Namespace, out: TextIO) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs: give at least 1 process")
    if args.bundle is not None:
        if args.data_dir is not None or args.database_url is not None:
            raise UsageError(
                "--bundle is verified offline: give the hub's key with --key, "
                "not --data-dir/--database-url"
            )
        key = None if args.key is None else _read_key(args.key)
        jobs = args.jobs or os.cpu_count() or 1
        with _bundle_progress(args.bundle, None if args.quiet else sys.stderr) as update:
            report = verify_bundle(
                args.bundle, key, signatures=args.signatures, jobs=jobs, progress=update
            )
        if not report.ok:
            raise VerificationFailed(f"bundle {args.bundle} {report.result.summary()}")
        print(_bundle_line(report), file=out)
        return 0
    if args.key is not None:
        raise UsageError("--key is for --bundle: the stored ledger uses the data directory's key")
    if args.jobs is not None:
        raise UsageError("--jobs is for --bundle: the stored ledger is read in one process")
    settings = _settings(args)
    ledger = Ledger(_hub_key(_data_dir(settings)))
    progress = None if args.quiet else sys.stderr
    with _store(settings) as store, store.read() as tx:
        result = _verify_store(tx, ledger, args.signatures, progress)
    if not result.ok:
        raise VerificationFailed(f"ledger {result.summary()}")
    print(_ok_line("ledger", result), file=out)
    return 0


# -- export ----------------------------------------------------------------------------------


def parse_bound(text: str, flag: str) -> int | datetime:
    """``--from``/``--to``: a seq (a positive integer) or an ISO 8601 time with a timezone.

    >>> parse_bound("42", "--from")
    42
    >>> parse_bound("2026-12-01T10:00Z", "--to").isoformat()
    '2026-12-01T10:00:00+00:00'
    >>> parse_bound("2026-12-01T10:00", "--to")
    Traceback (most recent call last):
    ...
    deconfliction.cli._errors.UsageError: --to: 2026-12-01T10:00 has no timezone: a naive time is ambiguous (add Z or +01:00)
    """
    text = text.strip()
    if text.isdigit():
        seq = int(text)
        if seq < 1:
            raise UsageError(f"{flag}: seqs start at 1")
        return seq
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{flag}: {text!r} is neither a seq nor an ISO 8601 time (2026-12-01T10:00:00Z)"
        ) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise UsageError(
            f"{flag}: {text} has no timezone: a naive time is ambiguous (add Z or +01:00)"
        )
    return at


def _after(from_: int | datetime | None, to: int | datetime | None) -> bool:
    if isinstance(from_, int) and isinstance(to, int):
        return from_ > to
    if isinstance(from_, datetime) and isinstance(to, datetime):
        return from_ > to
    return False


def _party(tx: SqlTransaction, text: str) -> UUID:
    """A party id, or a party's exact name, that the store knows."""
    try:
        party_id = UUID(text)
    except ValueError:
        named = [p for p in tx.list_parties() if p.name == text]
        if len(named) == 1:
            return named[0].id
        what = "several parties are" if named else "no party is"
        raise UsageError(f"--party: {what} named {text!r} (give the party's id)") from None
    if tx.get_party(party_id) is None:
        raise UsageError(f"--party: no party {party_id} in the store")
    return party_id


def _export_line(summary: BundleSummary, party: UUID | None, path: Path) -> str:
    view = "the hub's view, all in full" if party is None else f"party {party}'s view"
    if summary.first_seq is None:
        return f"exported 0 entries (none in the range; {view}) to {path}"
    return (
        f"exported {summary.count} entries, seqs {summary.first_seq}..{summary.last_seq} "
        f"({summary.full} full, {summary.count - summary.full} redacted; {view}) to {path}"
    )


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    from_ = None if args.from_ is None else parse_bound(args.from_, "--from")
    to = None if args.to is None else parse_bound(args.to, "--to")
    if _after(from_, to):
        raise UsageError(f"--from {args.from_} is after --to {args.to}")
    path: Path = args.out
    check_out_path(path)
    settings = _settings(args)
    ledger = Ledger(_hub_key(_data_dir(settings)))
    with _store(settings) as store, store.read() as tx:
        party = None if args.party is None else _party(tx, args.party)
        with atomic_file(path) as f:
            summary = ledger.export(tx, f, party=party, from_=from_, to=to)
    print(_export_line(summary, party, path), file=out)
    return 0


# -- key -------------------------------------------------------------------------------------


def cmd_key(args: argparse.Namespace, out: TextIO) -> int:
    key = _hub_key(_data_dir(_settings(args))).public_key
    print(f"hub key id: {key.key_id}", file=out)
    print(f"base64: {key.b64}", file=out)
    out.write(key.pem if key.pem.endswith("\n") else key.pem + "\n")
    return 0


# -- the parser ------------------------------------------------------------------------------


def _where(p: argparse.ArgumentParser, *, database: bool = True) -> None:
    p.add_argument("--config", type=Path, help="settings TOML file (keys as in the README)")
    p.add_argument(
        "--data-dir", type=Path, help="the hub's data directory, with its key (default ./data)"
    )
    if database:
        p.add_argument(
            "--database-url", help="SQLAlchemy URL (default sqlite:///<data-dir>/hotline.db)"
        )


def add_ledger_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """``ledger verify``, ``ledger export`` and ``ledger key`` (local: no hub needed)."""
    led = sub.add_parser("ledger", help="verify or export the signed ledger, offline")
    lsub = led.add_subparsers(dest="ledger_command", required=True, metavar="COMMAND")

    v = lsub.add_parser(
        "verify",
        help="verify the stored ledger (or a bundle with --bundle); exit 1 if it fails",
    )
    _where(v)
    v.add_argument("--bundle", type=Path, help="verify this exported bundle instead, offline")
    v.add_argument(
        "--key",
        help="with --bundle: the hub's public key (a file, base64 or PEM); "
        "default: the key the bundle names",
    )
    v.add_argument(
        "--signatures",
        choices=["all", "last"],
        default="all",
        help="hub signatures to check: every entry's (default) or the last one's, which "
        "authenticates the rest through the chain and is much faster",
    )
    v.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="with --bundle: processes verifying it in chunks (default: one per CPU); "
        "the verdict and the first bad entry named are the same for any N",
    )
    v.add_argument("--quiet", action="store_true", help="no progress bar on standard error")
    v.set_defaults(local_cmd=cmd_verify)

    e = lsub.add_parser("export", help="write a self-contained bundle that verifies offline")
    _where(e)
    e.add_argument("--out", type=Path, required=True, help="the bundle file to write")
    e.add_argument(
        "--party", help="a party's view (id or name): its entries in full, others redacted"
    )
    e.add_argument(
        "--from",
        dest="from_",
        metavar="SEQ_OR_TIME",
        help="first entry: a seq, or an ISO 8601 hub time with a timezone (inclusive)",
    )
    e.add_argument(
        "--to",
        metavar="SEQ_OR_TIME",
        help="last entry: a seq, or an ISO 8601 hub time with a timezone (inclusive)",
    )
    e.set_defaults(local_cmd=cmd_export)

    k = lsub.add_parser("key", help="print the hub's public key (base64 and PEM)")
    _where(k, database=False)
    k.set_defaults(local_cmd=cmd_key)
