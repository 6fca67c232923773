"""``deconfliction assets report|list`` and ``message send|thread``: what time-to-clear
uses, and the hotline's messages."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from deconfliction.cli._client import HubClient
from deconfliction.cli._errors import UsageError
from deconfliction.cli._output import fmt_time, print_json, table
from deconfliction.model import MessageTemplate

__all__ = ["add_assets_parsers"]


def cmd_assets_report(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    report: dict[str, Any] = {
        "ref": args.ref,
        "lon": args.lon,
        "lat": args.lat,
        "max_speed_kt": args.max_speed_kt,
    }
    if args.name:
        report["name"] = args.name
    if args.altitude_ft is not None:
        report["altitude_ft"] = args.altitude_ft
    if args.speed_kt is not None:
        report["speed_kt"] = args.speed_kt
    (a,) = hub.post("/v1/assets", {"assets": [report]})
    if args.json:
        print_json(a, out)
    else:
        print(
            f"asset {a['ref']} ({a['id']}) at {a['lon']}, {a['lat']} reported {fmt_time(a['reported_at'])}",
            file=out,
        )
    return 0


def cmd_assets_list(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    rows = hub.get("/v1/assets")
    if args.json:
        print_json(rows, out)
        return 0
    print(
        table(
            ["REF", "NAME", "LON", "LAT", "ALT M", "MAX KT", "REPORTED"],
            [
                [
                    a["ref"],
                    a["name"],
                    f"{a['lon']:.5f}",
                    f"{a['lat']:.5f}",
                    "" if a["altitude_m"] is None else f"{a['altitude_m']:.0f}",
                    f"{a['max_speed_mps'] * 3600 / 1852:.0f}",
                    fmt_time(a["reported_at"]),
                ]
                for a in rows
            ],
        ),
        file=out,
    )
    return 0


def _thread_path(args: argparse.Namespace) -> str:
    if (args.activity is None) == (args.conflict is None):
        raise UsageError("give --activity ID or --conflict ID (one of them)")
    if args.activity is not None:
        return f"/v1/activities/{args.activity}/messages"
    return f"/v1/conflicts/{args.conflict}/messages"


def cmd_message_send(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    body: dict[str, Any] = {"template": args.template, "text": args.text or ""}
    if args.to:
        body["to"] = hub.party_id(args.to)
    m = hub.post(_thread_path(args), body)
    if args.json:
        print_json(m, out)
    else:
        print(f"message {m['id']} sent: {m['summary']}", file=out)
        print(
            f"answer due by {fmt_time(m['deadline'])}; ledger receipt seq {(m['receipt'] or {}).get('seq')}",
            file=out,
        )
    return 0


def cmd_message_thread(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    rows = hub.get(_thread_path(args))
    if args.json:
        print_json(rows, out)
        return 0
    print(
        table(
            ["ID", "SENT", "TEMPLATE", "STATUS", "SUMMARY"],
            [
                [m["id"], fmt_time(m["sent_at"]), m["template"], m["status"], m["summary"]]
                for m in rows
            ],
        ),
        file=out,
    )
    return 0


def add_assets_parsers(
    sub: argparse._SubParsersAction[Any], common: argparse.ArgumentParser
) -> None:
    a = sub.add_parser("assets", help="report and list my assets (for time-to-clear)")
    asub = a.add_subparsers(dest="assets_cmd", required=True, metavar="COMMAND")
    r = asub.add_parser("report", parents=[common], help="report one asset's position now")
    r.add_argument("ref", help="my name for the asset (e.g. a callsign)")
    r.add_argument("lon", type=float)
    r.add_argument("lat", type=float)
    r.add_argument("--max-speed-kt", type=float, required=True, help="its best speed, knots")
    r.add_argument("--speed-kt", type=float, help="its speed now, knots")
    r.add_argument("--altitude-ft", type=float, help="above mean sea level, feet")
    r.add_argument("--name", help="a description")
    r.set_defaults(client_cmd=cmd_assets_report)
    ls = asub.add_parser("list", parents=[common], help="my assets as last reported")
    ls.set_defaults(client_cmd=cmd_assets_list)

    m = sub.add_parser("message", help="hotline messages on an activity's or conflict's thread")
    msub = m.add_subparsers(dest="message_cmd", required=True, metavar="COMMAND")
    s = msub.add_parser("send", parents=[common], help="send a message (answered like a notice)")
    s.add_argument("text", nargs="?", default="", help="what to say")
    s.add_argument(
        "--template",
        choices=[t.value for t in MessageTemplate],
        default=MessageTemplate.FREE_TEXT.value,
    )
    s.add_argument("--to", metavar="PARTY", help="the party (id or name) when several are on it")
    for q in (s,):
        q.add_argument("--activity", metavar="ID")
        q.add_argument("--conflict", metavar="ID")
    s.set_defaults(client_cmd=cmd_message_send)
    t = msub.add_parser("thread", parents=[common], help="the messages I sent or received")
    t.add_argument("--activity", metavar="ID")
    t.add_argument("--conflict", metavar="ID")
    t.set_defaults(client_cmd=cmd_message_thread)
