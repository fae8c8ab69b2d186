import { createHash } from "node:crypto";

/**
 * Claims that belong to one signature of a message, not to the message: OFB requires every new request — a retry
 * included — to be signed again with a new `jti` and `iat` (OFB "Idempotência": "Toda nova requisição exige que a
 * assinatura da mensagem seja refeita, contendo um novo jti e iat"); `exp` and `nbf` (RFC 7519 §4.1.4, §4.1.5) move
 * with `iat` when a signer adds them.
 */
const SIGNING_CLAIMS: ReadonlySet<string> = new Set(["jti", "iat", "exp", "nbf"]);

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$/;

/**
 * What makes two requests with one key "the same request" (draft-ietf-httpapi-idempotency-key-header-04 §2.4, an
 * idempotency fingerprint): the method, the request target and the body. For a signed body (`application/jwt`, a
 * compact JWS) the body is its payload without the signing claims, compared as JSON — OFB compares the repeat's
 * `data` claim with the original's ("com a claim data do JWT com conteúdo idêntico ao da requisição original"), and
 * `aud`/`iss` stay the same for the same endpoint and caller. Any other body is compared byte for byte.
 *
 * Returns SHA-256 over those parts, base64url: the store keeps only this, never the body.
 */
export function requestFingerprint(method: string, target: string, contentType: string | undefined, body: Buffer): string {
  const payload = isJwt(contentType) ? signedPayload(body) : null;
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

/** The canonical JSON of a compact JWS's payload object without the signing claims, or null when it is not one. */
function signedPayload(body: Buffer): string | null {
  const m = COMPACT_JWS.exec(body.toString("latin1").trim());
  if (!m) return null;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(m[1]!, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) return null;
  const kept = Object.fromEntries(Object.entries(claims).filter(([name]) => !SIGNING_CLAIMS.has(name)));
  return canonicalJson(kept);
}

/** JSON with object members sorted by name at every depth: a re-signed payload serialised in another order compares equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
