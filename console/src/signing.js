// The request signature of api.md ("Authentication"), computed in the browser: HMAC-SHA1 with WebCrypto,
// the body's MD5 with @noble/hashes (WebCrypto has no MD5). Mirrors client/transcoder_client/signing.py.
//
// Browsers never let a page set the Date header (a forbidden request header), so the console sends the
// date as X-WZ-Date (ext): the server reads it in Date's place, and it is also signed as an x-wz-* header.
import { md5 } from "@noble/hashes/legacy.js";

export const SCHEME = "Visionular";
const encoder = new TextEncoder();

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

/** Upper-case hex MD5 of the body, as Content-MD5 carries it. */
export function contentMd5(body) {
  return hex(md5(body)).toUpperCase();
}

// Python sorts strings by code point; JavaScript's < compares UTF-16 units: compare as Python does.
function compareCodePoints(a, b) {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

function comparePairs([n1, v1], [n2, v2]) {
  return compareCodePoints(n1, n2) || compareCodePoints(v1, v2);
}

export function canonicalHeaders(headers) {
  return Object.entries(headers)
    .map(([name, value]) => [name.trim().toLowerCase(), String(value).trim()])
    .filter(([name]) => name.startsWith("x-wz-"))
    .sort(comparePairs)
    .map(([name, value]) => `${name}:${value}`)
    .join("\n");
}

/** The path, plus the query pairs (as the server decodes them) sorted by name. */
export function canonicalResource(path, query) {
  const pairs = [...query].sort(comparePairs);
  if (pairs.length === 0) return path;
  return `${path}?${pairs.map(([name, value]) => `${name}=${value}`).join("&")}`;
}

export function stringToSign({ method, contentMd5: md5Hex, contentType, date, headers, path, query }) {
  return [method.toUpperCase(), md5Hex, contentType, date, canonicalHeaders(headers), canonicalResource(path, query)].join(
    "\n",
  );
}

export async function signature(secretAccessKey, text) {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secretAccessKey), { name: "HMAC", hash: "SHA-1" }, false, [
    "sign",
  ]);
  return base64(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text))));
}

function nonce() {
  return hex(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * The headers that sign one request: Authorization, X-WZ-Date, X-WZ-Nonce and, with a body, Content-MD5
 * and Content-Type. `body` is the exact bytes sent (a Uint8Array) or null.
 */
export async function signedHeaders({ accessKeyId, secretAccessKey, method, path, query = [], body = null, date }) {
  const headers = { "X-WZ-Date": date || new Date().toUTCString(), "X-WZ-Nonce": nonce() };
  let md5Hex = "";
  let contentType = "";
  if (body && body.length) {
    md5Hex = contentMd5(body);
    contentType = "application/json";
    headers["Content-MD5"] = md5Hex;
    headers["Content-Type"] = contentType;
  }
  const text = stringToSign({
    method,
    contentMd5: md5Hex,
    contentType,
    date: headers["X-WZ-Date"],
    headers: { "X-WZ-Date": headers["X-WZ-Date"], "X-WZ-Nonce": headers["X-WZ-Nonce"] },
    path,
    query,
  });
  headers.Authorization = `${SCHEME} AccessKeyId=${accessKeyId}, Signature=${await signature(secretAccessKey, text)}`;
  return headers;
}
