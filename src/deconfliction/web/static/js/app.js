// The console: sign-in, the map, the inbox and the panels, kept live from the party's event
// stream (and the track table, polled every second).
/* global L */
import { Api, ApiError, publicConfig } from "./api.js";
import { activityDetails, siteDetails, timelineHtml, trackDetails } from "./details.js";
import { DrawPanel } from "./draw.js";
import { esc, utc } from "./format.js";
import { isUrgent, renderAlerts, renderNotices, tickCountdowns, waitingOnMe } from "./inbox.js";
import { createMap, Volumes } from "./mapview.js";
import { EventStream } from "./stream.js";
import { TrackLayer } from "./tracks.js";

const TOKEN_KEY = "deconfliction.token";
const TRACK_POLL_MS = 1000;
const LINKS_POLL_MS = 15000;
const PAST_H = 6;
const AHEAD_H = 48;
const $ = (id) => document.getElementById(id);

class Console {
  constructor(config) {
    this.config = config;
    this.api = null;
    this.me = null;
    this.parties = new Map();
    this.activities = [];
    this.sites = [];
    this.conflicts = [];
    this.notices = [];
    this.alerts = [];
    this.tracks = [];
    this.seenUrgent = new Set();
    this.timeOffsetMin = 0;
    this.selected = null;
    this.pending = new Set();
    this.flushTimer = null;
  }

  get canWrite() {
    return this.me && this.me.role !== "observer";
  }

  partyName(id) {
    if (!id) return "—";
    return this.parties.get(id)?.name || `party ${String(id).slice(0, 8)}`;
  }

  // ---------------------------------------------------------------- sign-in

  async signIn(token) {
    const api = new Api(token);
    const me = await api.get("/v1/me");
    sessionStorage.setItem(TOKEN_KEY, token);
    this.api = api;
    this.me = me;
    $("signin").hidden = true;
    $("top").hidden = false;
    $("layout").hidden = false;
    $("who").textContent = `${me.party.name} — ${me.role}`;
    document.body.dataset.role = me.role;
    this.start();
  }

  start() {
    const { map, renderer } = createMap($("map"), this.config);
    this.map = map;
    this.volumes = new Volumes(map, renderer, (sel) => this.select(sel));
    this.trackLayer = new TrackLayer(map);
    map.on("click", (e) => {
      if (this.draw?.drawing) return;
      const t = this.trackLayer.hit(e.containerPoint);
      if (t) this.select({ type: "track", track: t });
    });
    if (this.canWrite) {
      this.draw = new DrawPanel(this);
    } else {
      $("tab-draw").hidden = true;
    }
    this.wireUi();
    this.updateTime();
    this.refreshAll();
    this.stream = new EventStream(this.api.token, {
      onEvent: (e) => this.onEvent(e),
      onStatus: (text, ok) => {
        const chip = $("stream-status");
        chip.textContent = `stream: ${text}`;
        chip.className = `chip ${ok ? "ok" : "bad"}`;
      },
    });
    this.stream.start();
    this.pollTracks();
    setInterval(() => this.refreshLinks(), LINKS_POLL_MS);
    setInterval(() => {
      tickCountdowns(document);
      if (this.timeOffsetMin === 0) this.updateTime(false);
    }, 1000);
  }

  signOut() {
    this.stream?.stop();
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  }

  // ---------------------------------------------------------------- data

  async refreshAll() {
    await this.refreshParties();
    await Promise.all([this.refreshPicture(), this.refreshInbox(), this.refreshLinks()]);
  }

  async refreshParties() {
    try {
      const list = await this.api.get("/v1/parties");
      this.parties = new Map(list.map((p) => [p.id, p]));
    } catch (err) {
      this.report(err);
    }
  }

  async refreshPicture() {
    const now = Date.now();
    const start = new Date(now - PAST_H * 3600e3).toISOString();
    const end = new Date(now + AHEAD_H * 3600e3).toISOString();
    try {
      const q = new URLSearchParams({ scope: "all", start, end, limit: "10000" });
      const [activities, sites, conflicts] = await Promise.all([
        this.api.get(`/v1/activities?${q}`),
        this.api.get("/v1/sites"),
        this.api.get("/v1/conflicts?limit=2000"),
      ]);
      this.activities = activities;
      this.sites = sites;
      this.conflicts = conflicts;
      const conflicted = new Set();
      for (const c of conflicts) {
        if (c.status !== "open") continue;
        conflicted.add(c.activity.id);
        conflicted.add(c.other.id);
      }
      this.conflicted = conflicted;
      this.volumes.set(activities, sites, conflicted, this.me.party.id);
      this.renderActivities();
      if (this.selected?.type === "activity") this.select(this.selected, false);
    } catch (err) {
      this.report(err);
    }
  }

  async refreshInbox() {
    try {
      const [notices, alerts] = await Promise.all([
        this.api.get("/v1/notices?limit=500"),
        this.api.get("/v1/alerts"),
      ]);
      this.notices = notices;
      this.alerts = alerts;
      this.renderInbox();
      this.cueUrgent();
    } catch (err) {
      this.report(err);
    }
  }

  async refreshLinks() {
    try {
      const links = await this.api.get("/v1/links");
      $("links-table").tBodies[0].innerHTML = links.map((l) => `<tr><td>${esc(l.name)}</td>
        <td class="link-${esc(l.status)}">${esc(l.status)}</td><td>${utc(l.last_heartbeat)}</td></tr>`).join("");
      const down = links.filter((l) => l.status !== "normal").length;
      $("links-button").textContent = down ? `Links (${down} not normal)` : "Links";
    } catch (err) {
      this.report(err);
    }
  }

  async pollTracks() {
    try {
      const res = await this.api.request("GET", "/v1/tracks", { raw: true });
      performance.mark("console-update-start");
      const tracks = await res.json();
      this.tracks = tracks;
      const alerted = new Set();
      for (const a of this.alerts) for (const t of a.tracks) alerted.add(`${t.party}|${t.key}`);
      this.trackLayer.set(tracks, alerted);
      performance.measure("console-update", "console-update-start");
      $("map").dataset.tracks = String(tracks.length);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 429)) this.report(err);
    }
    setTimeout(() => this.pollTracks(), TRACK_POLL_MS);
  }

  // Events come in bursts: note what they touch, refresh each part once.
  onEvent(e) {
    const type = e.type || "";
    const family = type.split(".")[0];  // a new notice is "notice"; its steps "notice.read"…
    if (["notice", "message", "alert"].includes(family)) this.pending.add("inbox");
    if (["conflict", "activity", "site"].includes(family) || type === "notice") {
      this.pending.add("picture");
    }
    if (["notice", "message"].includes(family) && this.selected?.type === "activity") {
      this.pending.add("details");
    }
    if (type === "party.link") this.pending.add("links");
    const n = e.data?.notice;
    if (n && n.owner === this.me.party.id && (type === "notice.acknowledged" || type === "notice.objected")) {
      const verb = type === "notice.acknowledged" ? "acknowledged" : `objected (“${n.objection}”)`;
      this.toast(`${this.partyName(n.recipient)} ${verb}: ${n.summary}`);
    }
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), 200);
  }

  flush() {
    this.flushTimer = null;
    const todo = this.pending;
    this.pending = new Set();
    if (todo.has("inbox")) this.refreshInbox();
    if (todo.has("picture")) this.refreshPicture();
    else if (todo.has("details") && this.selected) this.select(this.selected, false);
    if (todo.has("links")) this.refreshLinks();
  }

  // ---------------------------------------------------------------- rendering

  renderInbox() {
    // A re-render must not close an objection being written, nor lose its text or focus.
    const open = new Map([...document.querySelectorAll("form.object-form:not([hidden])")]
      .map((f) => [f.dataset.id, f.querySelector("textarea").value]));
    const focused = document.activeElement?.id;
    renderAlerts($("alerts"), this.alerts, (id) => this.partyName(id));
    renderNotices($("notices"), this.notices, {
      names: (id) => this.partyName(id),
      canAnswer: this.canWrite,
      openOnly: $("inbox-open-only").checked,
    });
    for (const [id, text] of open) {
      const form = document.querySelector(`form.object-form[data-id="${CSS.escape(id)}"]`);
      if (!form) continue;
      form.hidden = false;
      form.querySelector("textarea").value = text;
      document.querySelector(`button[data-act="object"][data-id="${CSS.escape(id)}"]`)
        ?.setAttribute("aria-expanded", "true");
    }
    if (focused && document.activeElement?.id !== focused) document.getElementById(focused)?.focus();
    const waiting = this.notices.filter(waitingOnMe).length + this.alerts.length;
    $("inbox-count").textContent = waiting ? String(waiting) : "";
  }

  renderActivities() {
    const me = this.me.party.id;
    const rows = [...this.activities].sort((a, b) => (a.start < b.start ? -1 : 1)).map((a) => {
      const mine = a.owner === me;
      const conflict = this.conflicted.has(a.id);
      return `<li class="card ${conflict ? "conflict" : mine ? "" : "other"}" data-activity="${esc(a.id)}">
        <h3>${conflict ? '<span class="flag conflict">CONFLICT</span>' : ""}
          <button type="button" class="linkish" data-act="open" data-activity="${esc(a.id)}">${esc(a.title)}</button></h3>
        <div class="meta">${mine ? "mine" : `${esc(this.partyName(a.owner))} — affects me`} · ${esc(a.kind)}
          · ${esc(a.state)} · ${utc(a.start)} → ${utc(a.end)}</div></li>`;
    });
    $("activities").innerHTML = rows.join("") || '<li class="muted">No activities in the next 48 hours.</li>';
    $("sites").innerHTML = this.sites.map((s) => `<li class="card site"><h3><button type="button"
      class="linkish" data-act="site" data-id="${esc(s.id)}">${esc(s.name)}</button></h3>
      <div class="meta">${esc(s.category)} · ${utc(s.valid_from)} → ${utc(s.valid_to)}</div></li>`).join("")
      || '<li class="muted">No protected sites.</li>';
  }

  cueUrgent() {
    const fresh = [...this.notices.filter((n) => isUrgent(n) && waitingOnMe(n)), ...this.alerts]
      .filter((x) => !this.seenUrgent.has(x.id || x.key));
    if (!fresh.length) return;
    for (const x of fresh) this.seenUrgent.add(x.id || x.key);
    const banner = $("urgent");
    banner.hidden = false;
    banner.textContent = `URGENT: ${fresh.map((x) => x.summary || `${x.kind} alert`).join(" · ")}`;
    this.beep();
    setTimeout(() => { banner.hidden = true; }, 15000);
  }

  beep() {
    try {
      this.audio = this.audio || new AudioContext();
      const osc = this.audio.createOscillator();
      const gain = this.audio.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.15;
      osc.connect(gain).connect(this.audio.destination);
      osc.start();
      osc.stop(this.audio.currentTime + 0.4);
    } catch {
      // No audio device: the banner is the cue.
    }
  }

  toast(text) {
    const el = document.createElement("div");
    el.className = "toast";
    el.setAttribute("role", "status");
    el.textContent = text;
    document.body.appendChild(el);
    setTimeout(() => el.remove(), 8000);
  }

  report(err) {
    if (err instanceof ApiError && err.status === 401) {
      this.signOut();
      return;
    }
    console.warn(err.message);
    this.toast(err.message);
  }

  // ---------------------------------------------------------------- selection

  async select(sel, show = true) {
    this.selected = sel;
    const box = $("details");
    try {
      if (sel.type === "activity") {
        const { html, activity } = await activityDetails(this, sel.id);
        box.innerHTML = html;
        this.selectedActivity = activity;
      } else if (sel.type === "site") {
        const s = this.sites.find((x) => x.id === sel.id);
        box.innerHTML = s ? siteDetails(this, s) : "";
      } else if (sel.type === "track") {
        box.innerHTML = trackDetails(this, sel.track);
      }
      if (show) this.showTab("details");
    } catch (err) {
      box.innerHTML = `<p class="error">${esc(err.message)}</p>`;
    }
  }

  async lifecycle(action, id) {
    const a = this.selectedActivity;
    try {
      await this.api.post(`/v1/activities/${id}/${action}`, undefined, { "If-Match": `"${a.version}"` });
      await this.refreshPicture();
      await this.select({ type: "activity", id }, false);
      this.toast(`Activity ${action === "end" ? "ended" : `${action}${action.endsWith("e") ? "d" : "ed"}`}; the parties it affects are told.`);
    } catch (err) {
      const box = $("details-error");
      if (box) box.textContent = err.message;
    }
  }

  async showOverlap(conflictId) {
    try {
      const c = await this.api.get(`/v1/conflicts/${conflictId}?geometry=true`);
      const features = c.overlaps.filter((o) => o.intersection).map((o) => (
        o.intersection.type === "Feature" ? o.intersection : { type: "Feature", geometry: o.intersection, properties: {} }));
      this.volumes.showOverlaps(features);
      if (features.length) this.map.fitBounds(L.geoJSON(features).getBounds(), { maxZoom: 12 });
    } catch (err) {
      this.report(err);
    }
  }

  async download(path, name) {
    try {
      const res = await this.api.request("GET", path, { raw: true });
      const blob = await res.blob();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = name;
      document.body.appendChild(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    } catch (err) {
      this.report(err);
    }
  }

  // ---------------------------------------------------------------- controls

  showTab(name) {
    for (const tab of document.querySelectorAll('[role="tab"]')) {
      const on = tab.id === `tab-${name}`;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      $(tab.getAttribute("aria-controls")).hidden = !on;
    }
  }

  updateTime(apply = true) {
    const t = new Date(Date.now() + this.timeOffsetMin * 60e3);
    const rel = this.timeOffsetMin === 0 ? "now (live)"
      : `${this.timeOffsetMin > 0 ? "+" : "−"}${Math.floor(Math.abs(this.timeOffsetMin) / 60)} h ${Math.abs(this.timeOffsetMin) % 60} min`;
    $("time-value").textContent = `${utc(t)} — ${rel}`;
    const num = (id) => ($(id).value === "" ? null : Number($(id).value));
    if (apply || t.getTime() >= this.volumes.nextChange) {
      this.volumes.setFilter(t, num("alt-min"), num("alt-max"));
    }
  }

  wireUi() {
    const tabs = [...document.querySelectorAll('[role="tab"]')].filter((t) => !t.hidden);
    tabs.forEach((tab, i) => {
      tab.addEventListener("click", () => this.showTab(tab.id.slice(4)));
      tab.addEventListener("keydown", (e) => {
        const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
        if (!step) return;
        const next = tabs[(i + step + tabs.length) % tabs.length];
        next.focus();
        this.showTab(next.id.slice(4));
      });
    });
    $("signout-button").addEventListener("click", () => this.signOut());
    $("links-button").addEventListener("click", () => {
      const panel = $("links-panel");
      panel.hidden = !panel.hidden;
      $("links-button").setAttribute("aria-expanded", String(!panel.hidden));
      if (!panel.hidden) this.refreshLinks();
    });
    $("time-slider").addEventListener("input", (e) => {
      this.timeOffsetMin = Number(e.target.value);
      this.updateTime();
    });
    $("time-now").addEventListener("click", () => {
      this.timeOffsetMin = 0;
      $("time-slider").value = "0";
      this.updateTime();
    });
    for (const id of ["alt-min", "alt-max"]) $(id).addEventListener("input", () => this.updateTime());
    $("inbox-open-only").addEventListener("change", () => this.renderInbox());
    document.addEventListener("click", (e) => this.onClick(e));
    document.addEventListener("submit", (e) => this.onSubmit(e));
  }

  async onClick(e) {
    const b = e.target.closest("button[data-act]");
    if (!b) return;
    const { act, id } = b.dataset;
    if (act === "open") this.select({ type: "activity", id: b.dataset.activity });
    else if (act === "site") this.select({ type: "site", id });
    else if (act === "zoom") this.volumes.focus("activity", id);
    else if (act === "overlap") this.showOverlap(id);
    else if (["activate", "end", "cancel"].includes(act)) this.lifecycle(act, id);
    else if (act === "amend") this.draw?.amend(this.selectedActivity);
    else if (act === "report") this.download(`/console/activities/${id}/report`, `activity-${id}.html`);
    else if (act === "kml") this.download(`/v1/activities/${id}/kml`, `activity-${id}.kml`);
    else if (act === "notam") {
      try {
        const res = await this.api.request("GET", `/v1/activities/${id}/notam`, { raw: true });
        const pre = $("notam");
        pre.textContent = await res.text();
        pre.hidden = false;
      } catch (err) {
        this.report(err);
      }
    }
    else if (act === "timeline") {
      try {
        $("timeline").innerHTML = timelineHtml(await this.api.get(`/v1/activities/${id}/timeline`));
      } catch (err) {
        this.report(err);
      }
    } else if (act === "ack") {
      b.disabled = true;
      try {
        await this.api.post(`/v1/notices/${id}/acknowledge`);
        await this.refreshInbox();
      } catch (err) {
        b.disabled = false;
        this.report(err);
      }
    } else if (act === "object") {
      const form = document.querySelector(`form.object-form[data-id="${CSS.escape(id)}"]`);
      form.hidden = !form.hidden;
      b.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) form.querySelector("textarea").focus();
    }
  }

  async onSubmit(e) {
    const form = e.target;
    if (form.classList.contains("object-form")) {
      e.preventDefault();
      const reason = form.querySelector("textarea").value.trim();
      if (!reason) {
        form.querySelector("textarea").focus();
        return;
      }
      try {
        await this.api.post(`/v1/notices/${form.dataset.id}/object`, { reason });
        await this.refreshInbox();
      } catch (err) {
        this.report(err);
      }
    } else if (form.id === "msg-form") {
      e.preventDefault();
      const body = { template: $("msg-template").value, text: $("msg-text").value };
      if ($("msg-to")) body.to = $("msg-to").value;
      try {
        await this.api.post(`/v1/activities/${form.dataset.id}/messages`, body);
        await this.select({ type: "activity", id: form.dataset.id }, false);
      } catch (err) {
        this.report(err);
      }
    }
  }
}

async function main() {
  // The form is taken over before anything else (the button stays disabled until then), so
  // a token can never be submitted natively, i.e. into a URL.
  const form = $("signin-form");
  const error = $("signin-error");
  let app = null;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!app) return;
    error.textContent = "";
    const token = $("signin-token").value.trim();
    if (!token) {
      error.textContent = "Enter your party's token.";
      return;
    }
    $("signin-button").disabled = true;
    try {
      await app.signIn(token);
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401
        ? `That token was not accepted by the hub: ${err.message}`
        : `Cannot sign in: ${err.message}`;
      $("signin-token").select();
    } finally {
      $("signin-button").disabled = false;
    }
  });
  let config;
  try {
    config = await publicConfig();
  } catch (err) {
    error.textContent = `The hub cannot be reached: ${err.message}`;
    return;
  }
  app = new Console(config);
  window.deconflictionConsole = app;
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    try {
      await app.signIn(saved);
      return;
    } catch {
      sessionStorage.removeItem(TOKEN_KEY);
    }
  }
  $("signin-button").disabled = false;
  $("signin-token").focus();
}

main();
