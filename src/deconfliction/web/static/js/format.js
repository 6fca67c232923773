// Formatting for people: UTC times, durations, distances, altitudes. Flags are words.

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

export function utc(iso) {
  if (!iso) return "—";
  const d = iso instanceof Date ? iso : new Date(iso);
  return d.toISOString().slice(0, 16).replace("T", " ") + "Z";
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const sign = seconds < 0 ? "−" : "";
  let s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return `${sign}${d} d ${h} h`;
  if (h) return `${sign}${h} h ${m} min`;
  if (m) return `${sign}${m} min ${s} s`;
  return `${sign}${s} s`;
}

export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(r)}` : `${pad(m)}:${pad(r)}`;
}

export function metres(m) {
  if (m === null || m === undefined) return "—";
  return m >= 10000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`;
}

export const FT = 0.3048;

export function altitude(m) {
  if (m === null || m === undefined) return "—";
  return `${Math.round(m / FT).toLocaleString("en")} ft`;
}

export function words(snake) {
  return String(snake ?? "").replaceAll("_", " ");
}

export function flagHtml(name, cls = name) {
  return `<span class="flag ${esc(cls)}">${esc(name.toUpperCase())}</span>`;
}

// datetime-local values are read and written as UTC.
export function toLocalInput(date) {
  return date.toISOString().slice(0, 16);
}

export function fromLocalInput(value) {
  if (!value) return null;
  const d = new Date(`${value.length === 16 ? `${value}:00` : value}Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}
