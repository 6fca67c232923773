"""``deconfliction activity ...``: file, check, list, show, amend, activate, end, cancel."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from deconfliction.cli._client import HubClient
from deconfliction.cli._errors import UsageError
from deconfliction.cli._files import atomic_file, check_out_path, load_activity_body, parse_duration
from deconfliction.cli._output import fmt_duration, fmt_time, print_json, table
from deconfliction.model import ActivityKind, Priority

__all__ = [
    "add_activity_parser",
    "render_check",
    "render_filing",
    "render_notices",
]


def _short(ident: str) -> str:
    return ident[:8]


def _name(names: Mapping[str, str], party: str) -> str:
    return names.get(party, _short(party))


def lead_line(lead_s: float, required_s: float, late: bool) -> str:
    """``lead time 3 h (policy: at least 1 h): on time`` or ``... LATE ...``."""
    verdict = "LATE — filed anyway, and flagged late on every notice" if late else "on time"
    return (
        f"lead time {fmt_duration(lead_s)} (policy: at least {fmt_duration(required_s)}): {verdict}"
    )


def _overlap_text(ov: Mapping[str, Any]) -> str:
    d = float(ov.get("horizontal_distance_m", 0.0))
    where = "overlapping" if d == 0 else f"{d:,.0f} m apart"
    if ov.get("time_start"):
        when = f"{fmt_time(ov['time_start'])}–{fmt_time(ov['time_end'])[11:]}"
    else:
        when = f"{fmt_duration(float(ov.get('time_gap_s', 0)))} apart in time"
    if ov.get("altitude_lower_m") is not None:
        alt = f"{ov['altitude_lower_m']:,.0f}–{ov['altitude_upper_m']:,.0f} m"
    else:
        alt = f"{float(ov.get('vertical_gap_m', 0)):,.0f} m apart vertically"
    return f"{where}; {when}; {alt}"


def render_notices(
    notices: Sequence[Mapping[str, Any]], names: Mapping[str, str], out: TextIO
) -> None:
    rows = [
        [
            _name(names, n["recipient"]),
            n["reason"],
            fmt_duration(float(n["lead_time_s"])),
            fmt_duration(float(n["required_lead_time_s"])),
            "LATE" if n["late"] else "no",
            fmt_time(n["deadline"]),
            n["status"],
        ]
        for n in notices
    ]
    print(
        table(["TO", "REASON", "LEAD TIME", "REQUIRED", "LATE", "ACK BY", "STATUS"], rows), file=out
    )


def render_filing(
    r: Mapping[str, Any], names: Mapping[str, str], out: TextIO, verb: str = "filed"
) -> None:
    """A filing (or amendment, or state change) result, for people."""
    a = r["activity"]
    replay = " (replayed: same Idempotency-Key, same result)" if r.get("replayed") else ""
    print(f"{verb} {a['kind']} {a['id']} version {a['version']}: {a['title']!r}{replay}", file=out)
    print(
        f"  state {a['state']}, priority {a['priority']}, "
        f"{fmt_time(a['start'])} – {fmt_time(a['end'])}",
        file=out,
    )
    print(f"  {lead_line(r['lead_time_s'], r['required_lead_time_s'], r['late'])}", file=out)
    conflicts = r.get("conflicts", [])
    print(f"conflicts: {len(conflicts)}", file=out)
    for c in conflicts:
        other = c["other"]
        mine = c["activity"]["id"] == a["id"]
        side = other if mine else c["activity"]
        kind = "protected site" if c["kind"] == "activity_site" else "activity"
        print(
            f"  {c['status']}: {kind} {side['id']} of {_name(names, side['owner'])}, "
            f"min distance {float(c['min_horizontal_distance_m']):,.0f} m",
            file=out,
        )
        for ov in c.get("overlaps", [])[:3]:
            print(f"    {_overlap_text(ov)}", file=out)
    notices = r.get("notices", [])
    print(f"notices sent: {len(notices)}", file=out)
    if notices:
        render_notices(notices, names, out)


def render_check(r: Mapping[str, Any], names: Mapping[str, str], out: TextIO) -> None:
    """A dry run, for people."""
    print("dry run: nothing was filed", file=out)
    print(f"  {lead_line(r['lead_time_s'], r['required_lead_time_s'], r['late'])}", file=out)
    print(f"would conflict with: {len(r['conflicts'])}", file=out)
    for c in r["conflicts"]:
        kind = "protected site" if c["other_type"] == "site" else "activity"
        print(f"  {kind} {c['other_id']} of {_name(names, c['other_owner'])}", file=out)
        for ov in c.get("overlaps", [])[:3]:
            print(f"    {_overlap_text(ov)}", file=out)
    for s in r.get("sites", []):
        print(
            f"  site {s['id']}: {s['category']}, buffer {float(s['buffer_m']):,.0f} m "
            "(disclosed to you; the disclosure is recorded)",
            file=out,
        )


def _body(args: argparse.Namespace, fallback: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return load_activity_body(
        args.file,
        kind=args.kind,
        title=args.title,
        priority=args.priority,
        remarks=args.remarks,
        start_in_s=None if args.start_in is None else parse_duration(args.start_in),
        fallback=fallback,
        lower=args.lower,
        upper=args.upper,
    )


def _idem(args: argparse.Namespace) -> dict[str, str]:
    return {"Idempotency-Key": args.idempotency_key} if args.idempotency_key else {}


def cmd_file(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    body = _body(args)
    if args.dry_run:
        r = hub.post("/v1/activities/check", body)
        if args.json:
            print_json(r, out)
        else:
            render_check(r, hub.party_names(), out)
        return 0
    r = hub.post("/v1/activities", body, headers=_idem(args))
    if args.json:
        print_json(r, out)
    else:
        render_filing(r, hub.party_names(), out)
    return 0


def cmd_export(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    path: Path = args.out
    check_out_path(path)
    suffix = path.suffix.lower()
    if suffix in (".kml", ".kmz"):
        data = hub.get_bytes(f"/v1/activities/{args.id}/{suffix[1:]}")
    elif suffix in (".geojson", ".json"):
        a = hub.get(f"/v1/activities/{args.id}")
        doc = {k: a[k] for k in ("kind", "title", "priority")} | a["volumes"]
        data = (json.dumps(doc, indent=2) + "\n").encode()
    else:
        raise UsageError(f"--out {path}: the suffix must be .kml, .kmz or .geojson")
    with atomic_file(path) as f:
        f.write(data)
    if args.json:
        print_json({"out": str(path), "activity": args.id, "bytes": len(data)}, out)
    else:
        print(f"wrote {path} ({len(data)} bytes)", file=out)
    return 0


def cmd_notam(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    params = {"fir": args.fir, "code": args.code, "series": args.series, "number": args.number}
    text = hub.get_bytes(f"/v1/activities/{args.id}/notam", **params).decode()
    if args.json:
        print_json({"activity": args.id, "notam": text}, out)
    else:
        out.write(text)
    return 0


def cmd_list(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    rows = hub.get("/v1/activities", scope=args.scope, live=args.live or None, limit=args.limit)
    if args.json:
        print_json(rows, out)
        return 0
    names = hub.party_names()
    print(
        table(
            ["ID", "OWNER", "KIND", "STATE", "V", "START", "END", "TITLE"],
            [
                [
                    a["id"],
                    _name(names, a["owner"]),
                    a["kind"],
                    a["state"],
                    a["version"],
                    fmt_time(a["start"]),
                    fmt_time(a["end"]),
                    a["title"],
                ]
                for a in rows
            ],
        ),
        file=out,
    )
    return 0


def _volume_row(i: int, f: Mapping[str, Any]) -> list[Any]:
    g, p = f.get("geometry") or {}, f.get("properties") or {}
    if g.get("type") == "Point":
        lon, lat = g["coordinates"][:2]
        shape = f"circle r={float(p.get('radius_m', 0)):,.0f} m at {lat:.4f}N {lon:.4f}E"
    else:
        ring = g.get("coordinates", [[]])[0]
        shape = f"polygon, {max(len(ring) - 1, 0)} vertices"
    alt = f"{float(p.get('altitude_lower_m', 0)):,.0f}–{float(p.get('altitude_upper_m', 0)):,.0f} m"
    return [i, shape, alt, fmt_time(p.get("time_start")), fmt_time(p.get("time_end"))]


def cmd_show(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    a = hub.get(f"/v1/activities/{args.id}")
    mine = "remarks" in a
    notices = hub.get(f"/v1/activities/{args.id}/notices") if mine else []
    if args.json:
        print_json({"activity": a, "notices": notices} if mine else {"activity": a}, out)
        return 0
    names = hub.party_names()
    print(f"{a['title']}  ({a['kind']}, {a['priority']})", file=out)
    print(f"  id       {a['id']}", file=out)
    print(f"  owner    {_name(names, a['owner'])}", file=out)
    print(f"  state    {a['state']}, version {a['version']}", file=out)
    print(f"  window   {fmt_time(a['start'])} – {fmt_time(a['end'])}", file=out)
    if mine and a.get("remarks"):
        print(f"  remarks  {a['remarks']}", file=out)
    feats = a["volumes"]["features"]
    print(f"volumes: {len(feats)}", file=out)
    print(
        table(
            ["#", "FOOTPRINT", "ALTITUDE (WGS84)", "FROM", "TO"],
            [_volume_row(i, f) for i, f in enumerate(feats)],
        ),
        file=out,
    )
    if mine:
        print(f"notices sent about it (all versions): {len(notices)}", file=out)
        if notices:
            render_notices(notices, names, out)
    return 0


def _version(args: argparse.Namespace, hub: HubClient) -> int:
    if args.version is not None:
        return int(args.version)
    return hub.version_of(f"/v1/activities/{args.id}")


def cmd_amend(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
    current = hub.get(f"/v1/activities/{args.id}")
    version = int(args.version) if args.version is not None else int(current["version"])
    body = _body(args, fallback=current)
    headers = {"If-Match": f'"{version}"'} | _idem(args)
    r = hub.put(f"/v1/activities/{args.id}", body, headers=headers)
    if args.json:
        print_json(r, out)
    else:
        render_filing(r, hub.party_names(), out, verb="amended")
    return 0


def _state_change(action: str, past: str) -> Any:
    def cmd(args: argparse.Namespace, hub: HubClient, out: TextIO) -> int:
        version = _version(args, hub)
        headers = {"If-Match": f'"{version}"'} | _idem(args)
        r = hub.post(f"/v1/activities/{args.id}/{action}", None, headers=headers)
        if args.json:
            print_json(r, out)
        else:
            render_filing(r, hub.party_names(), out, verb=past)
        return 0

    return cmd


def add_activity_parser(
    sub: argparse._SubParsersAction[Any],
    common: argparse.ArgumentParser,
) -> None:
    """``activity`` and its subcommands (each sets ``args.client_cmd``)."""
    p = sub.add_parser("activity", help="file and follow activities (talks to the hub)")
    asub = p.add_subparsers(dest="activity_command", required=True, metavar="COMMAND")

    def content_flags(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "file", type=Path, help="the volumes: a GeoJSON FeatureCollection, or KML/KMZ"
        )
        q.add_argument(
            "--kind", choices=[k.value for k in ActivityKind], help='default: the file\'s "kind"'
        )
        q.add_argument("--title", help='default: the file\'s "title"')
        q.add_argument(
            "--priority",
            choices=[x.value for x in Priority],
            help="default: the file's, else routine",
        )
        q.add_argument("--remarks", help="internal remarks (never shown to other parties)")
        q.add_argument(
            "--start-in",
            metavar="DURATION",
            help="shift all times so the earliest volume starts this long from now (90s, 3h, 2d)",
        )
        q.add_argument(
            "--idempotency-key",
            metavar="KEY",
            help="retry safely: same key + same body → same result",
        )
        for which in ("lower", "upper"):
            q.add_argument(
                f"--{which}",
                metavar="ALT",
                help=f"KML: the {which} altitude of placemarks that give none "
                "(SFC, FL95, 5000ft, 1500m)",
            )

    f = asub.add_parser("file", parents=[common], help="file an activity from a GeoJSON file")
    content_flags(f)
    f.add_argument(
        "--dry-run", action="store_true", help="only check: conflicts, lead time, late flag"
    )
    f.set_defaults(client_cmd=cmd_file)

    ls = asub.add_parser("list", parents=[common], help="activities I own or that affect me")
    ls.add_argument("--scope", choices=["mine", "affecting", "all"], default="all")
    ls.add_argument("--live", action="store_true", help="only notified or active ones")
    ls.add_argument("--limit", type=int, default=None)
    ls.set_defaults(client_cmd=cmd_list)

    sh = asub.add_parser("show", parents=[common], help="one activity (and, if mine, its notices)")
    sh.add_argument("id")
    sh.set_defaults(client_cmd=cmd_show)

    am = asub.add_parser(
        "amend", parents=[common], help="replace an activity's volumes (and title...)"
    )
    am.add_argument("id")
    content_flags(am)
    am.add_argument(
        "--version", type=int, help="the version you are changing (default: the current one)"
    )
    am.set_defaults(client_cmd=cmd_amend)

    ex = asub.add_parser(
        "export", parents=[common], help="write an activity as KML, KMZ or GeoJSON"
    )
    ex.add_argument("id")
    ex.add_argument(
        "--out", type=Path, required=True, help="the file: .kml, .kmz or .geojson (by suffix)"
    )
    ex.set_defaults(client_cmd=cmd_export)

    no = asub.add_parser(
        "notam", parents=[common], help="an activity as an ICAO NOTAM draft (text)"
    )
    no.add_argument("id")
    no.add_argument("--fir", help="ICAO FIR for Q) and A) (default: the hub's notam_fir)")
    no.add_argument("--code", help="NOTAM code, e.g. QRTCA (default: by the activity's kind)")
    no.add_argument("--series", default="X", help="NOTAM series letter (default X)")
    no.add_argument("--number", type=int, default=0, help="NOTAM number (default 0: a draft)")
    no.set_defaults(client_cmd=cmd_notam)

    for action, past, text in (
        ("activate", "activated", "mark an activity active (it has started)"),
        ("end", "ended", "end an activity"),
        ("cancel", "cancelled", "cancel an activity"),
    ):
        q = asub.add_parser(action, parents=[common], help=text)
        q.add_argument("id")
        q.add_argument(
            "--version", type=int, help="the version you are changing (default: the current one)"
        )
        q.add_argument("--idempotency-key", metavar="KEY")
        q.set_defaults(client_cmd=_state_change(action, past))
