"""The ``deconfliction`` command.

``deconfliction check FILE`` loads a GeoJSON FeatureCollection of declared volumes and
prints every conflict between different owners. Each Feature is one volume (see
:mod:`deconfliction.geo` for the volume properties) and also carries:

``id``
    the activity or site it belongs to (several Features may share one id);
``owner``
    the party declaring it;
``kind``
    ``"activity"`` (default) or ``"protected_site"``;
``buffer_m``
    for protected sites, the distance others must keep clear (default 0);
``title``
    optional, for display.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from deconfliction import __version__
from deconfliction.cli._check import run_check
from deconfliction.errors import DeconflictionError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="deconfliction",
        description="Deconfliction Hotline: it notifies, it never approves.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="list the conflicts between the volumes of a GeoJSON file")
    c.add_argument(
        "file", type=Path, help="GeoJSON FeatureCollection (see `--help` of the package)"
    )
    c.add_argument(
        "--horizontal-m",
        type=float,
        default=9_260.0,
        help="horizontal buffer, metres (default 5 NM)",
    )
    c.add_argument(
        "--vertical-m", type=float, default=305.0, help="vertical buffer, metres (default 1,000 ft)"
    )
    c.add_argument(
        "--time-s", type=float, default=300.0, help="time buffer, seconds (default 5 min)"
    )
    c.add_argument("--json", action="store_true", help="print the conflicts as JSON lines")
    c.add_argument("--quiet", action="store_true", help="no progress on standard error")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code: 0 done (conflicts are output, not errors), 2 bad input."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return run_check(
                args.file,
                horizontal_m=args.horizontal_m,
                vertical_m=args.vertical_m,
                time_s=args.time_s,
                as_json=args.json,
                progress=None if args.quiet else sys.stderr,
                out=sys.stdout,
            )
    except DeconflictionError as exc:
        print(f"deconfliction: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"deconfliction: error: {exc.filename or args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"deconfliction: error: {args.file}: not JSON: {exc}", file=sys.stderr)
        return 2
    return 2  # pragma: no cover - argparse enforces a command
