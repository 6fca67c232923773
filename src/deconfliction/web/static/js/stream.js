// The party's event stream (/v1/stream): authenticated by a first {"token"} message, resumed
// with ?since=SEQ after any drop, each event confirmed as delivered once the console has it.

const SEQ_KEY = "deconfliction.seq";

export class EventStream {
  constructor(token, { onEvent, onStatus }) {
    this.token = token;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.lastSeq = Number(sessionStorage.getItem(SEQ_KEY) || 0);
    this.confirmed = this.lastSeq;
    this.ws = null;
    this.retry = 500;
    this.closed = false;
    this.confirmTimer = null;
  }

  start() {
    if (this.closed) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/v1/stream?since=${this.lastSeq}`);
    this.ws = ws;
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ token: this.token }));
      this.retry = 500;
      this.onStatus("live", true);
    });
    ws.addEventListener("message", (msg) => this.receive(msg.data));
    ws.addEventListener("close", (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closed) return;
      if (ev.code === 1008 && /since/.test(ev.reason)) {
        // The hub does not know our seq (another hub, or its store was reset): start over.
        this.lastSeq = 0;
        this.confirmed = 0;
      }
      this.onStatus(`reconnecting (${ev.reason || "connection lost"})`, false);
      setTimeout(() => this.start(), this.retry);
      this.retry = Math.min(this.retry * 2, 15000);
    });
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.type === "heartbeat") {
      this.send({ type: "heartbeat" });
      return;
    }
    if (msg.type === "error") {
      console.warn("stream:", msg.detail);
      return;
    }
    if (typeof msg.seq !== "number" || msg.seq <= this.lastSeq) return;
    this.lastSeq = msg.seq;
    sessionStorage.setItem(SEQ_KEY, String(this.lastSeq));
    this.onEvent(msg);
    this.scheduleConfirm();
  }

  // Confirm receipt in batches: one message for a burst of events.
  scheduleConfirm() {
    if (this.confirmTimer) return;
    this.confirmTimer = setTimeout(() => {
      this.confirmTimer = null;
      if (this.lastSeq > this.confirmed && this.send({ type: "delivered", seq: this.lastSeq })) {
        this.confirmed = this.lastSeq;
      }
    }, 150);
  }

  send(obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  stop() {
    this.closed = true;
    if (this.ws) this.ws.close();
    sessionStorage.removeItem(SEQ_KEY);
  }
}
