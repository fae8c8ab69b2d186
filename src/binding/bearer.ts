import type { IncomingMessage } from "node:http";
import { EdgeError, type EdgeErrorCode } from "../errors.js";

/** RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** What the `Authorization` header holds, as far as bearer-token use is concerned. */
export type Authorization =
  | { readonly kind: "none" }
  /** Another scheme (`Basic`, `DPoP`, …): not a bearer token (RFC 6750 §2.1, RFC 9449 §7.1). */
  | { readonly kind: "other"; readonly scheme: string }
  | { readonly kind: "bearer"; readonly token: string };

/**
 * Reads the `Authorization` request header (RFC 6750 §2.1, RFC 9110 §11.6.2). Node keeps only the first of
 * repeated `Authorization` fields in `headers`, so the raw list is read: two of them is "more than one
 * method" (§3.1, 400 invalid_request), as is a malformed or oversized credential.
 */
export function readAuthorization(incoming: IncomingMessage, maxTokenLength: number): Authorization {
  const raw = incoming.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 13 || name.toLowerCase() !== "authorization") continue;
    if (value !== undefined) throw requestInvalid("more than one Authorization header");
    value = raw[i + 1]!;
  }
  if (value === undefined || value === "") return { kind: "none" };
  const space = value.indexOf(" ");
  const scheme = space < 0 ? value : value.slice(0, space);
  // RFC 9110 §11.1: the scheme name is case-insensitive ("bEARER" is Bearer).
  if (scheme.toLowerCase() !== "bearer") return { kind: "other", scheme: /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}$/.test(scheme) ? scheme : "(unrecognised)" };
  if (space < 0) throw requestInvalid("Bearer credentials without a token");
  const token = value.slice(space + 1).replace(/^ +/, "");
  if (token.length > maxTokenLength) throw requestInvalid(`bearer token longer than ${maxTokenLength} characters`);
  if (!B64TOKEN.test(token)) throw requestInvalid("bearer token is not an RFC 6750 b64token");
  return { kind: "bearer", token };
}

/** RFC 6750 §2.3 (and FAPI 1 Part 1 §6.2.1): whether the query string carries an `access_token` parameter. */
export function queryHasAccessToken(url: string): boolean {
  const q = url.indexOf("?");
  if (q < 0) return false;
  const query = url.slice(q + 1);
  // Cheap pre-check before parsing: the name may be percent-encoded (`access%5Ftoken`).
  if (!/access(_|%5f)token/i.test(query)) return false;
  return new URLSearchParams(query).has("access_token");
}

/** RFC 6750 §2.2: a form-encoded body may carry `access_token`; only such bodies need reading. */
export function isFormEncoded(incoming: IncomingMessage): boolean {
  const type = incoming.headers["content-type"];
  if (type === undefined) return false;
  const semi = type.indexOf(";");
  return (semi < 0 ? type : type.slice(0, semi)).trim().toLowerCase() === "application/x-www-form-urlencoded";
}

export function formHasAccessToken(body: Buffer): boolean {
  return new URLSearchParams(body.toString("utf8")).has("access_token");
}

function requestInvalid(detail: string): EdgeError {
  return new EdgeError("TOKEN_REQUEST_INVALID", "binding", detail);
}

/** The typographic characters the edge's messages use, in ASCII words. */
const ASCII_SPELLING: Readonly<Record<string, string>> = { "§": "section ", "…": "...", "—": "-", "–": "-", "→": "->", "≥": ">=", "≤": "<=", "‘": "'", "’": "'", "“": "'", "”": "'" };

/**
 * RFC 6750 §3: `error_description` characters are limited to %x20-21 / %x23-5B / %x5D-7E (and RFC 9110 §5.5 leaves
 * anything beyond ASCII in a field value to the recipient's guess). The edge's messages are spelled in ASCII words
 * (`RFC 8705 section 3`), accents dropped (`São` → `Sao`); what is left outside the range becomes `?`.
 */
function descriptionText(detail: string): string {
  return detail
    .replace(/[§…—–→≥≤‘’“”]/g, (c) => ASCII_SPELLING[c] ?? "?")
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/ {2,}/g, " ")
    .replace(/"/g, "'")
    .replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, "?")
    .slice(0, 200);
}

/** The RFC 6750 §3.1 error for an edge reason code; null for "no credentials" (a challenge without error). */
export function bearerErrorFor(code: EdgeErrorCode): "invalid_request" | "invalid_token" | "insufficient_scope" | null {
  if (code === "TOKEN_MISSING") return null;
  if (code === "TOKEN_REQUEST_INVALID") return "invalid_request";
  if (code === "TOKEN_SCOPE_INSUFFICIENT") return "insufficient_scope";
  return "invalid_token";
}

/**
 * The `WWW-Authenticate` value (RFC 6750 §3): `Bearer` and quoted auth-params, each at most once. A request
 * without credentials gets no `error`.
 */
export function bearerChallenge(options: { realm?: string | undefined; code: EdgeErrorCode; detail?: string; scope?: readonly string[] }): string {
  const params: string[] = [];
  if (options.realm !== undefined) params.push(`realm="${options.realm}"`);
  const error = bearerErrorFor(options.code);
  if (error !== null) {
    params.push(`error="${error}"`);
    if (options.detail) params.push(`error_description="${descriptionText(options.detail)}"`);
    if (error === "insufficient_scope" && options.scope && options.scope.length > 0) params.push(`scope="${options.scope.join(" ")}"`);
  }
  return params.length === 0 ? "Bearer" : `Bearer ${params.join(", ")}`;
}
