// The map: Natural Earth outlines (shipped), optional raster tiles, and the 4D volumes of
// activities and protected sites, shown only when live at the map time and inside the
// altitude filter. Own volumes are solid, others' dashed, conflicting ones heavy and red
// (and named so in their tooltip): colour is never the only signal.
/* global L, topojson */
import { FT, esc, utc, words } from "./format.js";

const STYLE = {
  own: { color: "#1f5fbf", weight: 2, fillOpacity: 0.12 },
  other: { color: "#b35c00", weight: 2, dashArray: "8 6", fillOpacity: 0.1 },
  site: { color: "#1a7f37", weight: 2, dashArray: "2 5", fillOpacity: 0.15 },
  conflict: { color: "#c4122f", weight: 4, fillOpacity: 0.2 },  // over own/other: keeps the dash
  overlap: { color: "#c4122f", weight: 1, fillColor: "#c4122f", fillOpacity: 0.45 },
};

export function createMap(element, config) {
  const renderer = L.canvas({ padding: 0.3 });
  const map = L.map(element, {
    renderer,
    preferCanvas: true,
    worldCopyJump: true,
    minZoom: 2,
    zoomSnap: 0.5,
    keyboard: true,
  }).setView([48.5, 5], 5);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Natural Earth (public domain)");
  const basemap = L.layerGroup().addTo(map);
  fetch("/static/vendor/world-atlas/countries-50m.json")
    .then((r) => r.json())
    .then((topo) => {
      const land = topojson.feature(topo, topo.objects.land);
      L.geoJSON(land, {
        renderer, interactive: false,
        style: { color: "#8c8c7a", weight: 0.8, fillColor: "#f2f0e6", fillOpacity: 1 },
      }).addTo(basemap);
      const borders = topojson.mesh(topo, topo.objects.countries, (a, b) => a !== b);
      L.geoJSON(borders, {
        renderer, interactive: false, style: { color: "#9a8fa8", weight: 0.8, dashArray: "4 3" },
      }).addTo(basemap);
    })
    .catch((err) => console.warn("basemap:", err.message));
  if (config.tiles) {
    L.tileLayer(config.tiles.url, {
      minZoom: config.tiles.min_zoom,
      maxNativeZoom: config.tiles.max_zoom,
      attribution: esc(config.tiles.attribution || ""),
    }).addTo(map);
  }
  return { map, renderer };
}

function volumeLayer(feature, style, renderer) {
  const g = feature.geometry || {};
  if (g.type === "Point" && feature.properties?.radius_m) {
    const [lon, lat] = g.coordinates;
    return L.circle([lat, lon], { radius: feature.properties.radius_m, renderer, ...style });
  }
  return L.geoJSON(feature, { renderer, style: () => style });
}

function band(props) {
  return [props.altitude_lower_m ?? -Infinity, props.altitude_upper_m ?? Infinity];
}

// Everything drawn from the hub's activities, sites and conflicts, with the time filter.
export class Volumes {
  constructor(map, renderer, onSelect) {
    this.map = map;
    this.renderer = renderer;
    this.onSelect = onSelect;
    this.group = L.layerGroup().addTo(map);
    this.overlaps = L.layerGroup().addTo(map);
    this.items = [];
    this.time = new Date();
    this.nextChange = Infinity;
    this.altMinFt = null;
    this.altMaxFt = null;
    this.status = document.getElementById("map-status");
  }

  set(activities, sites, conflicted, myPartyId) {
    this.group.clearLayers();
    this.items = [];
    for (const a of activities) {
      const mine = a.owner === myPartyId;
      const inConflict = conflicted.has(a.id);
      const base = mine ? STYLE.own : STYLE.other;  // others' stay dashed when in conflict
      const style = inConflict ? { ...base, ...STYLE.conflict, dashArray: base.dashArray } : base;
      const dead = ["cancelled", "ended"].includes(a.state);
      (a.volumes?.features || []).forEach((f, i) => {
        const layer = volumeLayer(f, dead ? { ...style, opacity: 0.35, fillOpacity: 0.03 } : style,
          this.renderer);
        const p = f.properties || {};
        const flag = inConflict ? "CONFLICT — " : "";
        layer.bindTooltip(
          `${flag}${esc(a.title)} (${mine ? "mine" : "affects me"}, ${esc(words(a.kind))}, ` +
          `${esc(a.state)})<br>volume ${i + 1}: ${utc(p.time_start)} → ${utc(p.time_end)}`,
          { sticky: true });
        layer.on("click", () => this.onSelect({ type: "activity", id: a.id }));
        this.items.push({
          layer, start: new Date(p.time_start), end: new Date(p.time_end), band: band(p),
          kind: "activity", id: a.id,
        });
      });
    }
    for (const s of sites) {
      const feature = s.footprint?.type === "Feature" ? s.footprint : { type: "Feature", geometry: s.footprint, properties: {} };
      const layer = volumeLayer(feature, STYLE.site, this.renderer);
      layer.bindTooltip(`Protected site: ${esc(s.name)} (${esc(words(s.category))})`, { sticky: true });
      layer.on("click", () => this.onSelect({ type: "site", id: s.id }));
      this.items.push({
        layer, start: new Date(s.valid_from), end: new Date(s.valid_to),
        band: [s.altitude_lower_m ?? -Infinity, s.altitude_upper_m ?? Infinity], kind: "site", id: s.id,
      });
    }
    this.apply();
  }

  showOverlaps(features) {
    this.overlaps.clearLayers();
    for (const f of features) {
      L.geoJSON(f, { renderer: this.renderer, style: () => STYLE.overlap, interactive: false })
        .addTo(this.overlaps);
    }
  }

  setFilter(time, altMinFt, altMaxFt) {
    this.time = time;
    this.altMinFt = altMinFt;
    this.altMaxFt = altMaxFt;
    this.apply();
  }

  // Show each volume live at the map time whose altitude band meets the filter.
  apply() {
    performance.mark("console-filter-start");
    const t = this.time.getTime();
    const lo = this.altMinFt === null ? -Infinity : this.altMinFt * FT;
    const hi = this.altMaxFt === null ? Infinity : this.altMaxFt * FT;
    let shown = 0;
    let next = Infinity;  // the next start or end after the map time: the live map re-filters then
    for (const it of this.items) {
      const s = it.start.getTime();
      const e = it.end.getTime();
      if (s > t && s < next) next = s;
      if (e > t && e < next) next = e;
      const live = s <= t && t < e && it.band[0] <= hi && it.band[1] >= lo;
      const on = this.group.hasLayer(it.layer);
      if (live && !on) this.group.addLayer(it.layer);
      else if (!live && on) this.group.removeLayer(it.layer);
      if (live) shown += 1;
    }
    this.shown = shown;
    this.nextChange = next;
    this.status.textContent = `${shown} of ${this.items.length} volumes live at ${utc(this.time)}`;
    this.status.dataset.shown = String(shown);
    this.status.dataset.total = String(this.items.length);
    performance.measure("console-filter", "console-filter-start");
  }

  focus(kind, id) {
    const layers = this.items.filter((it) => it.kind === kind && it.id === id).map((it) => it.layer);
    if (!layers.length) return;
    const bounds = L.latLngBounds([]);
    for (const layer of layers) {
      bounds.extend(layer instanceof L.Circle
        ? layer.getLatLng().toBounds(layer.getRadius() * 2) : layer.getBounds());
    }
    if (bounds.isValid()) this.map.fitBounds(bounds, { maxZoom: 11, padding: [30, 30] });
  }
}
