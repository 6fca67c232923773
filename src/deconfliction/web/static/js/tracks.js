// Live tracks drawn on one canvas over the map: an arrow along the track angle, a leader
// line to where the track will be in a minute, and a label. Tracks named by an open alert
// are red, larger and labelled "ALERT". One canvas redraw per update keeps 5,000 tracks
// well inside the console's 200 ms budget.

const LEADER_S = 60;
const M_PER_DEG = 111320;
const LABEL_ZOOM = 9;
const LABEL_MAX = 400;

export class TrackLayer {
  constructor(map) {
    this.map = map;
    this.tracks = [];
    this.alerted = new Set();
    this.canvas = document.createElement("canvas");
    this.canvas.className = "track-canvas";
    Object.assign(this.canvas.style, {
      position: "absolute", left: "0", top: "0", zIndex: "450", pointerEvents: "none",
    });
    this.canvas.setAttribute("aria-hidden", "true");
    map.getContainer().appendChild(this.canvas);
    this.xs = new Float32Array(0);
    this.ys = new Float32Array(0);
    const redraw = () => this.draw();
    map.on("move zoom resize viewreset", redraw);
  }

  set(tracks, alerted) {
    this.tracks = tracks;
    this.alerted = alerted;
    this.draw();
  }

  draw() {
    const size = this.map.getSize();
    const ratio = window.devicePixelRatio || 1;
    const c = this.canvas;
    if (c.width !== size.x * ratio || c.height !== size.y * ratio) {
      c.width = size.x * ratio;
      c.height = size.y * ratio;
      c.style.width = `${size.x}px`;
      c.style.height = `${size.y}px`;
    }
    const ctx = c.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, size.x, size.y);
    const n = this.tracks.length;
    if (this.xs.length < n) {
      this.xs = new Float32Array(n);
      this.ys = new Float32Array(n);
    }
    const labels = this.map.getZoom() >= LABEL_ZOOM || n <= LABEL_MAX;
    // Web Mercator by hand (what Leaflet's latLngToContainerPoint does, without an object
    // per call): world pixels at this zoom, less the container's top-left corner.
    const scale = 256 * 2 ** this.map.getZoom();
    const origin = this.map.project(this.map.containerPointToLatLng([0, 0]));
    const px = (lon) => ((lon + 180) / 360) * scale - origin.x;
    const py = (lat) => {
      const s = Math.sin((Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180);
      return (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale - origin.y;
    };
    ctx.lineWidth = 1.5;
    ctx.font = "11px sans-serif";
    for (let i = 0; i < n; i += 1) {
      const t = this.tracks[i];
      const p = { x: px(t.lon), y: py(t.lat) };
      this.xs[i] = p.x;
      this.ys[i] = p.y;
      if (p.x < -20 || p.y < -20 || p.x > size.x + 20 || p.y > size.y + 20) continue;
      const alert = this.alerted.has(`${t.party}|${t.key}`);
      const colour = alert ? "#c4122f" : "#6a1b9a";
      const rad = ((t.track_deg ?? 0) * Math.PI) / 180;
      const sin = Math.sin(rad);
      const cos = Math.cos(rad);
      const len = alert ? 9 : 6;
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      if (t.ground_speed_mps && t.track_deg !== null && t.track_deg !== undefined) {
        const d = t.ground_speed_mps * LEADER_S;
        const lat2 = t.lat + (d * cos) / M_PER_DEG;
        const lon2 = t.lon + (d * sin) / (M_PER_DEG * Math.max(0.01, Math.cos((t.lat * Math.PI) / 180)));
        const q = { x: px(lon2), y: py(lat2) };
        ctx.beginPath();
        ctx.moveTo(p.x, p.y);
        ctx.lineTo(q.x, q.y);
        ctx.stroke();
      }
      // An arrow pointing along the track (screen y grows southwards).
      ctx.beginPath();
      ctx.moveTo(p.x + sin * len, p.y - cos * len);
      ctx.lineTo(p.x - sin * len * 0.6 + cos * len * 0.6, p.y + cos * len * 0.6 + sin * len * 0.6);
      ctx.lineTo(p.x - sin * len * 0.6 - cos * len * 0.6, p.y + cos * len * 0.6 - sin * len * 0.6);
      ctx.closePath();
      ctx.fill();
      if (labels || alert) {
        ctx.fillText(`${alert ? "ALERT " : ""}${t.callsign || t.key}`, p.x + 8, p.y - 6);
      }
    }
  }

  // The track drawn nearest a container point, within `px` pixels.
  hit(point, px = 9) {
    let best = -1;
    let bestD = px * px;
    for (let i = 0; i < this.tracks.length; i += 1) {
      const dx = this.xs[i] - point.x;
      const dy = this.ys[i] - point.y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        bestD = d;
        best = i;
      }
    }
    return best < 0 ? null : this.tracks[best];
  }
}
