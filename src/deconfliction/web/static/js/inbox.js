// The hotline inbox: open alerts, then notices and messages with their lead time, flags and
// a countdown to the answer deadline; Acknowledge / Object (with a reason) on each.
import { clock, duration, esc, flagHtml, metres, utc, words } from "./format.js";

const ANSWERED = new Set(["acknowledged", "objected", "expired", "superseded"]);

export function isUrgent(n) {
  return n.reason === "alert" || n.template === "cease_harm";
}

export function waitingOnMe(n) {
  return n.needs_answer && !ANSWERED.has(n.status);
}

function alertText(a) {
  if (a.kind === "proximity") {
    return `loss of separation predicted in ${duration(a.cpa_time_s)}: ` +
      `${metres(a.cpa_distance_m)} apart, ${metres(Math.abs(a.cpa_vertical_m ?? 0))} vertically`;
  }
  if (a.kind === "incursion") {
    return a.time_to_s ? `entry predicted in ${duration(a.time_to_s)}` : "inside the area now";
  }
  return "observed outside its declared area";
}

export function renderAlerts(list, alerts, names) {
  if (!alerts.length) {
    list.innerHTML = '<li class="muted">No open alerts.</li>';
    return;
  }
  list.innerHTML = alerts.map((a) => {
    const tracks = a.tracks.map((t) => `${esc(names(t.party))}: ${esc(t.key)}`).join(", ");
    return `<li class="card alert" data-alert="${esc(a.key)}">
      <h3>${flagHtml("alert", "urgent")}${esc(words(a.kind))}${a.contingent ? " " + flagHtml("contingent", "urgent") : ""}</h3>
      <div>${esc(alertText(a))}</div>
      <div class="meta">${tracks}${a.since ? ` · since ${utc(a.since)}` : ""}</div>
    </li>`;
  }).join("");
}

function flags(n) {
  let out = "";
  if (isUrgent(n)) out += flagHtml("urgent");
  if (n.late) out += flagHtml("late");
  if (n.insufficient) out += flagHtml("insufficient notice", "insufficient");
  if (n.reason === "conflict" || n.conflict_id) out += flagHtml("conflict");
  return out;
}

function answer(n) {
  if (n.status === "acknowledged") return `${flagHtml("acknowledged", "ok")} at ${utc(n.answered_at)}`;
  if (n.status === "objected") return `${flagHtml("objected", "conflict")} “${esc(n.objection)}”`;
  if (n.status === "expired") return `${flagHtml("expired", "overdue")} at ${utc(n.expired_at)}`;
  if (n.status === "superseded") return "superseded by a newer notice";
  return "";
}

export function renderNotices(list, notices, { names, canAnswer, openOnly }) {
  const shown = openOnly ? notices.filter(waitingOnMe) : notices;
  if (!shown.length) {
    list.innerHTML = `<li class="muted">${openOnly ? "Nothing is waiting on you." : "No notices."}</li>`;
    return;
  }
  list.innerHTML = shown.map((n) => {
    const waiting = waitingOnMe(n);
    const from = n.owner ? names(n.owner) : "the hub";
    const message = n.text ? `<blockquote>${esc(n.text)}</blockquote>` : "";
    const template = n.template && n.template !== "free_text" ? ` (${esc(words(n.template))})` : "";
    const countdown = waiting
      ? `<span class="countdown" data-deadline="${esc(n.deadline)}"></span>` : "";
    const buttons = waiting && canAnswer ? `
        <button type="button" class="primary" data-act="ack" data-id="${esc(n.id)}">Acknowledge</button>
        <button type="button" data-act="object" data-id="${esc(n.id)}" aria-expanded="false">Object…</button>` : "";
    const link = n.activity_id
      ? `<button type="button" class="linkish" data-act="open" data-activity="${esc(n.activity_id)}">Show activity</button>` : "";
    return `<li class="card ${isUrgent(n) ? "urgent-item" : n.late ? "other" : ""} ${waiting ? "" : "done"}"
        data-notice="${esc(n.id)}" data-status="${esc(n.status)}">
      <h3>${flags(n)}${esc(words(n.reason))}${template} — from ${esc(from)}</h3>
      <div>${esc(n.summary)}</div>${message}
      <div class="meta">sent ${utc(n.sent_at)} · lead time ${duration(n.lead_time_s)}
        (policy ${duration(n.required_lead_time_s)}) · starts ${utc(n.starts_at)}
        · <span class="status">${esc(n.status)}</span>${n.level ? ` · escalated to level ${n.level}` : ""}</div>
      <div>${answer(n)} ${countdown}</div>
      <div class="actions">${buttons}${link}</div>
      <form class="object-form" data-id="${esc(n.id)}" hidden>
        <label for="why-${esc(n.id)}">Why do you object? (the owner sees this at once)</label>
        <textarea id="why-${esc(n.id)}" rows="2" maxlength="2000" required></textarea>
        <div class="row"><button type="submit" class="danger">Send objection</button></div>
      </form>
    </li>`;
  }).join("");
  tickCountdowns(list);
}

export function tickCountdowns(root) {
  const now = Date.now();
  for (const el of root.querySelectorAll(".countdown")) {
    const left = (new Date(el.dataset.deadline).getTime() - now) / 1000;
    if (left <= 0) {
      el.textContent = "answer OVERDUE";
      el.classList.add("overdue");
    } else {
      el.textContent = `answer due in ${clock(left)}`;
    }
  }
}
