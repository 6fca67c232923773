"""``deconfliction admin ...``: the first admin token (local), parties and tokens (over HTTP)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from deconfliction.api import Settings, build_hotline
from deconfliction.bus import InProcessBus
from deconfliction.cli._client import HubClient
from deconfliction.cli._errors import Refused, UsageError
from deconfliction.cli._output import fmt_time, print_json, table
from deconfliction.cli._serve import add_store_flags, settings_from
from deconfliction.hotline import party_json
from deconfliction.model import Party, PartyKind, Role

__all__ = ["add_admin_parser", "bootstrap"]


def bootstrap(settings: Settings) -> tuple[Party, str] | None:
    """Create the hub's admin party and first admin token if the store has no party yet."""
    hotline = build_hotline(settings, InProcessBus())
    try:
        return hotline.bootstrap()
    finally:
        hotline.store.close()


def cmd_init(args: argparse.Namespace, out: TextIO) -> int:
    settings = settings_from(args)
    made = bootstrap(settings)
    if made is None:
        raise Refused(
            "the hub already has parties, so admin init did nothing: ask an admin for a "
            "token (deconfliction admin token create), or start from an empty --data-dir"
        )
    party, secret = made
    if args.json:
        print_json({"party": party_json(party), "token": secret}, out)
        return 0
    print(f"created the admin party {party.name!r} ({party.id})", file=out)
    print("admin token (shown once: store it now, the hub keeps only a hash):", file=out)
    print(f"  {secret}", file=out)
    print(f"use it:  export DECONFLICTION_TOKEN={secret}", file=out)
    return 0


def cmd_party_add(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    body = {"name": args.name, "kind": args.kind, "contact": args.contact or ""}
    if args.language:
        body["languages"] = args.language
    p = hub.post("/v1/parties", body)
    if args.json:
        print_json(p, out)
    else:
        print(f"added party {p['name']!r} ({p['kind']}): {p['id']}", file=out)
    return 0


def cmd_party_list(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    rows = hub.get("/v1/parties")
    if args.json:
        print_json(rows, out)
        return 0
    print(
        table(
            ["ID", "NAME", "KIND", "LANGUAGES", "CONTACT"],
            [[p["id"], p["name"], p["kind"], ",".join(p["languages"]), p["contact"]] for p in rows],
        ),
        file=out,
    )
    return 0


def cmd_token_create(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    party = hub.party_id(args.party)
    body = {"role": args.role, "label": args.label or "", "level": args.level}
    t = hub.post(f"/v1/parties/{party}/tokens", body)
    if args.json:
        print_json(t, out)
        return 0
    level = f" (escalation level {t['level']})" if t.get("level") else ""
    print(f"created {t['role']} token {t['id']} for party {party}{level}", file=out)
    print("secret (shown once: store it now, the hub keeps only a hash):", file=out)
    print(f"  {t['secret']}", file=out)
    return 0


def cmd_token_list(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    party = hub.party_id(args.party)
    rows = hub.get(f"/v1/parties/{party}/tokens")
    if args.json:
        print_json(rows, out)
        return 0
    print(
        table(
            ["ID", "ROLE", "PREFIX", "LABEL", "CREATED", "REVOKED"],
            [
                [
                    t["id"],
                    t["role"],
                    t["prefix"] + "…",
                    t["label"],
                    fmt_time(t["created_at"]),
                    fmt_time(t["revoked_at"]),
                ]
                for t in rows
            ],
        ),
        file=out,
    )
    return 0


def _level(text: str) -> dict[str, Any]:
    name, sep, minutes = text.rpartition("=")
    if not sep or not name.strip():
        raise UsageError(f"--level {text!r}: expected NAME=MINUTES, e.g. 'watch commander=15'")
    try:
        return {"name": name.strip(), "deadline_min": float(minutes)}
    except ValueError:
        raise UsageError(f"--level {text!r}: MINUTES must be a number") from None


def cmd_escalation(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    party = hub.party_id(args.party)
    path = f"/v1/parties/{party}/escalation"
    if args.level is None and not args.clear:
        r = hub.get(path)
    else:
        levels = [] if args.clear else [_level(x) for x in args.level]
        r = hub.put(path, {"levels": levels})
    if args.json:
        print_json(r, out)
        return 0
    print(f"party {party}: level 0 duty desk", file=out)
    for i, lv in enumerate(r["levels"], start=1):
        print(f"  level {i} {lv['name']} ({lv['deadline_min']:g} min to answer)", file=out)
    return 0


def cmd_token_revoke(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    t = hub.delete(f"/v1/tokens/{args.token_id}")
    if args.json:
        print_json(t, out)
    else:
        print(f"revoked token {t['id']} ({t['role']}) at {fmt_time(t['revoked_at'])}", file=out)
    return 0


def add_admin_parser(
    sub: argparse._SubParsersAction[Any],
    common: argparse.ArgumentParser,
) -> None:
    p = sub.add_parser("admin", help="the first admin token, parties and tokens")
    asub = p.add_subparsers(dest="admin_command", required=True, metavar="COMMAND")

    init = asub.add_parser(
        "init",
        help="on an empty hub (local store), create the admin party and print its token once",
    )
    add_store_flags(init)
    init.add_argument("--json", action="store_true", help="machine-readable output")
    init.set_defaults(local_cmd=cmd_init)

    party = asub.add_parser("party", help="add or list parties (admin token)")
    psub = party.add_subparsers(dest="party_command", required=True, metavar="COMMAND")
    add = psub.add_parser("add", parents=[common], help="add a party")
    add.add_argument("name")
    add.add_argument("--kind", required=True, choices=[k.value for k in PartyKind])
    add.add_argument("--contact", help="how to reach its duty officer (phone, e-mail...)")
    add.add_argument(
        "--language",
        action="append",
        metavar="CODE",
        help="a language it reads (repeatable; default en)",
    )
    add.set_defaults(client_cmd=cmd_party_add)
    ls = psub.add_parser("list", parents=[common], help="the directory of parties")
    ls.set_defaults(client_cmd=cmd_party_list)
    esc = psub.add_parser(
        "escalation",
        parents=[common],
        help="show or set a party's escalation ladder above its duty desk",
    )
    esc.add_argument("party", metavar="PARTY", help="the party's id or name")
    esc.add_argument(
        "--level",
        action="append",
        metavar="NAME=MINUTES",
        help="a level, lowest first (repeatable), e.g. --level 'watch commander=15'",
    )
    esc.add_argument("--clear", action="store_true", help="remove every level")
    esc.set_defaults(client_cmd=cmd_escalation)

    token = asub.add_parser("token", help="create, list or revoke API tokens (admin token)")
    tsub = token.add_subparsers(dest="token_command", required=True, metavar="COMMAND")
    c = tsub.add_parser("create", parents=[common], help="a new token (its secret is shown once)")
    c.add_argument("party", metavar="PARTY", help="the party's id or name")
    c.add_argument("--role", choices=[r.value for r in Role], default=Role.OPERATOR.value)
    c.add_argument("--label", help="what the token is for")
    c.add_argument("--level", type=int, default=0, help="its escalation level (0: the duty desk)")
    c.set_defaults(client_cmd=cmd_token_create)
    tl = tsub.add_parser("list", parents=[common], help="a party's tokens (never their secrets)")
    tl.add_argument("party", metavar="PARTY", help="the party's id or name")
    tl.set_defaults(client_cmd=cmd_token_list)
    rv = tsub.add_parser("revoke", parents=[common], help="revoke a token at once")
    rv.add_argument("token_id", metavar="TOKEN_ID")
    rv.set_defaults(client_cmd=cmd_token_revoke)
