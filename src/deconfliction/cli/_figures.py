"""``deconfliction figures [--since T] [--until T] [--all] [--json]``: how well notice is
given and answered, per party pair (``GET /v1/figures``).

``--since`` / ``--until`` take an ISO 8601 time with a timezone (``2026-12-01T00:00Z``) or
a duration back from now (``7d``, ``12h``, ``1h30m``).

>>> parse_when("2026-12-01T10:00Z", "--since").isoformat()
'2026-12-01T10:00:00+00:00'
>>> parse_when("2026-12-01T10:00", "--since")
Traceback (most recent call last):
...
deconfliction.cli._errors.UsageError: --since: 2026-12-01T10:00 has no timezone: a naive time is ambiguous (add Z or +01:00)
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from deconfliction.cli._client import HubClient
from deconfliction.cli._errors import UsageError
from deconfliction.cli._files import parse_duration
from deconfliction.cli._output import fmt_duration, fmt_time, print_json, table

__all__ = ["add_figures_parser", "parse_when", "render_figures"]


def parse_when(text: str, flag: str) -> datetime:
    """An aware time: ISO 8601 with a timezone, or a duration back from now."""
    text = text.strip()
    if text and text[0].isdigit() and not any(c in text for c in "-:T"):
        return datetime.now(UTC) - timedelta(seconds=parse_duration(text))
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{flag}: {text!r} is neither an ISO 8601 time (2026-12-01T10:00:00Z) nor a "
            "duration back from now (7d, 12h)"
        ) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise UsageError(
            f"{flag}: {text} has no timezone: a naive time is ambiguous (add Z or +01:00)"
        )
    return at


def _share(part: int, whole: int, share: float | None) -> str:
    return "-" if share is None else f"{part}/{whole} ({share:.0%})"


def _secs(value: float | None) -> str:
    return "-" if value is None else fmt_duration(value)


def _row(p: Mapping[str, Any], everyone: bool) -> list[Any]:
    who = (
        [p["from"]["name"], p["to"]["name"]]
        if everyone
        else [p["counterpart"]["name"], "I sent" if p["direction"] == "sent" else "I received"]
    )
    return [
        *who,
        p["notices"],
        _secs(p["median_lead_time_s"]),
        _share(p["late"], p["answer_expected"], p["late_share"]),
        _share(p["insufficient"], p["notices"], p["insufficient_share"]),
        _secs(p["median_time_to_ack_s"]),
        p["unanswered"],
        _share(p["expired"], p["answer_expected"], p["expired_share"]),
    ]


def cmd_figures(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    since = None if args.since is None else parse_when(args.since, "--since")
    until = None if args.until is None else parse_when(args.until, "--until")
    if since is not None and until is not None and since >= until:
        raise UsageError(f"--since {args.since} is not before --until {args.until}")
    doc = hub.get(
        "/v1/figures",
        since=None if since is None else since.isoformat(),
        until=None if until is None else until.isoformat(),
        all="true" if args.all else None,
    )
    if args.json:
        print_json(doc, out)
    else:
        render_figures(doc, out)
    return 0


def render_figures(doc: Mapping[str, Any], out: TextIO) -> None:
    """The figures of ``GET /v1/figures`` as a table, for people."""
    whose = "every pair of the hub" if doc["all"] else doc["party"]["name"]
    span = f"{fmt_time(doc['since']) if doc['since'] else 'the start'} to "
    span += fmt_time(doc["until"]) if doc["until"] else "now"
    print(f"figures for {whose}: notices sent from {span}", file=out)
    if not doc["pairs"]:
        print("no notices between parties in this period", file=out)
        return
    head = ["FROM", "TO"] if doc["all"] else ["COUNTERPART", "DIRECTION"]
    print(
        table(
            [
                *head,
                "NOTICES",
                "MEDIAN LEAD",
                "LATE",
                "INSUFFICIENT",
                "MEDIAN ACK",
                "UNANSWERED",
                "EXPIRED",
            ],
            [_row(p, doc["all"]) for p in doc["pairs"]],
        ),
        file=out,
    )
    print(
        "LATE and EXPIRED: of the notices that call for an answer; INSUFFICIENT: of all; "
        "MEDIAN ACK: sending to answer; UNANSWERED: still waiting now",
        file=out,
    )


def add_figures_parser(
    sub: argparse._SubParsersAction[Any], common: argparse.ArgumentParser
) -> None:
    f = sub.add_parser(
        "figures",
        parents=[common],
        help="notice figures per party pair: lead time, late, insufficient, answers",
    )
    f.add_argument("--since", metavar="TIME", help="notices sent at or after (ISO 8601 or 7d)")
    f.add_argument("--until", metavar="TIME", help="notices sent before (ISO 8601 or 12h)")
    f.add_argument("--all", action="store_true", help="every pair of the hub (admin token)")
    f.set_defaults(client_cmd=cmd_figures)
