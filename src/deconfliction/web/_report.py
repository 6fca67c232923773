"""An activity's report: one self-contained HTML page built from its timeline document
(``GET /v1/activities/{id}/timeline``), so it says exactly what the hub recorded.

It needs nothing else to be read: the CSS is inline and the two pictures
(:mod:`deconfliction.web._charts`) are embedded as base64 PNG; it loads no URL. Flags are
words (LATE, INSUFFICIENT), never colour alone. The console downloads it from
``/console/activities/{id}/report``; ``deconfliction report activity`` writes it to a file.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from deconfliction.hotline import duration_text, time_text

__all__ = ["render_report", "report_html"]


fmt_duration = duration_text
fmt_time = time_text


_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d1d1f; margin: 2rem auto; max-width: 1360px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .6rem; border-bottom: 1px solid #ddd; }
.sub { color: #555; margin: 0 0 1rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.facts dt { color: #555; }
dl.facts dd { margin: 0; }
.summary { margin: 1rem 0; padding: .6rem .8rem; background: #f4f6fa; border-left: 4px solid #1f4e99; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
.t { white-space: nowrap; }
th, td { border: 1px solid #d8d8d8; padding: .25rem .35rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
tr.superseded td { color: #777; }
.flag { display: inline-block; font-weight: 700; padding: 0 .3rem; border-radius: 3px;
        border: 1px solid currentColor; margin: 0 .2rem .15rem 0; }
.flag.late { color: #b03024; }
.flag.insufficient { color: #8a4b00; }
.flag.ok { color: #2e7d32; font-weight: 400; }
.muted { color: #777; }
code { font-size: 11.5px; }
img { max-width: 100%; height: auto; border: 1px solid #e3e3e3; }
footer { margin-top: 2rem; color: #666; font-size: 12px; }
@media print { body { max-width: none; } .wide { overflow: visible; } table { font-size: 9.5px; } }
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(headers: Sequence[str], rows: Iterable[tuple[str, Sequence[str]]]) -> str:
    """An HTML table; each row is (CSS class, already-escaped cells)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        f'<tr class="{cls}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        for cls, cells in rows
    )
    return (
        f'<div class="wide"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _when(iso: str | None) -> str:
    """A hub time on two lines (date, then time), for narrow table cells."""
    text = fmt_time(iso)
    if " " not in text:
        return _e(text)
    day, clock = text.split(" ", 1)
    return f'<span class="t">{_e(day)}</span><br><span class="t">{_e(clock)}</span>'


def _flags(n: Mapping[str, Any]) -> str:
    out = []
    if n["late"]:
        out.append('<span class="flag late">LATE</span>')
    if n["insufficient"]:
        out.append('<span class="flag insufficient">INSUFFICIENT</span>')
        for c in n.get("clearance", []):
            if c.get("insufficient"):
                out.append(
                    f"<div class=muted>asset needs {_e(fmt_duration(float(c['required_s'])))} "
                    f"to get clear ({float(c['distance_m']):,.0f} m at "
                    f"{float(c['max_speed_mps']):.0f} m/s); "
                    f"{_e(fmt_duration(float(c['available_s'])))} left</div>"
                )
    return "".join(out) or '<span class="flag ok">on time</span>'


def _answer(n: Mapping[str, Any]) -> str:
    if not n.get("answered_at"):
        return "<span class=muted>none</span>" if n.get("needs_answer") else "-"
    what = "objected" if n.get("objection") else "acknowledged"
    text = f"{_when(n['answered_at'])}<br>{what}"
    if n.get("objection"):
        text += f": <q>{_e(n['objection'])}</q>"
    return text


def _notice_rows(notices: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[str]]]:
    rows = []
    for n in notices:
        lead = _e(fmt_duration(float(n["lead_time_s"])))
        if n["required_lead_time_s"]:
            lead += f"<br><span class=muted>policy ≥ {_e(fmt_duration(float(n['required_lead_time_s'])))}</span>"
        escalated = "<br>".join(
            f"{_when(s.get('at'))}<br>→ {_e(s.get('name'))} (level {_e(s.get('level'))})"
            for s in n.get("escalations", [])
        )
        ack = n.get("time_to_answer_s")
        receipt = n.get("receipt") or {}
        seal = (
            f"seq {_e(receipt.get('seq'))}<br><code>{_e(str(receipt.get('hash', ''))[:10])}…</code>"
            if receipt
            else "<span class=muted>none</span>"
        )
        rows.append(
            (
                str(n["status"]),
                [
                    f"<strong>{_e(n['recipient_name'])}</strong>",
                    f"v{_e(n['activity_version'])} {_e(n['reason'])}",
                    _when(n["sent_at"]),
                    lead,
                    _flags(n),
                    _when(n.get("delivered_at")),
                    _when(n.get("read_at")),
                    _answer(n),
                    escalated or "-",
                    _when(n.get("expired_at")),
                    "-" if ack is None else _e(fmt_duration(float(ack))),
                    _e(n["status"]),
                    seal,
                ],
            )
        )
    return rows


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def render_report(
    doc: Mapping[str, Any], *, timeline_png: bytes, map_png: bytes, source: str = ""
) -> str:
    """The report of one timeline document as an HTML page (the pictures given as PNG)."""
    a = doc["activity"]
    notices: Sequence[Mapping[str, Any]] = doc["notices"]
    late = sum(1 for n in notices if n["late"])
    short = sum(1 for n in notices if n["insufficient"])
    waiting = sum(
        1
        for n in notices
        if n.get("needs_answer") and not n.get("answered_at") and n["status"] != "superseded"
    )
    facts = [
        ("Activity", f"{_e(a['title'])} <code>{_e(a['id'])}</code>"),
        ("Owner", _e(doc["owner"]["name"])),
        ("Kind", f"{_e(a['kind'])}, priority {_e(a['priority'])}"),
        ("State", f"{_e(a['state'])} (version {_e(a['version'])})"),
        ("Window", f"{_e(fmt_time(a['start']))} – {_e(fmt_time(a['end']))}"),
        ("Filed", _e(fmt_time(doc["versions"][0]["at"] if doc["versions"] else None))),
        (
            "Report",
            f"hub time {_e(fmt_time(doc['generated_at']))}" + (f", {_e(source)}" if source else ""),
        ),
    ]
    summary = (
        f"{len(notices)} notice(s) to {len({n['recipient'] for n in notices})} party(ies); "
        f"<strong>{late} LATE</strong>, <strong>{short} INSUFFICIENT</strong>, "
        f"{waiting} still without the answer expected; {len(doc['conflicts'])} conflict(s), "
        f"{len(doc['versions'])} version(s)."
    )
    versions = _table(
        ["Version", "Change", "Hub time", "State", "Title", "Window", "Volumes"],
        (
            (
                "",
                [
                    _e(v["version"]),
                    _e(v["change"]),
                    _e(fmt_time(v["at"])),
                    _e(v["state"]),
                    _e(v["title"]),
                    f"{_e(fmt_time(v['start']))} – {_e(fmt_time(v['end']))}",
                    _e(len(v["volumes"]["features"])),
                ],
            )
            for v in doc["versions"]
        ),
    )
    conflicts = _table(
        ["Other party", "With", "Status", "Detected", "Last updated", "Resolved", "Closest"],
        (
            (
                "",
                [
                    _e(c["other_party"]["name"]),
                    f"{_e(c['other_type'])} <code>{_e(c['other_object'][:8])}</code>",
                    _e(c["status"]),
                    _e(fmt_time(c["detected_at"])),
                    _e(fmt_time(c["updated_at"])),
                    _e(fmt_time(c.get("resolved_at"))),
                    f"{float(c['min_horizontal_distance_m']):,.0f} m",
                ],
            )
            for c in doc["conflicts"]
        ),
    )
    events = _table(
        ["Hub time", "What", "Party", "Details"],
        (
            (
                "",
                [
                    _e(fmt_time(e["time"])),
                    _e(e["what"]),
                    _e(e.get("party") or "-"),
                    _e(e["details"]),
                ],
            )
            for e in doc["events"]
        ),
    )
    notice_table = _table(
        [
            "Recipient",
            "About",
            "Sent",
            "Lead time",
            "Flags",
            "Delivered",
            "Read",
            "Answered",
            "Escalated",
            "Expired",
            "Time to acknowledge",
            "Status",
            "Ledger receipt",
        ],
        _notice_rows(notices),
    )
    title = f"Activity report: {a['title']}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(title)}</h1>",
        '<p class="sub">Deconfliction Hotline — every time below is the hub\'s clock (UTC). '
        "The hotline notifies; it never approves.</p>",
        '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>",
        f'<p class="summary">{summary}</p></header>',
        "<section><h2>Notices</h2>",
        notice_table if notices else "<p>No notice was sent about this activity.</p>",
        "</section><section><h2>Timeline</h2>",
        _img(timeline_png, "timeline of each recipient's notices and the activity start"),
        "</section><section><h2>Volumes</h2>",
        _img(map_png, "map of the activity's volumes"),
        "</section><section><h2>Versions</h2>",
        versions,
        "</section><section><h2>Conflicts</h2>",
        conflicts if doc["conflicts"] else "<p>No conflict was detected.</p>",
        "</section><section><h2>Everything that happened, in order</h2>",
        events,
        "</section><footer>Each notice's ledger receipt (seq, hash) can be checked against "
        "the hub's signed ledger: <code>deconfliction ledger verify</code> on the hub, or a "
        "party's exported bundle with <code>deconfliction ledger verify --bundle</code>."
        "</footer></body></html>",
    ]
    return "\n".join(parts) + "\n"


def report_html(doc: Mapping[str, Any], *, source: str = "") -> str:
    """The report of a timeline document, its two pictures drawn here (matplotlib)."""
    from deconfliction.web._charts import map_png, timeline_png  # matplotlib: only here

    return render_report(doc, timeline_png=timeline_png(doc), map_png=map_png(doc), source=source)
