import type { IncomingMessage } from "node:http";
import { INTERACTION_ID } from "../http/interaction-id.js";
import { HOP_BY_HOP, connectionTokens } from "./sanitize.js";

/** Other proxies' claims about the client address: spoofable, so discarded when the edge is the trust boundary. */
const CLIENT_ADDRESS_CLAIMS: ReadonlySet<string> = new Set(["x-real-ip", "true-client-ip", "x-client-ip", "cf-connecting-ip", "fastly-client-ip"]);

/** Request fields the edge sets itself (or that must not reach undici), never copied from the client. */
const SET_BY_EDGE: ReadonlySet<string> = new Set([
  "host",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "forwarded",
  "expect",
  INTERACTION_ID,
]);

/** What {@link requestHeaders} needs of a forwarded request. */
export interface FieldSource {
  readonly incoming: IncomingMessage;
  readonly interactionId: string;
  readonly identityHeaders: readonly string[];
  readonly strip: (lowerName: string) => boolean;
  readonly xForwardedFor: "replace" | "append";
  /** The response will be rewritten (signed): the backend must send it unencoded. */
  readonly rewrite?: unknown;
}

/**
 * The size of the request head undici will send: request line, the fields, and what undici adds itself (`host`,
 * `connection`, and `content-length` or `transfer-encoding`: at most ~70 bytes besides the host).
 */
export function upstreamHeadBytes(method: string, path: string, headers: readonly string[], host: string): number {
  let n = method.length + 1 + Buffer.byteLength(path) + " HTTP/1.1\r\n".length + "host: \r\n".length + host.length + 70 + 2;
  for (let i = 0; i < headers.length; i += 2) n += Buffer.byteLength(headers[i]!) + 2 + Buffer.byteLength(headers[i + 1]!) + 2;
  return n;
}

/**
 * The request's fields for the backend, which always speaks HTTP/1.1. From an HTTP/2 request (RFC 9113 §8.3): the
 * pseudo-header fields are not fields and are dropped (`:method` and `:path` make the request line, `:authority`
 * is the client's host, sent as `X-Forwarded-Host` like an HTTP/1.1 `Host`), and `Cookie` fields, which HTTP/2 may
 * split, are joined into one with "; " (§8.2.3). Connection-specific fields cannot arrive over HTTP/2 (§8.2.2).
 */
export function requestHeaders(req: FieldSource): string[] {
  const raw = req.incoming.rawHeaders;
  const listed = connectionTokens(req.incoming.headers.connection);
  const h2 = req.incoming.httpVersionMajor === 2;
  const out: string[] = [];
  let cookies: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (h2 && name.charCodeAt(0) === 0x3a) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || SET_BY_EDGE.has(lower) || listed?.has(lower) || req.strip(lower)) continue;
    // A response the edge rewrites must come unencoded (RFC 9110 §12.5.3: no Accept-Encoding, identity only).
    if (req.rewrite && lower === "accept-encoding") continue;
    if (req.xForwardedFor === "replace" && CLIENT_ADDRESS_CLAIMS.has(lower)) continue;
    if (h2 && lower === "cookie") (cookies ??= []).push(raw[i + 1]!);
    else out.push(name, raw[i + 1]!);
  }
  if (cookies) out.push("cookie", cookies.join("; "));
  const peer = req.incoming.socket.remoteAddress ?? "";
  const prior = req.incoming.headers["x-forwarded-for"];
  out.push("x-forwarded-for", req.xForwardedFor === "append" && prior ? `${prior}, ${peer}` : peer);
  out.push("x-forwarded-proto", "https");
  const host = h2 ? (req.incoming.headers[":authority"] as string | undefined) ?? req.incoming.headers.host : req.incoming.headers.host;
  if (host) out.push("x-forwarded-host", host);
  out.push(INTERACTION_ID, req.interactionId);
  for (const v of req.identityHeaders) out.push(v);
  return out;
}

/**
 * The backend's response fields for the client: hop-by-hop fields and those the edge strips removed, the request's
 * interaction id set.
 */
export function responseHeaders(headers: Record<string, string | string[] | undefined>, interactionId: string, strip: (lowerName: string) => boolean): string[] {
  const connection = headers.connection;
  const listed = connectionTokens(Array.isArray(connection) ? connection.join(",") : connection);
  const out: string[] = [];
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || listed?.has(name) || strip(name) || name === INTERACTION_ID) continue;
    const value = name === "vary" ? varyForClient(headers[name]) : headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  // FAPI 1 Part 1 §6.2.1: the response carries the request's interaction id.
  out.push(INTERACTION_ID, interactionId);
  return out;
}

/**
 * RFC 9440 §2.4: a response selected by `Client-Cert` must not be cached for another client; the TTRP that
 * sets the field "SHOULD" turn `Vary: Client-Cert` (or `Client-Cert-Chain`) into `Vary: *`.
 */
function varyForClient(value: string | string[] | undefined): string | string[] | undefined {
  if (value === undefined) return value;
  const joined = Array.isArray(value) ? value.join(",") : value;
  return /(^|,)\s*client-cert(-chain)?\s*(,|$)/i.test(joined) ? "*" : value;
}

