// The details panel: an activity (its volumes, conflicts, who was told and how they
// answered, its hotline thread, lifecycle buttons, timeline and report), a site or a track.
import { altitude, esc, flagHtml, metres, utc, words } from "./format.js";

const TRANSITIONS = {
  notified: ["activate", "cancel"],
  active: ["end", "cancel"],
};

function facts(rows) {
  return `<dl class="facts">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("")}</dl>`;
}

function noticeRow(app, n) {
  const when = n.answered_at || n.expired_at || n.read_at || n.delivered_at || n.sent_at;
  const flags = `${n.late ? flagHtml("late") : ""}${n.insufficient ? flagHtml("insufficient notice", "insufficient") : ""}`;
  const status = n.status === "objected" ? `objected: “${esc(n.objection)}”` : esc(n.status);
  return `<tr data-recipient="${esc(n.recipient)}" data-status="${esc(n.status)}">
    <td>${esc(app.partyName(n.recipient))}</td><td>${esc(words(n.reason))} ${flags}</td>
    <td class="answer">${status}</td><td>${utc(when)}</td></tr>`;
}

export async function activityDetails(app, id) {
  const a = await app.api.get(`/v1/activities/${id}`);
  const mine = a.owner === app.me.party.id;
  const conflicts = app.conflicts.filter((c) => c.activity.id === id || c.other.id === id);
  const vols = a.volumes.features.map((f, i) => {
    const p = f.properties;
    const shape = f.geometry.type === "Point" ? `circle ${metres(p.radius_m)}` : words(f.geometry.type);
    return `<li>${esc(shape)}, ${altitude(p.altitude_lower_m)}–${altitude(p.altitude_upper_m)},
      ${utc(p.time_start)} → ${utc(p.time_end)}</li>`;
  }).join("");
  const conflictRows = conflicts.map((c) => {
    const otherSide = c.activity.id === id ? c.other : c.activity;
    return `<li>${flagHtml(c.status === "open" ? "conflict" : c.status, c.status === "open" ? "conflict" : "ok")}
      with ${esc(app.partyName(otherSide.owner))} · ${metres(c.min_horizontal_distance_m)} apart ·
      <button type="button" class="linkish" data-act="overlap" data-id="${esc(c.id)}">show overlap</button></li>`;
  }).join("");
  const canWrite = app.canWrite && mine;
  const buttons = canWrite ? [
    ...(TRANSITIONS[a.state] || []).map((t) => `<button type="button" data-act="${t}" data-id="${esc(a.id)}"
      class="${t === "cancel" ? "danger" : ""}">${t[0].toUpperCase() + t.slice(1)}</button>`),
    ["notified", "active"].includes(a.state) ? `<button type="button" data-act="amend" data-id="${esc(a.id)}">Amend…</button>` : "",
  ].join("") : "";
  const awaiting = (a.awaiting_acknowledgement || []).map((w) => esc(app.partyName(w.party))).join(", ");
  let html = `<article class="details" data-activity="${esc(a.id)}" data-version="${a.version}">
    <h2>${esc(a.title)}</h2>
    ${facts([
      ["Owner", `${esc(app.partyName(a.owner))}${mine ? " (mine)" : ""}`],
      ["Kind", esc(words(a.kind))], ["Priority", esc(a.priority)], ["State", esc(a.state)],
      ["Version", String(a.version)], ["Start", utc(a.start)], ["End", utc(a.end)],
      ...(awaiting ? [["Not yet acknowledged by", awaiting]] : []),
    ])}
    <div class="row">${buttons}
      <button type="button" data-act="zoom" data-id="${esc(a.id)}">Show on map</button>
      <button type="button" data-act="kml" data-id="${esc(a.id)}">Download KML</button>
      <button type="button" data-act="notam" data-id="${esc(a.id)}">NOTAM draft</button></div>
    <pre id="notam" class="notam" hidden></pre>
    <p id="details-error" class="error" role="alert"></p>
    <h3>Volumes</h3><ol class="small">${vols}</ol>
    <h3>Conflicts</h3>${conflictRows ? `<ul class="small">${conflictRows}</ul>` : '<p class="muted small">None.</p>'}`;
  if (mine) {
    const notices = await app.api.get(`/v1/activities/${id}/notices`);
    const latest = notices.filter((n) => n.activity_version === a.version || n.status !== "superseded");
    html += `<h3>Who was told, and their answers</h3>
      ${latest.length ? `<table class="list" id="owner-notices"><thead><tr><th>Party</th><th>Notice</th>
      <th>Status</th><th>When</th></tr></thead><tbody>${latest.map((n) => noticeRow(app, n)).join("")}</tbody></table>`
        : '<p class="muted small">Nobody else is affected.</p>'}
      <div class="row"><button type="button" data-act="timeline" data-id="${esc(a.id)}">Timeline</button>
      <button type="button" data-act="report" data-id="${esc(a.id)}">Download report</button></div>
      <div id="timeline"></div>`;
  }
  html += await threadHtml(app, a, mine);
  html += "</article>";
  return { html, activity: a };
}

async function threadHtml(app, a, mine) {
  let messages = [];
  try {
    messages = await app.api.get(`/v1/activities/${a.id}/messages`);
  } catch {
    return "";
  }
  const items = messages.map((m) => `<div class="msg"><div class="meta">${esc(app.partyName(m.owner))}
    → ${esc(app.partyName(m.recipient))} · ${utc(m.sent_at)} · ${esc(words(m.template || "free_text"))}
    ${m.template === "cease_harm" ? flagHtml("urgent") : ""}</div>${esc(m.text || m.summary)}</div>`).join("");
  const options = app.config.message_templates
    .map((t) => `<option value="${esc(t)}">${esc(words(t))}</option>`).join("");
  const recipients = mine ? [...new Set(app.conflicts
    .filter((c) => c.activity.id === a.id || c.other.id === a.id)
    .map((c) => (c.activity.id === a.id ? c.other.owner : c.activity.owner)))] : [];
  const to = mine ? `<label for="msg-to">To</label><select id="msg-to">${recipients
    .map((p) => `<option value="${esc(p)}">${esc(app.partyName(p))}</option>`).join("")}</select>` : "";
  const form = app.canWrite && (!mine || recipients.length) ? `<form id="msg-form" data-id="${esc(a.id)}">
    ${to}<label for="msg-template">Template</label><select id="msg-template">${options}</select>
    <label for="msg-text">Message</label><textarea id="msg-text" rows="2" maxlength="4000"></textarea>
    <div class="row"><button type="submit">Send on the hotline</button></div></form>` : "";
  return `<h3>Hotline thread</h3><div class="thread" id="thread">${items || '<p class="muted small">No messages.</p>'}</div>${form}`;
}

export function timelineHtml(t) {
  const events = (t.events || []).map((e) => `<tr><td class="t">${utc(e.time)}</td><td>${esc(e.what)}</td>
    <td>${esc(e.party || "")}</td><td>${esc(e.details)}</td></tr>`).join("");
  return `<table class="list"><thead><tr><th>When</th><th>What</th><th>Party</th><th>Details</th></tr></thead>
    <tbody>${events || '<tr><td colspan="4">Nothing recorded.</td></tr>'}</tbody></table>`;
}

export function siteDetails(app, s) {
  return `<article class="details"><h2>Protected site: ${esc(s.name)}</h2>${facts([
    ["Category", esc(words(s.category))], ["Valid", `${utc(s.valid_from)} → ${utc(s.valid_to)}`],
    ["Altitudes", `${altitude(s.altitude_lower_m)}–${altitude(s.altitude_upper_m)}`],
    ["Buffer", metres(s.buffer_m)], ["Version", String(s.version)],
  ])}</article>`;
}

export function trackDetails(app, t) {
  return `<article class="details"><h2>Track ${esc(t.callsign || t.key)}</h2>${facts([
    ["Party", esc(app.partyName(t.party))], ["Source", esc(t.source)], ["Time", utc(t.time)],
    ["Position", `${t.lat.toFixed(5)}, ${t.lon.toFixed(5)}`],
    ["Altitude", `${altitude(t.altitude_m)} (${esc(t.altitude_ref)})`],
    ["Ground speed", t.ground_speed_mps === null ? "—" : `${Math.round(t.ground_speed_mps / 0.514444)} kt`],
    ["Track", t.track_deg === null ? "—" : `${Math.round(t.track_deg)}°`],
    ["ICAO address", esc(t.icao24 || "—")],
    ["Activity", t.activity_id ? esc(t.activity_id) : "none"],
  ])}</article>`;
}

