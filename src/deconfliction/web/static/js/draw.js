// Draw and file: a polygon or circle drawn on the map (Leaflet-Geoman) or typed as text,
// altitudes in ft, FL or m, UTC times, the kind → the dry run shows conflicts, lead time and
// the late flag before anything is filed → file (or amend an activity of mine).
/* global L */
import { idempotencyKey } from "./api.js";
import { duration, esc, flagHtml, fromLocalInput, metres, toLocalInput, words } from "./format.js";

const $ = (id) => document.getElementById(id);

export class DrawPanel {
  constructor(app) {
    this.app = app;
    this.map = app.map;
    this.shape = null;        // {type: "polygon", points: [[lat, lon]…]} | {type: "circle", center, radius}
    this.layer = null;
    this.checked = false;
    this.amending = null;     // the activity being amended
    this.map.pm.setGlobalOptions({ snappable: false, continueDrawing: false });
    this.map.on("pm:create", (e) => this.created(e));
    $("draw-polygon").addEventListener("click", () => this.start("Polygon"));
    $("draw-circle").addEventListener("click", () => this.start("Circle"));
    $("draw-clear").addEventListener("click", () => this.clear());
    $("draw-coords-apply").addEventListener("click", () => this.fromText());
    $("draw-check").addEventListener("click", () => this.check());
    $("draw-form").addEventListener("submit", (e) => { e.preventDefault(); this.file(); });
    $("draw-cancel-amend").addEventListener("click", () => this.reset());
    for (const id of ["f-title", "f-kind", "f-priority", "f-lower", "f-upper", "f-unit", "f-start", "f-end"]) {
      $(id).addEventListener("input", () => this.invalidate());
    }
    $("f-kind").innerHTML = app.config.activity_kinds
      .map((k) => `<option value="${esc(k)}">${esc(words(k))}</option>`).join("");
    $("f-priority").innerHTML = app.config.priorities
      .map((k) => `<option value="${esc(k)}">${esc(k)}</option>`).join("");
    this.defaultTimes();
  }

  get drawing() {
    return this.map.pm.globalDrawModeEnabled();
  }

  defaultTimes() {
    const start = new Date(Math.ceil((Date.now() + 2 * 3600e3) / 900e3) * 900e3);
    $("f-start").value = toLocalInput(start);
    $("f-end").value = toLocalInput(new Date(start.getTime() + 2 * 3600e3));
  }

  start(mode) {
    this.clear();
    this.map.pm.enableDraw(mode, { finishOn: mode === "Polygon" ? "dblclick" : null });
    $("draw-shape").textContent = mode === "Polygon"
      ? "Click the corners on the map; click the first corner (or double-click) to finish."
      : "Click the centre on the map, then click again at the edge.";
  }

  created(e) {
    if (this.layer) this.map.removeLayer(this.layer);
    this.layer = e.layer;
    if (e.shape === "Circle") {
      const c = e.layer.getLatLng();
      this.shape = { type: "circle", center: [c.lat, c.lng], radius: e.layer.getRadius() };
    } else {
      const ring = e.layer.getLatLngs()[0];
      this.shape = { type: "polygon", points: ring.map((p) => [p.lat, p.lng]) };
    }
    e.layer.on("pm:edit", () => this.created({ layer: e.layer, shape: e.shape }));
    this.describe();
    this.invalidate();
  }

  fromText() {
    const text = $("draw-coords").value.trim();
    const num = "(-?\\d+(?:\\.\\d+)?)";
    const circle = text.match(new RegExp(`^${num}\\s*,\\s*${num}\\s+r\\s*=\\s*(\\d+(?:\\.\\d+)?)$`));
    let layer;
    let shape;
    if (circle) {
      const [lat, lon, r] = circle.slice(1).map(Number);
      shape = { type: "circle", center: [lat, lon], radius: r };
      layer = L.circle([lat, lon], { radius: r });
    } else {
      const points = text.split(";").map((s) => s.split(",").map((x) => Number(x.trim())));
      const ok = points.length >= 3 && points.every((p) => p.length === 2 && p.every(Number.isFinite)
        && Math.abs(p[0]) <= 90 && Math.abs(p[1]) <= 180);
      if (!ok) {
        $("draw-shape").textContent = "Not understood: give at least three “lat,lon” corners separated by “;”, or “lat,lon r=metres”.";
        return;
      }
      shape = { type: "polygon", points };
      layer = L.polygon(points);
    }
    this.clear();
    this.shape = shape;
    this.layer = layer.addTo(this.map);
    this.map.fitBounds(layer.getBounds(), { maxZoom: 11 });
    this.describe();
    this.invalidate();
  }

  describe() {
    const s = this.shape;
    $("draw-shape").textContent = !s ? "No area yet."
      : s.type === "circle"
        ? `Circle of ${metres(s.radius)} radius at ${s.center[0].toFixed(5)}, ${s.center[1].toFixed(5)}.`
        : `Polygon with ${s.points.length} corners.`;
  }

  clear() {
    this.map.pm.disableDraw();
    if (this.layer) this.map.removeLayer(this.layer);
    this.layer = null;
    this.shape = null;
    this.describe();
    this.invalidate();
  }

  invalidate() {
    this.checked = false;
    $("draw-file").disabled = true;
  }

  // The activity body from the drawing and the form, or an error message.
  body() {
    if (!this.shape) return { error: "Draw or type the area first." };
    const title = $("f-title").value.trim();
    if (!title) return { error: "Give the activity a title." };
    const lower = Number($("f-lower").value);
    const upper = Number($("f-upper").value);
    if (!Number.isFinite(lower) || !Number.isFinite(upper) || $("f-lower").value === "" || $("f-upper").value === "") {
      return { error: "Give both altitudes." };
    }
    if (lower >= upper) return { error: "The lower altitude must be below the upper one." };
    const start = fromLocalInput($("f-start").value);
    const end = fromLocalInput($("f-end").value);
    if (!start || !end) return { error: "Give the start and end times (UTC)." };
    if (end <= start) return { error: "The end must be after the start." };
    const unit = $("f-unit").value;
    const props = {
      [`altitude_lower_${unit}`]: lower,
      [`altitude_upper_${unit}`]: upper,
      time_start: start.toISOString(),
      time_end: end.toISOString(),
    };
    const s = this.shape;
    let geometry;
    if (s.type === "circle") {
      geometry = { type: "Point", coordinates: [s.center[1], s.center[0]] };
      props.radius_m = s.radius;
    } else {
      const ring = s.points.map(([lat, lon]) => [lon, lat]);
      ring.push(ring[0]);
      geometry = { type: "Polygon", coordinates: [ring] };
    }
    return {
      body: {
        kind: $("f-kind").value,
        title,
        priority: $("f-priority").value,
        remarks: $("f-remarks").value,
        // Amending: the first volume is the one edited here; the others are kept as they are.
        volumes: {
          type: "FeatureCollection",
          features: [{ type: "Feature", geometry, properties: props },
            ...(this.amending ? this.amending.volumes.features.slice(1) : [])],
        },
      },
    };
  }

  async check() {
    const out = $("draw-result");
    const { body, error } = this.body();
    if (error) {
      out.innerHTML = `<p class="error">${esc(error)}</p>`;
      return;
    }
    out.innerHTML = '<p class="muted">Checking…</p>';
    try {
      const r = await this.app.api.post("/v1/activities/check", body);
      this.checked = true;
      $("draw-file").disabled = false;
      out.innerHTML = this.describeCheck(r);
    } catch (err) {
      out.innerHTML = `<p class="error">The check failed: ${esc(err.message)}</p>`;
    }
  }

  describeCheck(r) {
    const conflicts = r.conflicts || [];
    const rows = conflicts.map((c) => {
      const who = this.app.partyName(c.other_owner);
      const near = Math.min(...c.overlaps.map((o) => o.horizontal_distance_m));
      const overlap = c.overlaps.some((o) => o.horizontal_distance_m === 0 && o.vertical_gap_m === 0 && o.time_gap_s === 0);
      return `<li>${flagHtml("conflict")}with ${esc(who)}'s ${esc(words(c.other_type))}: ` +
        `${c.overlaps.length} overlap${c.overlaps.length === 1 ? "" : "s"}` +
        `${overlap ? " (the areas overlap in space and time)" : `, ${metres(near)} apart at the closest`}</li>`;
    }).join("");
    const late = r.late ? flagHtml("late") : flagHtml("on time", "ok");
    return `<div class="box" data-check="done" data-conflicts="${conflicts.length}">
      <p>${late} lead time ${duration(r.lead_time_s)} (policy asks ${duration(r.required_lead_time_s)}).</p>
      <p><strong>${conflicts.length}</strong> conflict${conflicts.length === 1 ? "" : "s"}${conflicts.length ? ":" : " — nobody else is affected."}</p>
      <ul>${rows}</ul>
      <p class="muted small">Nothing has been filed or sent yet.${r.late ? " A late filing is flagged to everyone it affects, never refused." : ""}</p>
    </div>`;
  }

  async file() {
    const out = $("draw-result");
    const { body, error } = this.body();
    if (error || !this.checked) {
      out.innerHTML = `<p class="error">${esc(error || "Check the conflicts first.")}</p>`;
      return;
    }
    $("draw-file").disabled = true;
    try {
      let r;
      if (this.amending) {
        r = await this.app.api.put(`/v1/activities/${this.amending.id}`, body,
          { "If-Match": `"${this.amending.version}"` });
      } else {
        r = await this.app.api.post("/v1/activities", body, { "Idempotency-Key": idempotencyKey() });
      }
      const told = (r.notices || []).map((n) => this.app.partyName(n.recipient));
      out.innerHTML = `<div class="box" data-filed="${esc(r.activity.id)}">
        <p><strong>${this.amending ? "Amended" : "Filed"}</strong>: ${esc(r.activity.title)} (version ${r.activity.version}).
        ${r.late ? flagHtml("late") : ""}</p>
        <p>${told.length ? `Told at once: ${told.map(esc).join(", ")}.` : "Nobody else is affected."}</p></div>`;
      const id = r.activity.id;
      this.reset(false);
      await this.app.refreshPicture();
      this.app.select({ type: "activity", id });
    } catch (err) {
      $("draw-file").disabled = false;
      out.innerHTML = `<p class="error">Not filed: ${esc(err.message)}</p>`;
    }
  }

  // Load one of my activities into the form to amend it (its first volume's shape).
  amend(activity) {
    this.reset();
    this.amending = activity;
    const more = activity.volumes.features.length - 1;
    $("draw-title").textContent = `Amend: ${activity.title}` +
      (more ? ` (volume 1; its ${more} other volume${more > 1 ? "s are" : " is"} kept)` : "");
    $("draw-cancel-amend").hidden = false;
    $("draw-file").textContent = "File amendment";
    const f = activity.volumes.features[0];
    const p = f.properties;
    $("f-title").value = activity.title;
    $("f-kind").value = activity.kind;
    $("f-priority").value = activity.priority;
    $("f-unit").value = "m";
    $("f-lower").value = p.altitude_lower_m;
    $("f-upper").value = p.altitude_upper_m;
    $("f-start").value = toLocalInput(new Date(p.time_start));
    $("f-end").value = toLocalInput(new Date(p.time_end));
    const g = f.geometry;
    if (g.type === "Point") {
      $("draw-coords").value = `${g.coordinates[1]},${g.coordinates[0]} r=${p.radius_m}`;
    } else {
      const ring = g.coordinates[0].slice(0, -1);
      $("draw-coords").value = ring.map(([lon, lat]) => `${lat},${lon}`).join("; ");
    }
    this.fromText();
    this.app.showTab("draw");
  }

  reset(clearResult = true) {
    this.clear();
    this.amending = null;
    $("draw-title").textContent = "New activity";
    $("draw-cancel-amend").hidden = true;
    $("draw-file").textContent = "File activity";
    $("draw-form").reset();
    $("draw-coords").value = "";
    this.defaultTimes();
    if (clearResult) $("draw-result").innerHTML = "";
  }
}
