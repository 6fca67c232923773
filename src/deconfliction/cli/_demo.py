"""``deconfliction demo``: a real hub with four parties over northern France, one rule a step.

The demo starts the real server (uvicorn on 127.0.0.1:8000 by default, a fresh temporary
data directory unless ``--data-dir``), creates the admin, the parties Blue and Red (armed
forces), Green (humanitarian) and Civil (air navigation service) with operator tokens, then
plays the scenario as each party's HTTP client would, filing the files of
``examples/demo/`` with their times moved relative to now:

1. Green registers a protected site, CHU Amiens-Picardie (nobody is told).
2. Civil reserves airspace east of Amiens, 3 days ahead (48 h asked): on time.
3. Blue files an air exercise inside that reservation: Civil is told 3 days ahead (1 h
   asked): a notice with ample lead time.
4. Red files an air-defence engagement zone over Laon active in 1 minute: it meets Civil's
   reservation; Civil's notice carries a 1-minute lead time against 6 hours asked and is
   flagged LATE — accepted, recorded, never hidden.
5. Blue files a low-level helicopter transit that crosses the hospital: a conflict; Green is
   told; Blue learns the site's footprint and category (not its name) and that disclosure
   is recorded; Red, not involved, still cannot see the site.
6. Blue amends the transit to pass north of Amiens (If-Match): the conflict is resolved,
   Green's notice superseded and Green told it is no longer affected; a stale retry → 409.

It prints a narrated log with the figures, the URL and each party's token, and keeps
serving until Ctrl-C (``--exit-after-scenario`` stops after the scenario).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from deconfliction.api import load_settings
from deconfliction.audit import verify_bundle
from deconfliction.cli._activity import lead_line
from deconfliction.cli._admin import bootstrap
from deconfliction.cli._client import ClientConfig, HubClient
from deconfliction.cli._demo_live import LivePicture, play_live
from deconfliction.cli._errors import Refused, UsageError
from deconfliction.cli._files import load_activity_body
from deconfliction.cli._output import fmt_duration
from deconfliction.cli._serve import HubThread
from deconfliction.cli._sites import load_site_body

__all__ = ["EXAMPLES", "PARTIES", "ScenarioResult", "add_demo_parser", "run_scenario"]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "demo"
"""The scenario's files (in the source tree, beside the README)."""

PARTIES: tuple[tuple[str, str, str], ...] = (
    ("Blue", "armed_force", "Blue air operations centre, +33 3 22 00 00 01"),
    ("Red", "armed_force", "Red joint operations centre, +33 3 23 00 00 02"),
    ("Green", "humanitarian", "Green field coordination, Lille, +33 3 20 00 00 03"),
    ("Civil", "air_navigation_service", "Civil ACC supervisor, +33 3 26 00 00 04"),
)

_HOUR = 3600.0
_DAY = 86_400.0


@dataclass
class ScenarioResult:
    """What the scenario produced (the tests assert on it; ``--json`` prints it)."""

    url: str
    admin_token: str = ""
    parties: dict[str, str] = field(default_factory=dict)
    """name → party id"""
    tokens: dict[str, str] = field(default_factory=dict)
    """name → operator token"""
    steps: list[dict[str, Any]] = field(default_factory=list)
    outcome: dict[str, Any] = field(default_factory=dict)
    live: LivePicture | None = None
    """The live picture (kept posting while the demo serves)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "docs": f"{self.url}/docs",
            "admin_token": self.admin_token,
            "parties": self.parties,
            "tokens": self.tokens,
            "steps": self.steps,
            "outcome": self.outcome,
        }


class _Narrator:
    def __init__(self, out: TextIO | None) -> None:
        self.out = out
        self.n = 0

    def step(self, text: str) -> None:
        self.n += 1
        self.say(f"\n[{self.n}] {text}")

    def say(self, text: str) -> None:
        if self.out is not None:
            print(text, file=self.out, flush=True)


def _notice_to(r: Mapping[str, Any], party_id: str) -> dict[str, Any]:
    for n in r["notices"]:
        if n["recipient"] == party_id:
            return dict(n)
    raise Refused(f"demo: expected a notice to party {party_id}, got none")


def run_scenario(
    url: str,
    admin_token: str,
    *,
    out: TextIO | None,
    examples: Path = EXAMPLES,
    client: Callable[[str], HubClient] | None = None,
) -> ScenarioResult:
    """Play the scenario against the hub at ``url``; narrate to ``out`` (None: silent)."""
    if not examples.is_dir():
        raise UsageError(f"the demo's files are missing: {examples} (run it from the source tree)")
    make = client or (lambda token: HubClient(ClientConfig(url, token)))
    say = _Narrator(out)
    res = ScenarioResult(url, admin_token)

    def file(name: str) -> Path:
        return examples / name

    # -- parties and tokens
    say.step("The hub's admin adds four parties over northern France and gives each a token.")
    with make(admin_token) as admin:
        for name, kind, contact in PARTIES:
            p = admin.post("/v1/parties", {"name": name, "kind": kind, "contact": contact})
            t = admin.post(f"/v1/parties/{p['id']}/tokens", {"role": "operator", "label": "demo"})
            res.parties[name], res.tokens[name] = p["id"], t["secret"]
            say.say(f"    {name:<6} {kind:<23} party {p['id']}")
        # Civil's ladder: an unanswered notice goes up to its watch supervisor
        admin.put(
            f"/v1/parties/{res.parties['Civil']}/escalation",
            {"levels": [{"name": "watch supervisor", "deadline_min": 10}]},
        )
    say.say("    Civil's escalation ladder: duty desk → watch supervisor (10 min more).")
    res.steps.append({"step": "parties", "parties": res.parties})
    blue, red, green, civil = (make(res.tokens[n]) for n in ("Blue", "Red", "Green", "Civil"))
    ids = res.parties
    try:
        # -- protected site
        site_body = load_site_body(file("green-hospital.json"), valid_for_s=365 * _DAY)
        site = green.post("/v1/sites", site_body)["site"]
        say.step(
            f"Green registers a protected site: {site['name']} ({site['category']}, "
            f"radius 400 m + {site['buffer_m']:,.0f} m buffer, all altitudes)."
        )
        say.say(
            "    Nobody is told: a site's position reaches another party only through a conflict."
        )
        res.steps.append({"step": "site", "site_id": site["id"]})

        # -- Civil's reservation, 3 days ahead
        body = load_activity_body(file("civil-tra-reservation.geojson"), start_in_s=3 * _DAY)
        tra = civil.post("/v1/activities", body)
        say.step(f"Civil files an airspace reservation: {body['title']}, FL100–FL195.")
        say.say(f"    {lead_line(tra['lead_time_s'], tra['required_lead_time_s'], tra['late'])}")
        say.say(f"    it affects nobody yet: {len(tra['notices'])} notices sent")
        res.steps.append(
            {"step": "reservation", "activity_id": tra["activity"]["id"], "late": tra["late"]}
        )

        # -- Blue's exercise inside it: ample lead time
        body = load_activity_body(file("blue-exercise.geojson"), start_in_s=3 * _DAY + 1800)
        ex = blue.post("/v1/activities", body)
        n = _notice_to(ex, ids["Civil"])
        say.step(f"Blue files {body['title']!r}, FL120–FL180.")
        say.say(
            f"    it meets Civil's reservation: {len(ex['conflicts'])} conflict; Civil is notified"
        )
        say.say(
            f"    Civil's notice: lead time {fmt_duration(n['lead_time_s'])} "
            f"(policy for air_operation: at least {fmt_duration(n['required_lead_time_s'])}): "
            f"{'LATE' if n['late'] else 'on time, ample lead time'}"
        )
        res.steps.append(
            {
                "step": "ample_lead_time",
                "activity_id": ex["activity"]["id"],
                "notice_to": "Civil",
                "lead_time_s": n["lead_time_s"],
                "required_lead_time_s": n["required_lead_time_s"],
                "late": n["late"],
            }
        )

        # -- Civil's calibration aircraft is flying near Laon
        civil.post(
            "/v1/assets",
            {
                "assets": [
                    {
                        "ref": "CAL-01",
                        "name": "flight inspection aircraft",
                        "lon": 3.62,
                        "lat": 49.57,
                        "altitude_ft": 10_000,
                        "speed_kt": 140,
                        "max_speed_kt": 160,
                    }
                ]
            },
        )
        say.step("Civil reports its flight inspection aircraft CAL-01 near Laon, 160 kt at best.")

        # -- Red's engagement zone, 1 minute before it starts: LATE and INSUFFICIENT
        body = load_activity_body(file("red-engagement-zone.geojson"), start_in_s=60)
        ez = red.post("/v1/activities", body)
        n = _notice_to(ez, ids["Civil"])
        say.step(
            f"Red files {body['title']!r} (hazard, surface–FL300, 4 days), active in 1 minute."
        )
        say.say(f"    it meets Civil's reservation; notified: {_names(ez['notices'], ids)}")
        say.say(
            f"    Civil's notice: lead time {fmt_duration(n['lead_time_s'])} "
            f"(policy for hazard: at least {fmt_duration(n['required_lead_time_s'])}): "
            f"{'LATE' if n['late'] else 'on time'}"
        )
        for need in n.get("clearance", []):
            say.say(
                f"    CAL-01 needs {fmt_duration(need['required_s'])} to get clear "
                f"({need['distance_m'] / 1852:.1f} NM at {need['max_speed_mps'] * 3600 / 1852:.0f} kt); "
                f"{fmt_duration(need['available_s'])} are left: "
                f"{'INSUFFICIENT NOTICE' if need['insufficient'] else 'enough'}"
            )
        say.say(
            "    The filing is accepted, never refused; the hub's clock measured the lead time "
            "and the LATE and INSUFFICIENT flags are on the notice for both sides to see — "
            "the failure this system exists to expose."
        )
        ack = civil.post(f"/v1/notices/{n['id']}/acknowledge")
        say.say(
            f"    Civil acknowledges (received and understood, not approval); ledger receipt "
            f"seq {ack['receipt']['seq']}, hash {ack['receipt']['hash'][:16]}…"
        )
        res.steps.append(
            {
                "step": "late",
                "activity_id": ez["activity"]["id"],
                "notice_to": "Civil",
                "lead_time_s": n["lead_time_s"],
                "required_lead_time_s": n["required_lead_time_s"],
                "late": n["late"],
                "filing_late": ez["late"],
                "insufficient": n["insufficient"],
                "acknowledged": ack["notice"]["status"] == "acknowledged",
            }
        )

        # -- Blue's transit over the hospital: conflict, disclosure
        body = load_activity_body(file("blue-transit-via-amiens.geojson"), start_in_s=3 * _HOUR)
        tr = blue.post("/v1/activities", body)
        site_conflicts = [c for c in tr["conflicts"] if c["kind"] == "activity_site"]
        n = _notice_to(tr, ids["Green"])
        seen = blue.get(f"/v1/sites/{site['id']}")
        try:
            red.get(f"/v1/sites/{site['id']}")
            red_sees = True
        except Refused:
            red_sees = False
        say.step(f"Blue files {body['title']!r}, 500–3,000 ft, starting in 3 h.")
        say.say(
            f"    it crosses Green's hospital: {len(site_conflicts)} conflict with a protected "
            f"site, min distance {site_conflicts[0]['min_horizontal_distance_m']:,.0f} m"
            if site_conflicts
            else "    (no conflict with the hospital?)"
        )
        say.say(
            f"    Green is notified: lead time {fmt_duration(n['lead_time_s'])}, "
            f"{'LATE' if n['late'] else 'on time'}; Blue still files — the hub notifies, it "
            "never approves"
        )
        say.say(
            f"    disclosure recorded: Blue now sees the site's category ({seen['category']}) "
            f"and footprint; its name {'is withheld' if seen.get('name') is None else 'LEAKED'}; "
            f"Red, not involved: {'sees it!' if red_sees else '404, sees nothing'}"
        )
        res.steps.append(
            {
                "step": "disclosure",
                "activity_id": tr["activity"]["id"],
                "conflict_id": site_conflicts[0]["id"] if site_conflicts else None,
                "notice_to": "Green",
                "blue_sees_site": {"category": seen["category"], "name": seen.get("name")},
                "red_sees_site": red_sees,
            }
        )

        # -- Blue amends the transit away: conflict resolved, notices superseded
        body = load_activity_body(file("blue-transit-north.geojson"), start_in_s=3 * _HOUR)
        aid = tr["activity"]["id"]
        am = blue.put(f"/v1/activities/{aid}", body, headers={"If-Match": '"1"'})
        conflicts = blue.get("/v1/conflicts")
        resolved = [c for c in conflicts if site_conflicts and c["id"] == site_conflicts[0]["id"]]
        green_notices = green.get("/v1/notices", activity_id=aid)
        superseded = [x for x in green_notices if x["status"] == "superseded"]
        told = [x for x in green_notices if x["reason"] == "no_longer_affected"]
        try:
            blue.put(f"/v1/activities/{aid}", body, headers={"If-Match": '"1"'})
            stale = "accepted?!"
        except Refused as exc:
            stale = str(exc)
        say.step(f'Blue amends the transit to {body["title"]!r} (If-Match: "1").')
        say.say(
            f"    version {am['activity']['version']}: conflict with the hospital "
            f"{resolved[0]['status'] if resolved else '?'}; "
            f"open conflicts of the transit now: {len(am['conflicts'])}"
        )
        say.say(
            f"    Green's earlier notice: {superseded[0]['status'] if superseded else '?'}; "
            f"Green told: {told[0]['summary'] if told else '?'}"
        )
        say.say(f'    a stale retry with If-Match "1": {stale}')
        res.steps.append(
            {
                "step": "resolved",
                "activity_id": aid,
                "version": am["activity"]["version"],
                "conflict_status": resolved[0]["status"] if resolved else None,
                "superseded_notices": len(superseded),
                "no_longer_affected_notices": len(told),
                "stale_retry": stale,
            }
        )

        # -- the live picture: own aircraft and real traffic, tactical alerts
        say.step("Live tracks: the parties' own aircraft and real ADS-B traffic (POST /v1/tracks).")
        live = res.live = LivePicture(make, res.tokens, ids, say.say)
        live.load_traffic()
        res.steps.append(play_live(live, ids, say.say))

        # -- summary
        say.step("Notices received, per party (GET /v1/notices):")
        summary: dict[str, dict[str, int]] = {}
        for name, c in (("Blue", blue), ("Red", red), ("Green", green), ("Civil", civil)):
            got = c.get("/v1/notices")
            ns = [x for x in got if x["reason"] != "alert"]
            summary[name] = {"notices": len(ns), "late": sum(1 for x in ns if x["late"])}
            alerts = len(got) - len(ns)
            say.say(
                f"    {name:<6} {len(ns)} notices, {summary[name]['late']} late; "
                f"{alerts} tactical alert{'s' if alerts != 1 else ''}"
            )
        key = civil.get("/v1/ledger/key")["public_key"]
        bundle = civil.get_bytes("/v1/ledger", limit=10_000)
        report = verify_bundle(bundle, key)
        say.step("Civil downloads its view of the ledger and verifies it with the hub's key:")
        say.say(f"    {report.summary()}")
        res.outcome = {
            "ledger_verifies": report.ok,
            "ample_notice_late": res.steps[3]["late"],
            "late_notice_flagged": res.steps[4]["late"],
            "disclosure": res.steps[5]["blue_sees_site"]["category"] == "medical"
            and not res.steps[5]["red_sees_site"],
            "conflict_resolved": res.steps[6]["conflict_status"] == "resolved",
            "notices": summary,
        }
    finally:
        for c in (blue, red, green, civil):
            c.close()
    return res


def _names(notices: list[dict[str, Any]], ids: Mapping[str, str]) -> str:
    by_id = {v: k for k, v in ids.items()}
    names = [by_id.get(n["recipient"], n["recipient"][:8]) for n in notices]
    return ", ".join(names) or "nobody"


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    tmp: str | None = None
    data_dir = args.data_dir
    if data_dir is None:
        tmp = tempfile.mkdtemp(prefix="deconfliction-demo-")
        data_dir = Path(tmp)
    try:
        settings = load_settings(
            None, host=args.host, port=args.port, data_dir=data_dir, progress=False
        )
        made = bootstrap(settings)
        if made is None:
            raise Refused(f"the demo needs an empty hub, and {data_dir} already has parties")
        hub = HubThread(settings)
        hub.start()
        narrate = None if args.json else out
        if narrate:
            print("Deconfliction Hotline demo: four parties over northern France", file=out)
            where = "a fresh temporary directory, removed on exit" if tmp else str(data_dir)
            print(f"hub {hub.url} (data: {where})", file=out, flush=True)
        res: ScenarioResult | None = None
        try:
            res = run_scenario(hub.url, made[1], out=narrate)
            if args.json:
                print(json.dumps(res.as_json()), file=out, flush=True)
            else:
                _print_access(res, out, serving=not args.exit_after_scenario)
            if not args.exit_after_scenario:
                if res.live is not None:
                    res.live.start()  # the picture keeps moving while the hub serves
                with _sigterm_as_interrupt():
                    hub.wait()
        except KeyboardInterrupt:
            if narrate:
                print("\nstopping the hub", file=out)
        finally:
            if res is not None and res.live is not None:
                res.live.stop()
            hub.stop()
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the demo as Ctrl-C does (the temporary data directory is removed)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_access(res: ScenarioResult, out: TextIO, *, serving: bool) -> None:
    print(f"\nThe hub: {res.url}   API docs: {res.url}/docs", file=out)
    print(f"The console: open {res.url}/ in a browser and sign in with a token below", file=out)
    print("Tokens (operator role; the admin's manages parties and tokens):", file=out)
    for name, token in [*res.tokens.items(), ("admin", res.admin_token)]:
        print(f"    {name:<6} {token}", file=out)
    print(
        f"Try:  deconfliction notices --url {res.url} --token {res.tokens['Civil']}",
        file=out,
    )
    if serving:
        print("Serving until Ctrl-C.", file=out, flush=True)


def add_demo_parser(sub: argparse._SubParsersAction[Any]) -> None:
    d = sub.add_parser(
        "demo", help="run a hub with four parties over northern France and play a scenario"
    )
    d.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    d.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    d.add_argument("--data-dir", type=Path, help="keep the hub's data here (must be empty)")
    d.add_argument(
        "--exit-after-scenario",
        "--no-serve",
        action="store_true",
        help="stop after the scenario instead of serving until Ctrl-C",
    )
    d.add_argument("--json", action="store_true", help="print the outcome as one JSON line")
    d.set_defaults(local_cmd=cmd_demo)
