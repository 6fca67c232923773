// The hub's HTTP API as the console uses it: bearer token, JSON, RFC 9457 problem details.

export class ApiError extends Error {
  constructor(status, problem) {
    const detail = problem?.detail || problem?.title || `HTTP ${status}`;
    const fields = (problem?.errors || []).map((e) => `${e.field}: ${e.reason}`).join("; ");
    super(fields ? `${detail} (${fields})` : detail);
    this.status = status;
    this.problem = problem;
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async request(method, path, { body, headers = {}, raw = false } = {}) {
    const init = { method, headers: { Authorization: `Bearer ${this.token}`, ...headers } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (err) {
      throw new ApiError(0, { detail: `the hub cannot be reached (${err.message})` });
    }
    if (!res.ok) {
      let problem = null;
      try {
        problem = await res.json();
      } catch {
        problem = { detail: `${res.status} ${res.statusText}` };
      }
      throw new ApiError(res.status, problem);
    }
    if (raw) return res;
    if (res.status === 204) return null;
    return res.json();
  }

  get(path) { return this.request("GET", path); }
  post(path, body, headers) { return this.request("POST", path, { body, headers }); }
  put(path, body, headers) { return this.request("PUT", path, { body, headers }); }
}

export async function publicConfig() {
  const res = await fetch("/console/config.json");
  if (!res.ok) throw new ApiError(res.status, { detail: "the console's settings cannot be read" });
  return res.json();
}

export function idempotencyKey() {
  return crypto.randomUUID();
}
