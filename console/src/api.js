// Calls to the transcoding API (api.md), each signed in the browser with the key kept in sessionStorage.
import { signedHeaders } from "./signing.js";

const KEY_ITEM = "transcoder.access-key";

/** The key pair of this browser tab: sessionStorage only, gone when the tab closes. */
export function storedKey() {
  const text = sessionStorage.getItem(KEY_ITEM);
  return text ? JSON.parse(text) : null;
}

export function storeKey(accessKeyId, secretAccessKey) {
  sessionStorage.setItem(KEY_ITEM, JSON.stringify({ accessKeyId, secretAccessKey }));
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_ITEM);
}

/**
 * Where the API is, seen from this page: the console is served at <base>/console/ (API Gateway's stage,
 * then /console) or at / (local mode), and the API at <base>/api/.
 */
export function apiBase() {
  const path = window.location.pathname;
  const at = path.indexOf("/console");
  return at >= 0 ? path.slice(0, at + 1) : "/";
}

export class ApiError extends Error {
  constructor(code, msg, status) {
    super(`${msg} (code ${code})`);
    this.code = code;
    this.status = status;
  }
}

/** One API call; resolves to the envelope's `data`, rejects with ApiError for any code but 0. */
export async function call(method, name, params = {}, key = storedKey()) {
  if (!key) throw new ApiError(1003, "not signed in", 401);
  const path = `/api/${name}`;
  const query = [];
  let body = null;
  if (method === "GET") {
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") query.push([k, String(v)]);
  } else {
    body = new TextEncoder().encode(JSON.stringify(params));
  }
  const headers = await signedHeaders({ ...key, method, path, query, body });
  // encodeURIComponent (spaces as %20): the server signs the decoded values, and '+' would stay a '+'.
  const search = query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  const url = `${apiBase()}api/${name}${search ? `?${search}` : ""}`;
  const response = await fetch(url, { method, headers, body, cache: "no-store" });
  let envelope;
  try {
    envelope = await response.json();
  } catch {
    throw new ApiError(1000, `HTTP ${response.status} without the API's envelope`, response.status);
  }
  if (envelope.code !== 0) throw new ApiError(envelope.code, envelope.msg || envelope.message || "error", response.status);
  return envelope.data;
}
