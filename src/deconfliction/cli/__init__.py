"""The ``deconfliction`` command.

Local commands: ``serve`` (run the hub), ``admin init`` (the first admin token, on an empty
store), ``policy show``, ``demo`` (a hub with a scenario over northern France) and ``check``.
Client commands talk to a hub over HTTP: ``admin party|token``, ``activity``, ``site``,
``notices``, ``stream``, ``whoami``, ``report activity`` (a self-contained HTML report) and
``figures``. The hub's URL and the token come from ``--url/--token``,
else ``DECONFLICTION_URL/DECONFLICTION_TOKEN``, else ``~/.config/deconfliction/client.toml``
(see :mod:`deconfliction.cli._client`). Tables by default, ``--json`` for machines.

Every error is one line on standard error and an exit code: 1 the hub refused, 2 usage or
input error, 3 the hub could not be reached.

``deconfliction check FILE`` loads a GeoJSON FeatureCollection of declared volumes and
prints every conflict between different owners, locally. Each Feature is one volume (see
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
from typing import NoReturn

from pydantic import ValidationError

from deconfliction import __version__
from deconfliction.cli._activity import add_activity_parser
from deconfliction.cli._admin import add_admin_parser
from deconfliction.cli._assets import add_assets_parsers
from deconfliction.cli._check import run_check
from deconfliction.cli._client import HubClient, resolve_config
from deconfliction.cli._demo import add_demo_parser
from deconfliction.cli._errors import EXIT_USAGE, CliError
from deconfliction.cli._figures import add_figures_parser
from deconfliction.cli._inbox import add_inbox_parsers
from deconfliction.cli._ledger import add_ledger_parser
from deconfliction.cli._report import add_report_parser
from deconfliction.cli._serve import add_serve_parser
from deconfliction.cli._sites import add_site_parser
from deconfliction.errors import DeconflictionError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (``prog: error: ...``), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _common() -> argparse.ArgumentParser:
    c = _Parser(add_help=False)
    g = c.add_argument_group("hub connection")
    g.add_argument(
        "--url", help="the hub (default: $DECONFLICTION_URL, client.toml, http://127.0.0.1:8000)"
    )
    g.add_argument("--token", help="API token (default: $DECONFLICTION_TOKEN, then client.toml)")
    g.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    return c


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="deconfliction",
        description="Deconfliction Hotline: it notifies, it never approves.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common()
    add_serve_parser(sub)
    add_admin_parser(sub, common)
    add_activity_parser(sub, common)
    add_site_parser(sub, common)
    add_inbox_parsers(sub, common)
    add_assets_parsers(sub, common)
    add_report_parser(sub, common)
    add_figures_parser(sub, common)
    add_demo_parser(sub)
    add_ledger_parser(sub)
    c = sub.add_parser(
        "check", help="list the conflicts between the volumes of a GeoJSON file (local)"
    )
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


def _validation_line(exc: ValidationError) -> str:
    e = exc.errors()[0]
    field = ".".join(str(x) for x in e.get("loc", ())) or "settings"
    return f"setting {field}: {e.get('msg', 'invalid')}"


def _dispatch(args: argparse.Namespace) -> int:
    out = sys.stdout
    if args.command == "check":
        return run_check(
            args.file,
            horizontal_m=args.horizontal_m,
            vertical_m=args.vertical_m,
            time_s=args.time_s,
            as_json=args.json,
            progress=None if args.quiet else sys.stderr,
            out=out,
        )
    if hasattr(args, "client_cmd"):
        config = resolve_config(url=args.url, token=args.token)
        with HubClient(config, timeout=args.timeout) as hub:
            code: int = args.client_cmd(args, hub, out)
            return code
    code = args.local_cmd(args, out)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code: 0 done (conflicts are output, not errors),
    1 the hub refused, 2 usage or input error, 3 the hub could not be reached."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return _dispatch(args)
    except CliError as exc:
        print(f"deconfliction: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except DeconflictionError as exc:
        print(f"deconfliction: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as exc:
        print(f"deconfliction: error: {_validation_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        name = exc.filename or getattr(args, "file", "")
        print(f"deconfliction: error: {name}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except json.JSONDecodeError as exc:
        print(f"deconfliction: error: {args.file}: not JSON: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UnicodeDecodeError as exc:  # a file read as UTF-8 that is not (e.g. Latin-1)
        name = getattr(args, "file", None) or "a file"
        print(
            f"deconfliction: error: {name}: not UTF-8 text ({exc.reason} at byte {exc.start})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
