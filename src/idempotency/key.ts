import type { IncomingHttpHeaders } from "node:http";

/** The request header that carries the key (OFB payments OpenAPI, parameter XIdempotencyKey). */
export const IDEMPOTENCY_KEY = "x-idempotency-key";

/** OFB payments OpenAPI, XIdempotencyKey: `maxLength: 40`. */
export const MAX_KEY_LENGTH = 40;

/**
 * OFB payments OpenAPI, XIdempotencyKey: `minLength: 1`, `maxLength: 40`, `pattern: ^(?!\s)(.*)(\S)$` (no leading or
 * trailing white space). Restricted further to visible ASCII and inner spaces: a header field value carries no
 * control characters (RFC 9110 §5.5), and a key is an identifier the TPP generates (a UUID in practice).
 */
const KEY = /^[\x21-\x7e]([\x20-\x7e]{0,38}[\x21-\x7e])?$/;

/** The key of a request, or why there is none to use. */
export type KeyReading = { readonly ok: true; readonly key: string } | { readonly ok: false; readonly code: "IDEMPOTENCY_KEY_MISSING" | "IDEMPOTENCY_KEY_INVALID"; readonly detail: string };

/** Reads `x-idempotency-key`: exactly one field (draft-ietf-httpapi-idempotency-key-header-04 §2.1), of the OFB shape. */
export function readIdempotencyKey(headers: IncomingHttpHeaders, rawHeaders: readonly string[]): KeyReading {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.length === IDEMPOTENCY_KEY.length && rawHeaders[i]!.toLowerCase() === IDEMPOTENCY_KEY) count++;
  const value = headers[IDEMPOTENCY_KEY];
  if (count === 0 || value === undefined) return { ok: false, code: "IDEMPOTENCY_KEY_MISSING", detail: "this operation requires the x-idempotency-key header" };
  if (count > 1) return { ok: false, code: "IDEMPOTENCY_KEY_INVALID", detail: "x-idempotency-key sent more than once" };
  const key = Array.isArray(value) ? value[0]! : value;
  if (!KEY.test(key)) return { ok: false, code: "IDEMPOTENCY_KEY_INVALID", detail: `x-idempotency-key must be 1 to ${MAX_KEY_LENGTH} visible ASCII characters, without leading or trailing white space` };
  return { ok: true, key };
}
