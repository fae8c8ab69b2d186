import { createHash } from "node:crypto";

/**
 * Claims that belong to one signature of a message, not to the message: OFB requires every new request — a retry
 * included — to be signed again with a new `jti` and `iat` (OFB "Idempotência": "Toda nova requisição exige que a
 * assinatura da mensagem seja refeita, contendo um novo jti e iat"); `exp` and `nbf` (RFC 7519 §4.1.4, §4.1.5) move
 * with `iat` when a signer adds them.
 */
const SIGNING_CLAIMS: ReadonlySet<string> = new Set(["jti", "iat", "exp", "nbf"]);

/** A JWS compact serialisation's parts are base64url (RFC 7515 §7.1); the payload part is checked, then decoded. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const DOT = 0x2e;

/**
 * What makes two requests with one key "the same request" (draft-ietf-httpapi-idempotency-key-header-04 §2.4, an
 * idempotency fingerprint): the method, the request target and the body. For a signed body (`application/jwt`, a
 * compact JWS) the body is its payload without the signing claims, compared as JSON — OFB compares the repeat's
 * `data` claim with the original's ("com a claim data do JWT com conteúdo idêntico ao da requisição original"), and
 * `aud`/`iss` stay the same for the same endpoint and caller. Any other body is compared byte for byte.
 *
 * `verifiedClaims`: the payload of `body` when the message signature was verified (the same fingerprint, without
 * decoding the body again). Returns SHA-256 over those parts, base64url: the store keeps only this, never the body.
 */
export function requestFingerprint(method: string, target: string, contentType: string | undefined, body: Buffer, verifiedClaims?: Readonly<Record<string, unknown>>): string {
  // The claims of a message the signature stage verified are this body's payload, already decoded and parsed.
  const payload = verifiedClaims !== undefined ? canonicalJson(verifiedClaims, SIGNING_CLAIMS) : isJwt(contentType) ? signedPayload(body) : null;
  const hash = createHash("sha256").update(`${method} ${target}\n`);
  if (payload !== null) hash.update("jws-payload\n").update(payload);
  else hash.update("bytes\n").update(body);
  return hash.digest("base64url");
}

function isJwt(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === "application/jwt";
}

/**
 * The canonical JSON of a compact JWS's payload object without the signing claims, or null when the body is not
 * three dot-separated parts with a base64url payload holding a JSON object. (Found by the dots in the bytes: no copy
 * of the header and signature parts, which do not take part.)
 */
function signedPayload(body: Buffer): string | null {
  const first = body.indexOf(DOT);
  const second = first < 0 ? -1 : body.indexOf(DOT, first + 1);
  if (first <= 0 || second < 0 || body.indexOf(DOT, second + 1) >= 0) return null;
  const part = body.toString("latin1", first + 1, second);
  if (!BASE64URL.test(part)) return null;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) return null;
  return canonicalJson(claims, SIGNING_CLAIMS);
}

/**
 * JSON with object members sorted by name (UTF-16 code units, as `Array#sort` compares strings) at every depth: a
 * re-signed payload serialised in another order compares equal. `skip`: member names left out of the outermost
 * object.
 */
export function canonicalJson(value: unknown, skip?: ReadonlySet<string>): string {
  if (typeof value !== "object" || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + canonicalJson(value[i]);
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  let out = "{";
  let empty = true;
  for (const name of Object.keys(object).sort()) {
    if (skip?.has(name)) continue;
    out += `${empty ? "" : ","}${JSON.stringify(name)}:${canonicalJson(object[name])}`;
    empty = false;
  }
  return `${out}}`;
}
