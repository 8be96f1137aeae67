// api.js - the dashboard's only way to the server: the API token, GET with
// `Authorization: Bearer`, the server's route list, and errors as ApiError.

const TOKEN_KEY = "fora.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// An error document of the API ({"error": {code, message, detail}}) or a
// network failure (status 0).
export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

// GET path?params as JSON.
export async function get(path, params = {}) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== "") query.set(k, String(v));
  const url = query.toString() ? `${path}?${query}` : path;
  let resp;
  try {
    resp = await fetch(url, { headers: { Authorization: `Bearer ${token() || ""}` } });
  } catch (e) {
    throw new ApiError(0, "network", `the server did not answer (${e.message})`, null);
  }
  const body = await resp.json().catch(() => null);
  if (!resp.ok) {
    const err = body && body.error ? body.error : {};
    throw new ApiError(resp.status, err.code || "http", err.message || `HTTP ${resp.status}`,
                       err.detail || null);
  }
  return body;
}

let routeSet = null;

// The route patterns this server answers (GET /v1/routes), fetched once.
export async function loadRoutes() {
  const doc = await get("/v1/routes");
  routeSet = new Set(doc.items.filter((r) => r.method === "GET").map((r) => r.pattern));
  return routeSet;
}

// Whether the server has the GET route pattern, e.g. "/v1/forums/{forum}/activity/heatmap".
export function hasRoute(pattern) {
  return routeSet !== null && routeSet.has(pattern);
}

// The path of a forum route: forumPath("beer", "members", "x") = "/v1/forums/beer/members/x".
export function forumPath(forum, ...parts) {
  return "/v1/forums/" + [forum, ...parts].map(encodeURIComponent).join("/");
}
