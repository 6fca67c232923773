"""``deconfliction report activity ID --out report.html``: one self-contained HTML file.

The page is :func:`deconfliction.web.report_html` of the hub's
``GET /v1/activities/{id}/timeline`` (the console offers the same page for download). The
file is written to a temporary file beside ``--out`` and renamed, so a failed run leaves
nothing half-written.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from deconfliction.cli._client import HubClient
from deconfliction.cli._files import atomic_file, check_out_path
from deconfliction.cli._output import print_json
from deconfliction.web import report_html

__all__ = ["add_report_parser"]


def cmd_report_activity(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    path: Path = args.out
    check_out_path(path)
    doc = hub.get(f"/v1/activities/{args.id}/timeline")
    page = report_html(doc, source=f"from {hub.config.url}")
    with atomic_file(path, "w") as f:
        f.write(page)
    if args.json:
        print_json(
            {
                "out": str(path),
                "activity": doc["activity"]["id"],
                "notices": len(doc["notices"]),
                "events": len(doc["events"]),
                "bytes": len(page.encode()),
            },
            out,
        )
    else:
        print(
            f"wrote {path}: '{doc['activity']['title']}', {len(doc['notices'])} notice(s), "
            f"{len(doc['events'])} event(s)",
            file=out,
        )
    return 0


def add_report_parser(
    sub: argparse._SubParsersAction[Any], common: argparse.ArgumentParser
) -> None:
    """``report`` and its subcommands (each sets ``args.client_cmd``)."""
    p = sub.add_parser("report", help="write a self-contained HTML report (talks to the hub)")
    rsub = p.add_subparsers(dest="report_command", required=True, metavar="WHAT")
    a = rsub.add_parser(
        "activity",
        parents=[common],
        help="one of my activities: notices, flags, timeline chart, map, every step",
    )
    a.add_argument("id", help="the activity's id (it must be mine)")
    a.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    a.set_defaults(client_cmd=cmd_report_activity)
