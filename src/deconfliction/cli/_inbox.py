"""``deconfliction notices``, ``stream`` and ``whoami``: what concerns my party."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any, TextIO

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import connect

from deconfliction.cli._client import HubClient
from deconfliction.cli._errors import Refused, Unreachable, UsageError
from deconfliction.cli._output import fmt_duration, fmt_time, print_json, table

__all__ = ["add_inbox_parsers", "event_line"]


def cmd_notices(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    rows = hub.get("/v1/notices", activity_id=args.activity, limit=args.limit)
    if args.json:
        print_json(rows, out)
        return 0
    print(
        table(
            ["ID", "SENT", "REASON", "LEAD TIME", "REQUIRED", "LATE", "STATUS", "SUMMARY"],
            [
                [
                    n["id"],
                    fmt_time(n["sent_at"]),
                    n["reason"],
                    fmt_duration(float(n["lead_time_s"])),
                    fmt_duration(float(n["required_lead_time_s"])),
                    "LATE" if n["late"] else "no",
                    n["status"],
                    n["summary"],
                ]
                for n in rows
            ],
        ),
        file=out,
    )
    return 0


def _receipt_text(r: Mapping[str, Any] | None) -> str:
    if not r:
        return "no ledger receipt (the hub runs without a ledger)"
    return f"ledger receipt: seq {r['seq']}, hash {r['hash']}"


def cmd_notice_step(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    path = f"/v1/notices/{args.id}/{args.step}"
    body = {"reason": args.reason} if args.step == "object" else None
    r = hub.post(path, body)
    if args.json:
        print_json(r, out)
        return 0
    n = r["notice"]
    when = n.get("answered_at") or n.get("read_at")
    print(f"notice {n['id']}: {n['status']} at {fmt_time(when)}", file=out)
    print(_receipt_text(r.get("receipt")), file=out)
    return 0


def cmd_whoami(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    me = hub.get("/v1/me")
    if args.json:
        print_json(me, out)
    else:
        p = me["party"]
        print(
            f"{p['name']} ({p['kind']}, {p['id']}), role {me['role']}, token {me['token_id']}",
            file=out,
        )
        print(
            f"hub {hub.config.url} (url from {hub.config.url_source}, token from {hub.config.token_source})",
            file=out,
        )
    return 0


def event_line(e: Mapping[str, Any]) -> str:
    """One event of the stream, for people."""
    data = e.get("data") or {}
    text = str(e.get("type"))
    n = data.get("notice")
    if isinstance(n, Mapping):
        late = "  LATE" if n.get("late") else ""
        text += (
            f": {n.get('summary')} (lead time {fmt_duration(float(n.get('lead_time_s', 0)))}"
            f"{late}, {n.get('status')})"
        )
    elif isinstance(data.get("activity"), Mapping):
        a = data["activity"]
        text += f": {a.get('title')!r} v{a.get('version')} ({a.get('state')})"
    elif isinstance(data.get("conflict"), Mapping):
        c = data["conflict"]
        text += f": {c.get('kind')} {c.get('id')} ({c.get('status')})"
    return f"#{e.get('seq')}  {fmt_time(e.get('at'))}  {text}"


def cmd_stream(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    url = hub.config.url.replace("http", "ws", 1) + f"/v1/stream?since={args.since}"
    headers = {"Authorization": f"Bearer {hub.config.token}"} if hub.config.token else {}
    if not headers:
        hub.get("/v1/me")  # raises the usual "no token" error
    seen = 0
    try:
        with connect(url, additional_headers=headers, open_timeout=10, proxy=None) as ws:
            for raw in ws:
                msg = json.loads(raw)
                if msg.get("type") == "heartbeat" and not args.heartbeats:
                    continue
                if args.json:
                    print(json.dumps(msg, ensure_ascii=False), file=out, flush=True)
                elif msg.get("type") == "heartbeat":
                    print(
                        f"heartbeat  {fmt_time(msg.get('at'))}  last seq {msg.get('last_seq')}",
                        file=out,
                        flush=True,
                    )
                else:
                    print(event_line(msg), file=out, flush=True)
                if msg.get("type") == "heartbeat":
                    ws.send(json.dumps({"type": "heartbeat"}))  # keeps my party's link up
                if msg.get("type") not in ("heartbeat", "error") and args.confirm:
                    # shown to the duty officer: confirm receipt (the hub stamps delivery)
                    ws.send(json.dumps({"type": "delivered", "seq": msg.get("seq")}))
                if msg.get("type") != "heartbeat":
                    seen += 1
                    if args.count and seen >= args.count:
                        return 0
    except InvalidURI as exc:
        raise UsageError(f"invalid url {url!r}: {exc}") from None
    except InvalidStatus as exc:
        raise Refused(
            f"{exc.response.status_code} the hub refused the stream", exc.response.status_code
        ) from None
    except ConnectionClosed as exc:
        rcvd = exc.rcvd
        if rcvd is not None and rcvd.code == 1008:
            raise Refused(
                f"401 Unauthorized: the stream was refused ({rcvd.reason})", 401
            ) from None
        if rcvd is not None and rcvd.code in (1000, 1001):
            return 0
        raise Unreachable(f"the stream from {hub.config.url} was cut: {exc}") from None
    except (OSError, InvalidHandshake, TimeoutError) as exc:
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
        raise Unreachable(f"cannot reach {hub.config.url}: {reason}") from None
    return 0


def add_inbox_parsers(
    sub: argparse._SubParsersAction[Any],
    common: argparse.ArgumentParser,
) -> None:
    n = sub.add_parser("notices", parents=[common], help="notices sent to my party, newest first")
    n.add_argument("--activity", metavar="ID", help="only those about this activity")
    n.add_argument("--limit", type=int, default=None)
    n.set_defaults(client_cmd=cmd_notices)

    s = sub.add_parser(
        "stream", parents=[common], help="follow my party's events live (WebSocket /v1/stream)"
    )
    s.add_argument("--since", type=int, default=0, help="replay the events after this seq first")
    s.add_argument("--count", type=int, default=0, help="stop after this many events (0: never)")
    s.add_argument("--heartbeats", action="store_true", help="show heartbeats too")
    s.add_argument(
        "--no-confirm",
        dest="confirm",
        action="store_false",
        help="do not confirm receipt (by default each event shown is confirmed, which marks "
        "its notices delivered)",
    )
    s.set_defaults(client_cmd=cmd_stream)

    nt = sub.add_parser("notice", help="read, acknowledge or object to a notice sent to me")
    nsub = nt.add_subparsers(dest="notice_cmd", required=True, metavar="STEP")
    for step, text in (
        ("read", "mark it read"),
        ("acknowledge", "received and understood (never approval)"),
        ("object", "object, with a reason the activity's owner sees at once"),
    ):
        q = nsub.add_parser(step, parents=[common], help=text)
        q.add_argument("id", help="the notice id (see `deconfliction notices`)")
        if step == "object":
            q.add_argument("--reason", required=True, help="why (shown to the owner)")
        q.set_defaults(client_cmd=cmd_notice_step, step=step)

    w = sub.add_parser("whoami", parents=[common], help="which party and role my token has")
    w.set_defaults(client_cmd=cmd_whoami)
