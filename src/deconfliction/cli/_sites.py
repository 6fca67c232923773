"""``deconfliction site ...``: register and list my protected sites."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from deconfliction.cli._client import HubClient
from deconfliction.cli._errors import UsageError
from deconfliction.cli._files import parse_duration, read_json
from deconfliction.cli._output import fmt_time, print_json, table

__all__ = ["add_site_parser", "load_site_body"]


def load_site_body(
    path: Path, valid_for_s: float | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """A site body (``POST /v1/sites``) from a JSON file; ``valid_for_s`` sets its validity
    to [now − 1 h, now + valid_for_s]."""
    body = read_json(path)
    if not isinstance(body, dict) or not isinstance(body.get("footprint"), dict):
        raise UsageError(
            f"{path}: must be a site object with name, category, footprint, valid_from, valid_to"
        )
    if valid_for_s is not None:
        now = now or datetime.now(UTC)
        body = body | {
            "valid_from": (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            "valid_to": (now + timedelta(seconds=valid_for_s)).isoformat().replace("+00:00", "Z"),
        }
    return body


def cmd_site_add(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    valid_for = None if args.valid_for is None else parse_duration(args.valid_for)
    r = hub.post("/v1/sites", load_site_body(args.file, valid_for))
    if args.json:
        print_json(r, out)
        return 0
    s = r["site"]
    print(
        f"registered {s['category']} site {s['name']!r}: {s['id']} (version {s['version']})",
        file=out,
    )
    print(
        f"  valid {fmt_time(s['valid_from'])} – {fmt_time(s['valid_to'])}, buffer {s['buffer_m']:,.0f} m",
        file=out,
    )
    print(f"conflicts: {len(r['conflicts'])}; notices sent: {len(r['notices'])}", file=out)
    return 0


def cmd_site_list(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    rows = hub.get("/v1/sites")
    if args.json:
        print_json(rows, out)
        return 0
    print(
        table(
            ["ID", "NAME", "CATEGORY", "STATE", "V", "BUFFER", "VALID TO"],
            [
                [
                    s["id"],
                    s["name"],
                    s["category"],
                    s["state"],
                    s["version"],
                    f"{s['buffer_m']:,.0f} m",
                    fmt_time(s["valid_to"]),
                ]
                for s in rows
            ],
        ),
        file=out,
    )
    return 0


def add_site_parser(
    sub: argparse._SubParsersAction[Any],
    common: argparse.ArgumentParser,
) -> None:
    p = sub.add_parser("site", help="register and list my protected sites")
    ssub = p.add_subparsers(dest="site_command", required=True, metavar="COMMAND")
    add = ssub.add_parser(
        "add", parents=[common], help="register a protected site from a JSON file"
    )
    add.add_argument(
        "file", type=Path, help="a POST /v1/sites body (see examples/demo/green-hospital.json)"
    )
    add.add_argument(
        "--valid-for", metavar="DURATION", help="valid from now for this long (e.g. 365d)"
    )
    add.set_defaults(client_cmd=cmd_site_add)
    ls = ssub.add_parser("list", parents=[common], help="my protected sites")
    ls.set_defaults(client_cmd=cmd_site_list)
